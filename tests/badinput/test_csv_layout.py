"""Bad-input corpus, CSV layout: title blocks, notes, footers and blank lines as county offices export them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from countyhub.connectors import get_connector
from countyhub.connectors.base import RejectList
from countyhub.core.departments import Stream

HEADER = "姓名,身份证号,保障类别,月发放金额"
A = "张三,511724199901010013,A类,560"
B = "李四,511724199901010021,B类,480"
ROW_A = ("张三", "511724199901010013", "A类", "560")
ROW_B = ("李四", "511724199901010021", "B类", "480")


@dataclass
class Case:
    lines: list[str]
    rows: list[tuple[str, ...]]
    skipped: list[tuple[int, str]]  # (line, reason)
    quarantined: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    options: dict[str, object] = field(default_factory=dict)
    encoding: str = "gbk"


CASES = {
    "title block": Case(["XX县民政局低保对象名册（2024年度）", HEADER, A, B], [ROW_A, ROW_B],
                        [(1, "title above the header")]),
    "填报单位 line": Case(["低保对象名册", "填报单位：XX县民政局,,,", HEADER, A], [ROW_A],
                        [(1, "title above the header"), (2, "note above the header")]),
    "two-line title": Case(["XX县民政局", "最低生活保障对象名册", "", "（单位：元）,,,", HEADER, A, B], [ROW_A, ROW_B],
                           [(1, "title above the header"), (2, "title above the header"),
                            (4, "note above the header")]),
    "footer totals": Case([HEADER, A, "小计,,,560", B, "合计,,,1040", "总计：1040"], [ROW_A, ROW_B],
                          [(3, "footer: 小计"), (5, "footer: 合计"), (6, "footer: 总计")]),
    "signature footer": Case([HEADER, A, B, "制表人：王五,,审核人：赵六,", "填报日期：2024年1月5日,负责人：孙七"],
                             [ROW_A, ROW_B], [(4, "footer: 制表人"), (5, "footer: 填报日期")]),
    "trailing blank lines": Case([HEADER, A, B, "", "", "   "], [ROW_A, ROW_B], []),
    "delimiter-only lines": Case([HEADER, A, ",,,", B, ",,,", ",,", ""], [ROW_A, ROW_B], []),
    "notes 注： under the table": Case([HEADER, A, B, "注：1.本表由乡镇民政办填报", "2.金额单位为元,,,"],
                                      [ROW_A, ROW_B], [(4, "footer: a line with one filled cell"),
                                                       (5, "footer: a line with one filled cell")]),
    "header not on line 1, header_row": Case(["单位：元,填报：民政局,,", "", HEADER, A], [ROW_A],
                                             [(1, "note above the header")], options={"header_row": 3}),
    "BOM + title": Case(["\ufeff低保对象名册（2024年度）", HEADER, A], [ROW_A], [(1, "title above the header")],
                        encoding="utf-8"),
    "bad line among footers": Case(["名册", HEADER, A, "张三,511724199901010013", B, "合计,,,1040"], [ROW_A, ROW_B],
                                   [(1, "title above the header"), (6, "footer: 合计")],
                                   [(4, "line has 2 fields, the header has 4")]),
    "quoted multi-line value under a title": Case(
        ["名册", HEADER, '王五,51172419990101003X,"A类\r\n（重点）",300', B, "合计,,,780"],
        [("王五", "51172419990101003X", "A类\r\n（重点）", "300"), ROW_B],
        [(1, "title above the header"), (6, "footer: 合计")], encoding="gb18030"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_office_layouts(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    (tmp_path / "roll_1.csv").write_bytes("\r\n".join(case.lines).encode(case.encoding) + b"\r\n")
    rejects = RejectList()
    connector = get_connector("files")({"path": str(tmp_path)})
    stream = Stream(name="roll", pattern="roll_*.csv", **case.options)
    rows = [tuple(v for k, v in r.items() if k != "_source_file")
            for b in connector.read(stream, rejects=rejects) for r in b.to_pylist()]
    assert rows == case.rows
    assert sorted((s.where, s.reason) for s in rejects.skipped) == sorted(
        (f"roll_1.csv:{line}", reason) for line, reason in case.skipped)
    assert sorted((r.where, r.reason) for r in rejects.rows) == sorted(
        (f"roll_1.csv:{line}", reason) for line, reason in case.quarantined)
