"""Title, header and footer lines of office exports, told apart by connectors/layout.py."""

from __future__ import annotations

import pytest

from countyhub.connectors.layout import footer_reason, header_index

TITLE_BLOCK = [
    ["XX县民政局最低生活保障对象名册（2024年度）", None, None, None, None, None, None],
    ["填报单位：XX县民政局", "", "", "", "", "", ""],
    ["序号", "姓名", "身份证号", "家庭人口", "保障类别", "月发放金额", "所属乡镇"],
    ["1", "张三", "511724199901010013", "3", "A类", "560", "竹阳街道"],
]


def test_the_header_is_the_first_line_filled_like_one() -> None:
    assert header_index(TITLE_BLOCK) == 2
    assert header_index(TITLE_BLOCK[2:]) == 0
    assert header_index([]) == 0


@pytest.mark.parametrize(("cells", "reason"), [
    (["合计", "", "", "", "", "1040", ""], "footer: 合计"),
    (["总计：", "", "", "", "", "", ""], "footer: 总计"),
    (["制表人：王五", "", "", "审核人：赵六", "", "", ""], "footer: 制表人"),
    (["　填报日期：2024年1月5日", None, None], "footer: 填报日期"),
    (["", "", "注：本表由乡镇民政办填报", "", ""], "footer: a line with one filled cell"),
])
def test_footer_lines_are_named(cells: list[str | None], reason: str) -> None:
    assert footer_reason(cells, width=len(cells)) == reason


@pytest.mark.parametrize("cells", [
    ["1", "张三", "511724199901010013", "3", "A类", "560", "竹阳街道"],
    ["审核中", "李四", "511724199901010013"],  # a status value that starts like a footer word
    ["合计人数", "5", "6"],
    ["", "", "", ""],  # blank: skipped by the readers, not a footer
    ["张三", ""],  # one filled cell in a two-column table is data
])
def test_data_lines_are_not_footers(cells: list[str | None]) -> None:
    assert footer_reason(cells, width=len(cells)) is None
