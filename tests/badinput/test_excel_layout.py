"""Bad-input corpus, Excel layout: each drawing with its exact loaded rows, skipped lines and quarantined rows."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from countyhub.connectors import get_connector
from countyhub.connectors.base import RejectList
from countyhub.core.departments import Stream
from tests.fixtures import excel_books as books

FILE = "book_1.xlsx"
STREAM = Stream(name="book", pattern="book_*.xlsx")
ISSUE_SKIPPED = [(f"{FILE}:1", "title above the header", "大竹县2024年秋季小学一年级入学登记表"),
                 (f"{FILE}:2", "title above the header", "填报单位：竹阳街道中心小学"),
                 (f"{FILE}:9", "footer: 制表人", "制表人：王五,,,审核人：赵六")]
SCORES = ["姓名", "语文", "数学", "总分"]


def issue_book(path: Path) -> None:
    book = Workbook()
    books.enrollment_sheet(book.active)
    books.save(book, path)


def hidden_sheet_first(path: Path) -> None:
    book = Workbook()
    book.active.title, book.active.sheet_state = "字典", "hidden"
    book.active.append(["代码", "名称", "备注"])
    book.active.append(["511724001", "竹阳街道", "不是数据"])
    books.enrollment_sheet(book.create_sheet("入学登记"))
    books.save(book, path)


def _scores(rows: list[list], cached: dict[str, str]) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        book = Workbook()
        book.active.append(SCORES)
        for row in rows:
            book.active.append(row)
        books.save(book, path)
        books.cache_formulas(path, cached)
    return build


formulas_with_and_without_cached_values = _scores(
    [["张三", 90, 85, "=SUM(B2:C2)"], ["李四", 80, 70, "=SUM(B3:C3)"]], {"D2": "175"})
total_row_of_uncalculated_sums = _scores(
    [["张三", 90, 85, 175], ["李四", 80, 70, 150], ["合计", "=SUM(B2:B3)", "=SUM(C2:C3)", "=SUM(D2:D3)"]], {})


def three_level_header(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["2024年学生名册"])
    sheet.append(["序号", "学生情况", None, None, None, "备注"])
    sheet.append([None, "儿童信息", None, "监护人信息", None, None])
    sheet.append([None, "姓名", "出生日期", "姓名", "联系电话", None])
    sheet.append([1, "张小明", "2018-05-06", "张三", "13800000001", "转入"])
    for ref in ("A1:F1", "A2:A4", "B2:E2", "F2:F4", "B3:C3", "D3:E3"):
        sheet.merge_cells(ref)
    books.save(book, path)


def groups_without_merged_down_names(path: Path) -> None:
    """Names of single columns in the upper header row, not merged down; only the groups are merged."""
    book = Workbook()
    sheet = book.active
    sheet.append(["序号", "儿童信息", None, "监护人信息", None, "户籍所在地"])
    sheet.append([None, "姓名", "身份证号", "姓名", "联系电话", None])
    sheet.append([1, "张小明", books.CHILDREN[0][2], "张三", "13800000001", "竹阳街道"])
    sheet.merge_cells("B1:C1")
    sheet.merge_cells("D1:E1")
    books.save(book, path)


def title_repeated_in_every_merged_cell(path: Path) -> None:
    """Some tools write the title into every cell of its merged range; it is still one title."""
    book = Workbook()
    sheet = book.active
    sheet.append(["大竹县低保名册"])
    sheet.merge_cells("A1:C1")
    sheet.append(["姓名", "身份证号", "月发放金额"])
    sheet.append(["张三", books.CHILDREN[0][2], 560])
    books.save(book, path)

    def repeat(xml: str) -> str:  # openpyxl empties a merge's other cells when it saves
        xml = re.sub(r'<c r="[BC]1"[^>]*?(?:/>|>.*?</c>)', "", xml)
        title = re.search(r'<c r="A1".*?</c>', xml).group(0)
        return xml.replace(title, title + title.replace('"A1"', '"B1"') + title.replace('"A1"', '"C1"'))

    books.edit_sheets(path, repeat)


def value_beyond_the_header(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "月发放金额"])
    sheet.append(["张三", books.CHILDREN[0][2], 560])
    sheet.append(["李四", books.CHILDREN[1][2], 480, "已核对"])
    books.save(book, path)


def cells_written_by_another_tool(path: Path) -> None:
    """Attributes in another order (t before r) and cells without `r`, as some exporters write them."""
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "月发放金额"])
    sheet.append(["张三", books.CHILDREN[0][2], 560.5])
    books.save(book, path)

    def reorder(xml: str) -> str:
        xml = re.sub(r'<c r="([A-Z]+2)"( s="\d+")? t="(\w+)"', r'<c t="\3"\2 r="\1"', xml)
        return xml.replace(' r="B2"', "")  # B2 follows A2: its position says where it is

    books.edit_sheets(path, reorder)


def notes_above_and_below(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["单位：元"])
    sheet.append([])
    sheet.append(["姓名", "身份证号", "月发放金额"])
    sheet.append(["张三", books.CHILDREN[0][2], 560])
    sheet.append(["注：本表由乡镇民政办填报"])
    sheet.append(["填报日期：2024年1月5日"])
    books.save(book, path)


CASES: dict[str, tuple[Callable[[Path], None], list[str], list[tuple], list[tuple], list[tuple]]] = {
    # kind: (builder, column names, loaded rows, skipped lines, quarantined (where, reason))
    "merged title, group header, names merged down, footer": (
        issue_book, books.ENROLLMENT_NAMES, books.ENROLLMENT_ROWS, ISSUE_SKIPPED, []),
    "a hidden sheet before the data": (
        hidden_sheet_first, books.ENROLLMENT_NAMES, books.ENROLLMENT_ROWS, ISSUE_SKIPPED, []),
    "formulas with and without a cached value": (
        formulas_with_and_without_cached_values, SCORES, [("张三", "90", "85", "175")], [],
        [(f"{FILE}:3", "总分: formula =SUM(B3:C3) has no cached value (open and save the file in Excel)")]),
    "a 合计 row of sums never calculated": (
        total_row_of_uncalculated_sums, SCORES, [("张三", "90", "85", "175"), ("李四", "80", "70", "150")],
        [(f"{FILE}:4", "footer: 合计", "合计")], []),
    "three header levels": (
        three_level_header, ["序号", "学生情况_儿童信息_姓名", "学生情况_儿童信息_出生日期", "学生情况_监护人信息_姓名",
                             "学生情况_监护人信息_联系电话", "备注"],
        [("1", "张小明", "2018-05-06", "张三", "13800000001", "转入")],
        [(f"{FILE}:1", "title above the header", "2024年学生名册")], []),
    "groups merged, single names not merged down": (
        groups_without_merged_down_names, ["序号", "儿童信息_姓名", "儿童信息_身份证号", "监护人信息_姓名",
                                           "监护人信息_联系电话", "户籍所在地"],
        [("1", "张小明", books.CHILDREN[0][2], "张三", "13800000001", "竹阳街道")], [], []),
    "a title repeated in every cell of its merge": (
        title_repeated_in_every_merged_cell, ["姓名", "身份证号", "月发放金额"], [("张三", books.CHILDREN[0][2], "560")],
        [(f"{FILE}:1", "title above the header", "大竹县低保名册,大竹县低保名册,大竹县低保名册")], []),
    "a value beyond the header's columns": (
        value_beyond_the_header, ["姓名", "身份证号", "月发放金额"], [("张三", books.CHILDREN[0][2], "560")], [],
        [(f"{FILE}:3", "row has values beyond the 3 header columns")]),
    "cells written in another attribute order, one without r": (
        cells_written_by_another_tool, ["姓名", "身份证号", "月发放金额"], [("张三", books.CHILDREN[0][2], "560.5")],
        [], []),
    "a unit note above, a note and a date below": (
        notes_above_and_below, ["姓名", "身份证号", "月发放金额"], [("张三", books.CHILDREN[0][2], "560")],
        [(f"{FILE}:1", "title above the header", "单位：元"),
         (f"{FILE}:5", "footer: a line with one filled cell", "注：本表由乡镇民政办填报"),
         (f"{FILE}:6", "footer: 填报日期", "填报日期：2024年1月5日")], []),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_excel_layout(kind: str, tmp_path: Path) -> None:
    build, names, rows, skipped, quarantined = CASES[kind]
    build(tmp_path / FILE)
    connector, rejects = get_connector("files")({"path": str(tmp_path)}), RejectList()
    batches = list(connector.read(STREAM, None, rejects))
    assert connector.schema_of(STREAM).names == [*names, "_source_file"]
    assert [tuple(r[:-1]) for b in batches for r in zip(*b.to_pydict().values(), strict=True)] == rows
    assert [(s.where, s.reason, s.text) for s in rejects.skipped] == skipped
    assert [(r.where, r.reason) for r in rejects.rows] == quarantined
