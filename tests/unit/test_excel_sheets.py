"""Excel sheets as offices draw them, through a load: header names, logged titles and footers, sheet-row quarantine."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook

from countyhub.connectors import get_connector
from countyhub.connectors.base import ConnectorError, RejectList
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake, meta
from countyhub.lakehouse.load import load_stream
from tests.fixtures import excel_books as books

DEPT = Department(code="jyj", name="教育局", name_en="Education", owner={"steward": "qa"})
STREAM = Stream(name="enroll", pattern="enroll_*.xlsx")


def _read(folder: Path, stream: Stream = STREAM) -> tuple[list[str], list[tuple], RejectList]:
    connector, rejects = get_connector("files")({"path": str(folder)}), RejectList()
    batches = list(connector.read(stream, None, rejects))
    names = connector.schema_of(stream).names
    rows = [row for b in batches for row in zip(*b.to_pydict().values(), strict=True)]
    return names, [row[:-1] for row in rows], rejects  # without _source_file


def test_the_issue_workbook_loads_named_columns_and_logs_its_title_and_footer(settings: Settings,
                                                                             tmp_path: Path) -> None:
    book = Workbook()
    books.enrollment_sheet(book.active)
    books.save(book, tmp_path / "enroll_1.xlsx")
    result = load_stream(Lake(settings), DEPT, STREAM, get_connector("files")({"path": str(tmp_path)}))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_skipped) == (3, 3, 0, 3)
    with Lake(settings).reader() as con:
        columns = [c[0] for c in con.execute("DESCRIBE raw_jyj.enroll").fetchall()]
        rows = con.execute(f"SELECT {', '.join(books.ENROLLMENT_NAMES)} FROM raw_jyj.enroll ORDER BY 序号").fetchall()
        skipped = [(s.location, s.reason, s.line) for s in meta.skipped_lines(con, "jyj", "enroll")]
    assert columns[:7] == books.ENROLLMENT_NAMES
    assert rows == books.ENROLLMENT_ROWS
    assert skipped == [("enroll_1.xlsx:1", "title above the header", "大竹县2024年秋季小学一年级入学登记表"),
                       ("enroll_1.xlsx:2", "title above the header", "填报单位：竹阳街道中心小学"),
                       ("enroll_1.xlsx:9", "footer: 制表人", "制表人：王五,,,审核人：赵六")]


def test_rows_a_rule_rejects_are_located_at_their_sheet_row_past_titles_footers_and_formulas(
        settings: Settings, tmp_path: Path) -> None:
    children = [*books.CHILDREN]
    children.insert(1, (9, "赵小花", "=A7&B7", None, "赵六", "13800000009", "观音镇"))  # row 6: formula, no value
    children[2] = (*children[2][:2], children[2][2][:16], *children[2][3:])  # row 7: two digits short
    book = Workbook()
    books.enrollment_sheet(book.active, children)
    books.save(book, tmp_path / "enroll_1.xlsx")
    result = load_stream(Lake(settings), DEPT, STREAM, get_connector("files")({"path": str(tmp_path)}))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_skipped) == (4, 2, 2, 3)
    with Lake(settings).reader() as con:
        quarantined = con.execute("SELECT location, reason FROM quarantine.jyj__enroll ORDER BY location").fetchall()
        loaded = con.execute("SELECT 序号 FROM raw_jyj.enroll ORDER BY 序号").fetchall()
    assert quarantined[0] == ("enroll_1.xlsx:6", ("儿童信息_身份证号: formula =A7&B7 has no cached value (open and save "
                                                 "the file in Excel)"))
    assert quarantined[1][0] == "enroll_1.xlsx:7"
    assert quarantined[1][1] == f"儿童信息_身份证号: {books.CHILDREN[1][2][:16]!r} is not an 18-character resident ID number"
    assert loaded == [("1",), ("3",)]


def test_the_first_visible_sheet_is_read_a_hidden_one_only_by_name(tmp_path: Path) -> None:
    book = Workbook()
    notes = book.active
    notes.title, notes.sheet_state = "填表说明", "hidden"
    notes.append(["姓名", "说明"])
    notes.append(["张三", "隐藏的工作表不是数据"])
    books.enrollment_sheet(book.create_sheet("入学登记"))
    books.save(book, tmp_path / "enroll_1.xlsx")
    names, rows, _ = _read(tmp_path)
    assert (names[:-1], rows) == (books.ENROLLMENT_NAMES, books.ENROLLMENT_ROWS)
    hidden = Stream(name="enroll", pattern="enroll_*.xlsx", sheet="填表说明")
    assert _read(tmp_path, hidden)[:2] == (["姓名", "说明", "_source_file"], [("张三", "隐藏的工作表不是数据")])
    missing = Stream(name="enroll", pattern="enroll_*.xlsx", sheet="名册")
    with pytest.raises(ConnectorError, match=re.escape(
            "enroll_1.xlsx: no sheet named '名册'; the workbook has '填表说明' (hidden), '入学登记'")):
        _read(tmp_path, missing)


def test_date_cells_keep_their_date_and_times_read_as_the_clock_shows_them(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "出生日期", "登记时间", "到校时间", "在校时长", "身高"])
    sheet.append(["张小明", datetime(2018, 5, 6), datetime(2024, 9, 1, 7, 50), time(7, 50), timedelta(hours=26, minutes=30),
                  1.25])
    for col, fmt in ((2, "yyyy年m月d日"), (3, "yyyy-mm-dd hh:mm"), (4, "h:mm"), (5, "[h]:mm")):
        sheet.cell(2, col).number_format = fmt
    books.save(book, tmp_path / "enroll_1.xlsx")
    assert _read(tmp_path)[1] == [("张小明", "2018-05-06", "2024-09-01 07:50:00", "07:50:00", "26:30:00", "1.25")]


def test_formatted_empty_space_and_a_whole_sheet_dimension_add_no_columns_or_rows(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    books.enrollment_sheet(sheet)
    for row in range(10, 60):  # below the footer: rows a person formatted and left empty
        for col in range(1, 27):
            sheet.cell(row, col).number_format = "@"
    books.save(book, tmp_path / "enroll_1.xlsx")
    books.edit_sheets(tmp_path / "enroll_1.xlsx", lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:Z1048576"', xml))
    names, rows, rejects = _read(tmp_path)
    assert (names[:-1], rows, rejects.rows) == (books.ENROLLMENT_NAMES, books.ENROLLMENT_ROWS, [])
    estimate = get_connector("files")({"path": str(tmp_path)}).estimate(STREAM, None)
    assert estimate < 100  # from the rows the sheet has, not the million its dimension claims
