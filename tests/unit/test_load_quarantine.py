"""Malformed rows go to quarantine with file/line or key and the reason; read = loaded + quarantined."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from stdnum.cn import ric

from countyhub.connectors import get_connector
from countyhub.connectors.base import RejectSink
from countyhub.connectors.files import FilesConnector as FilesConnectorBase
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake, meta
from countyhub.lakehouse.load import LOCATE_LIMIT, load_stream

DEPT = Department(code="mzj", name="民政局", name_en="Civil affairs", owner={"steward": "qa"})
GOOD = "511724199901010013"  # valid: Dazhu county, 1999-01-01, check digit 3


def resident_id(body: str) -> str:
    """A valid resident ID number from its first 17 digits (stdnum computes the check digit)."""
    return body + ric.calc_check_digit(body + "0")


def _lake_rows(lake: Lake, sql: str) -> list[tuple]:
    with lake.reader() as con:
        return con.execute(sql).fetchall()


def test_bad_csv_lines_and_lost_digit_ids_are_quarantined_and_counted(settings: Settings, tmp_path: Path) -> None:
    lines = ["身份证号,姓名,月发放金额", f"{GOOD},张三,560.00", "5.11724E+17,李四,480.00", "only-two,fields",
             "511724199901010021,王五,abc"]
    (tmp_path / "roll_1.csv").write_bytes("\r\n".join(lines).encode("gb18030") + b"\r\n")
    stream = Stream(name="roll", pattern="roll_*.csv", types={"月发放金额": "decimal(10,2)"})
    result = load_stream(Lake(settings), DEPT, stream, get_connector("files")({"path": str(tmp_path)}))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 1, 3)
    rows = _lake_rows(Lake(settings), "SELECT location, reason, raw_values, load_id FROM quarantine.mzj__roll ORDER BY reason")
    reasons = {r[1].split(":")[0]: r for r in rows}
    assert "lost digits" in reasons["身份证号"][1] and json.loads(reasons["身份证号"][2])["身份证号"] == "5.11724E+17"
    assert reasons["line has 2 fields, the header has 3"][0] == "roll_1.csv:4"
    assert reasons["月发放金额"][1] == "月发放金额: 'abc' is not a number"
    assert {r[3] for r in rows} == {result.load_id}
    assert _lake_rows(Lake(settings), "SELECT 月发放金额 FROM raw_mzj.roll") == [(560,)]


def test_type_errors_are_located_by_file_and_physical_line(settings: Settings, tmp_path: Path) -> None:
    # GB18030, a quoted address spanning three lines, a blank line and a short line before the bad values:
    # the location must be the line an editor shows, not the row's position among the parsed rows.
    lines = ["身份证号,住址,月发放金额",  # 1
             f'{GOOD},"四川省达州市\n大竹县\n竹阳街道",560.00',  # 2-4
             "",  # 5
             "only-two,fields",  # 6
             "511724199901010021,庙坝镇,五百",  # 7: not a decimal
             '51172419990101003X,"石河镇\n""老街""",480.00',  # 8-9
             "511724199901010048,观音镇,12.345.6"]  # 10: not a decimal either
    (tmp_path / "roll_1.csv").write_bytes("\r\n".join(lines).encode("gb18030") + b"\r\n")
    stream = Stream(name="roll", pattern="roll_*.csv", types={"月发放金额": "decimal(10,2)"})
    result = load_stream(Lake(settings), DEPT, stream, get_connector("files")({"path": str(tmp_path)}))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 2, 3)
    rows = _lake_rows(Lake(settings), "SELECT location, reason FROM quarantine.mzj__roll ORDER BY location")
    assert [r[0] for r in rows] == ["roll_1.csv:10", "roll_1.csv:6", "roll_1.csv:7"]
    assert rows[2][1] == "月发放金额: '五百' is not a number"
    assert rows[0][1] == "月发放金额: '12.345.6' is not a number"
    assert _lake_rows(Lake(settings), "SELECT 住址 FROM raw_mzj.roll ORDER BY 1") == [
        ("四川省达州市\n大竹县\n竹阳街道",), ('石河镇\n"老街"',)]


def test_excel_float_id_numbers_are_quarantined(settings: Settings, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["2026年救助名册"])
    sheet.append(["身份证号", "姓名"])
    sheet.append([GOOD, "张三"])
    sheet.append([511724199901010013, "李四"])  # typed as a number: Excel keeps 15 significant digits
    book.save(tmp_path / "roll_1.xlsx")
    stream = Stream(name="roll", pattern="roll_*.xlsx")
    result = load_stream(Lake(settings), DEPT, stream, get_connector("files")({"path": str(tmp_path)}))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    [(where, reason)] = _lake_rows(Lake(settings), "SELECT location, reason FROM quarantine.mzj__roll")
    assert reason == "身份证号: '5.1172419990101E+17' is a number that lost digits (Excel stores ID numbers as floats)"
    assert where == "roll_1.xlsx:4"


def test_unchanged_file_is_skipped_and_a_changed_one_replaces_its_rows(settings: Settings, tmp_path: Path) -> None:
    def write(name: str, ids: range) -> None:
        body = "\n".join(["身份证号,姓名", *[f"{resident_id(f'51172419990101{i:03d}')},人{i}" for i in ids]])
        (tmp_path / name).write_text(body + "\n", encoding="utf-8-sig")

    write("roll_1.csv", range(10))
    write("roll_2.csv", range(10, 15))
    lake, stream = Lake(settings), Stream(name="roll", pattern="roll_*.csv")
    connector = get_connector("files")({"path": str(tmp_path)})
    assert load_stream(lake, DEPT, stream, connector).rows_read == 15
    assert load_stream(lake, DEPT, stream, connector).rows_read == 0  # same checksums: nothing read
    write("roll_2.csv", range(10, 13))  # same name, new content
    again = load_stream(lake, DEPT, stream, connector)
    assert (again.rows_read, again.rows_inserted, again.rows_deleted) == (3, 3, 5)
    assert _lake_rows(lake, "SELECT _source_file, count(*) FROM raw_mzj.roll GROUP BY 1 ORDER BY 1") == [
        ("roll_1.csv", 10), ("roll_2.csv", 3)]


def test_a_bad_row_at_the_cursor_is_quarantined_once_and_still_counted(settings: Settings, tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "si.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE insured (person_id INTEGER PRIMARY KEY, id_number TEXT, updated_at TEXT)")
        con.executemany("INSERT INTO insured VALUES (?, ?, ?)",
                        [(i, resident_id(f"51172419990101{i:03d}"), f"2026-01-0{1 + i % 2}") for i in range(10)] +
                        [(99, "5.11724E+17", "2026-01-02")])
    con.close()
    lake, stream = Lake(settings), Stream(name="insured", primary_key=["person_id"], cursor="updated_at")
    connector = get_connector("sql")({"url": f"sqlite:///{db}"})
    loads = []
    for expected_read in (11, 6, 6):  # later loads re-read the rows at the cursor (5 good + the bad one)
        result = load_stream(lake, DEPT, stream, connector)
        assert result.rows_read == expected_read == result.rows_loaded + result.rows_quarantined
        assert result.rows_quarantined == 1
        loads.append(result)
    assert [r.rows_quarantined_before for r in loads] == [0, 1, 1]
    # One entry for the one bad source row, from the load that first met it.
    assert _lake_rows(lake, "SELECT load_id, location FROM quarantine.mzj__insured") == [
        (loads[0].load_id, "key person_id=99")]
    assert "1 already in quarantine" in _lake_rows(
        lake, f"SELECT message FROM meta.loads WHERE load_id = '{loads[1].load_id}'")[0][0]
    with sqlite3.connect(db) as con:  # the department corrects it badly: a changed row is a new entry
        con.execute("UPDATE insured SET id_number = '51172419800101' WHERE person_id = 99")
    con.close()
    changed = load_stream(lake, DEPT, stream, connector)
    assert (changed.rows_quarantined, changed.rows_quarantined_before) == (1, 0)
    assert _lake_rows(lake, "SELECT count(*) FROM quarantine.mzj__insured") == [(2,)]
    assert _lake_rows(lake, "SELECT count(*) FROM raw_mzj.insured") == [(10,)]


def test_a_load_rejecting_most_rows_holds_only_a_bounded_group_in_memory(settings: Settings, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # A misdeclared rule (here an ID column full of lost-digit floats) rejects nearly every row; they
    # must stream to disk in groups, not pile up in memory, and still all be counted and located.
    from countyhub.lakehouse import rejects

    monkeypatch.setattr(rejects, "FLUSH_ROWS", 500)
    held: list[int] = []
    flush = rejects.RejectSpill._flush

    def watched(self: rejects.RejectSpill) -> None:
        held.append(len(self._pending))
        flush(self)

    monkeypatch.setattr(rejects.RejectSpill, "_flush", watched)
    rows = 12_000
    lines = ["身份证号,姓名"] + [f"5.11724E+17,居民{i}" for i in range(rows - 1)] + [f"{GOOD},张三"]
    (tmp_path / "roll_1.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    stream = Stream(name="roll", pattern="roll_*.csv")
    # 64 KB blocks: batches of about 2,600 rows, so the file arrives in several.
    connector = get_connector("files")({"path": str(tmp_path), "block_size": 65536})
    result = load_stream(Lake(settings), DEPT, stream, connector)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (rows, 1, rows - 1)
    assert len(held) > 3 and max(held) < 500 + 65536 // 20  # a group plus at most one batch's rejects
    assert sum(held) == rows - 1
    # The first LOCATE_LIMIT rejected rows get their line (2, 3, ...), the rest their file.
    assert _lake_rows(Lake(settings), "SELECT location LIKE 'roll_1.csv:%', count(*), count(DISTINCT location) "
                                      "FROM quarantine.mzj__roll GROUP BY 1 ORDER BY 1") == [
        (False, rows - 1 - LOCATE_LIMIT, 1), (True, LOCATE_LIMIT, LOCATE_LIMIT)]
    assert _lake_rows(Lake(settings), "SELECT raw_values FROM quarantine.mzj__roll WHERE location = 'roll_1.csv:2'") == [
        ('{"身份证号": "5.11724E+17", "姓名": "居民0", "_source_file": "roll_1.csv"}',)]
    assert not list((settings.home / "tmp").glob("rejected-*.parquet"))  # the spill is gone with the load


class _FooterReportingFiles(FilesConnectorBase):
    """Reports the footer line it read as skipped, as a layout-aware reader does."""

    def read(self, stream: Stream, state: dict | None = None, rejects: RejectSink | None = None):
        yield from super().read(stream, state, rejects)
        rejects.skip("roll_1.csv:4", "footer: 合计", "合计,,1040.00")


def test_lines_kept_out_of_the_data_are_logged_with_the_load_not_counted_as_read(settings: Settings,
                                                                                  tmp_path: Path) -> None:
    lines = ["身份证号,姓名,月发放金额", f"{GOOD},张三,560.00", "511724199901010021,李四,480.00", "合计,,1040.00"]
    (tmp_path / "roll_1.csv").write_bytes("\r\n".join(lines[:3]).encode("gb18030") + b"\r\n")
    stream = Stream(name="roll", pattern="roll_*.csv")
    result = load_stream(Lake(settings), DEPT, stream, _FooterReportingFiles({"path": str(tmp_path)}))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_skipped) == (2, 2, 0, 1)
    with Lake(settings).reader() as con:
        [line] = meta.skipped_lines(con, "mzj", "roll")
        [record] = meta.loads(con)
    assert (line.load_id, line.location, line.reason, line.line) == (result.load_id, "roll_1.csv:4", "footer: 合计",
                                                                     "合计,,1040.00")
    assert record.rows_skipped == 1 and "1 line kept out of the data" in record.message
