"""CSV as offices export it: header below a title block, footer and note lines kept out of the data and logged."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from countyhub.connectors import get_connector
from countyhub.connectors.base import ConnectorError, RejectList
from countyhub.connectors.csv_layout import BLANK, line_reason, not_data
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake, meta
from countyhub.lakehouse.load import load_stream

DEPT = Department(code="mzj", name="民政局", name_en="Civil affairs", owner={"steward": "qa"})
HEADER = "序号,姓名,身份证号,家庭人口,保障类别,月发放金额,所属乡镇"
ROWS = ["1,张三,511724199901010013,3,A类,560,竹阳街道", "2,李四,511724199901010021,2,B类,480,庙坝镇"]
ISSUE = ["XX县民政局最低生活保障对象名册（2024年度）",  # 1
         "填报单位：XX县民政局,,,,,,",  # 2
         HEADER,  # 3
         *ROWS,  # 4-5
         "合计,,,,,1040,",  # 6
         "制表人：王五,,,审核人：赵六,,,",  # 7
         ""]  # 8


def _write(folder: Path, lines: list[str], encoding: str = "gbk", name: str = "roll_1.csv") -> None:
    """As an office exports it: GBK and CRLF."""
    (folder / name).write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")


def _read(folder: Path, **options: object) -> tuple[list[tuple], RejectList]:
    rejects = RejectList()
    connector = get_connector("files")({"path": str(folder)})
    batches = list(connector.read(Stream(name="roll", pattern="roll_*.csv", **options), rejects=rejects))
    rows = [tuple(v for k, v in r.items() if k != "_source_file") for b in batches for r in b.to_pylist()]
    return rows, rejects


def _skipped(rejects: RejectList) -> list[tuple[str, str]]:
    return sorted(((s.where, s.reason) for s in rejects.skipped), key=lambda s: int(s[0].split(":")[1]))


def test_the_issue_example_loads_its_rows_and_logs_title_note_and_footer_lines(settings: Settings,
                                                                               tmp_path: Path) -> None:
    _write(tmp_path, ISSUE)
    stream = Stream(name="roll", pattern="roll_*.csv")
    result = load_stream(Lake(settings), DEPT, stream, get_connector("files")({"path": str(tmp_path)}))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_skipped) == (2, 2, 0, 4)
    with Lake(settings).reader() as con:
        rows = con.execute("SELECT 序号, 姓名, 身份证号, 家庭人口, 保障类别, 月发放金额, 所属乡镇 FROM raw_mzj.roll "
                           "ORDER BY 1").fetchall()
        lines = meta.skipped_lines(con, "mzj", "roll")
        [record] = meta.loads(con)
    assert rows == [tuple(r.split(",")) for r in ROWS]
    assert sorted((s.location, s.reason, s.line) for s in lines) == [
        ("roll_1.csv:1", "title above the header", "XX县民政局最低生活保障对象名册（2024年度）"),
        ("roll_1.csv:2", "note above the header", "填报单位：XX县民政局,,,,,,"),
        ("roll_1.csv:6", "footer: 合计", "合计,,,,,1040,"),
        ("roll_1.csv:7", "footer: 制表人", "制表人：王五,,,审核人：赵六,,,")]
    assert {s.load_id for s in lines} == {result.load_id}
    assert record.rows_skipped == 4 and "4 lines kept out of the data" in record.message


def test_header_row_names_the_header_line_where_auto_would_take_a_note_line(tmp_path: Path) -> None:
    # Two filled cells in a three-column table are as many as a header fills for the auto search, which then
    # finds no header on line 1 (an empty cell) and reads every line as data.
    _write(tmp_path, ["单位：元,制表：民政局,", "", "姓名,身份证号,月发放金额", "张三,511724199901010013,560"])
    rows, rejects = _read(tmp_path)
    assert rows == [("单位：元", "制表：民政局", ""), ("姓名", "身份证号", "月发放金额"),
                    ("张三", "511724199901010013", "560")]
    rows, rejects = _read(tmp_path, header_row=3)
    assert rows == [("张三", "511724199901010013", "560")]
    assert _skipped(rejects) == [("roll_1.csv:1", "note above the header")]
    assert rejects.rows == []


def test_a_header_on_line_one_reads_as_before(tmp_path: Path) -> None:
    _write(tmp_path, [HEADER, *ROWS])
    connector = get_connector("files")({"path": str(tmp_path)})
    [found] = connector.discover([Stream(name="roll", pattern="roll_*.csv")])
    assert found.schema.names == [*HEADER.split(","), "_source_file"]
    rows, rejects = _read(tmp_path)
    assert rows == [tuple(r.split(",")) for r in ROWS]
    assert (rejects.rows, rejects.skipped) == ([], [])


def test_footers_with_all_fields_or_fewer_and_a_note_between_rows_are_kept_out(tmp_path: Path) -> None:
    _write(tmp_path, [HEADER,  # 1
                      ROWS[0],  # 2
                      "注：以下为2024年新增对象,,,,,,",  # 3: one cell, all fields
                      ROWS[1],  # 4
                      "小计,,,,,1040,",  # 5: all fields
                      ",合计,,,,1040,",  # 6: the total under the second column
                      "总计,1040",  # 7: fewer fields
                      "　填报日期：2024年1月5日"])  # 8: one field, a full-width space first
    rows, rejects = _read(tmp_path)
    assert rows == [tuple(r.split(",")) for r in ROWS]
    assert _skipped(rejects) == [("roll_1.csv:3", "footer: a line with one filled cell"),
                                 ("roll_1.csv:5", "footer: 小计"), ("roll_1.csv:6", "footer: 合计"),
                                 ("roll_1.csv:7", "footer: 总计"), ("roll_1.csv:8", "footer: 填报日期")]
    assert rejects.rows == []


def test_quarantine_locations_count_the_title_block_and_kept_out_lines(settings: Settings, tmp_path: Path) -> None:
    _write(tmp_path, ["XX县民政局最低生活保障对象名册", "填报单位：XX县民政局,,,,,,", "",  # 1-3
                      HEADER,  # 4
                      ROWS[0],  # 5
                      "小计,,,,,560,",  # 6
                      '2,"李四",511724199901010021,2,B类,"四百\r\n八十",庙坝镇',  # 7-8: not a decimal
                      ",,,,,,",  # 9
                      "only,two",  # 10: a bad line
                      "3,王五,51172419990101003X,1,A类,五百,石河镇",  # 11: not a decimal
                      "合计,,,,,560,"], encoding="gb18030")  # 12
    stream = Stream(name="roll", pattern="roll_*.csv", types={"月发放金额": "decimal(10,2)"})
    result = load_stream(Lake(settings), DEPT, stream, get_connector("files")({"path": str(tmp_path)}))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_skipped) == (4, 1, 3, 4)
    with Lake(settings).reader() as con:
        quarantined = con.execute("SELECT location, reason FROM quarantine.mzj__roll ORDER BY 1").fetchall()
        skipped = sorted((s.location, s.reason) for s in meta.skipped_lines(con, "mzj", "roll"))
    assert [q[0] for q in quarantined] == ["roll_1.csv:10", "roll_1.csv:11", "roll_1.csv:7"]
    assert quarantined[0][1] == "line has 2 fields, the header has 7"
    assert skipped == [("roll_1.csv:1", "title above the header"), ("roll_1.csv:12", "footer: 合计"),
                       ("roll_1.csv:2", "note above the header"), ("roll_1.csv:6", "footer: 小计")]


def test_a_header_that_cannot_be_found_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, ["XX县民政局最低生活保障对象名册", "填报单位：XX县民政局,,,,,,", *ROWS])
    with pytest.raises(ConnectorError, match=r"roll_1\.csv:3: no header found: .*number '1'.*header_row"):
        _read(tmp_path)
    with pytest.raises(ConnectorError, match=r"roll_1\.csv:40: header_row: 40 is not the start of a line"):
        _read(tmp_path, header_row=40)


def test_the_batch_filter_agrees_with_the_line_rule() -> None:
    # not_data looks at every row through one or two columns only; it must decide as line_reason does.
    rows = [["1", "张三", "511724199901010013", "560"], ["合计", "", "", "1040"], ["", "合计", "", "1040"],
            ["\u3000合计：", "", "", "1"], ["\xa0合计", "", "", "1"], ["", "", "", ""], [" ", "\t", "\u3000", ""],
            ["注：本表由乡镇民政办填报", "", "", ""], ["", "", "注：见附件", ""], ["吕布", "", "x", "1"],
            ["单雄信", "男", "", ""], ["审核中", "李四", "", ""], ["合计人数", "5", "6", ""], ["合", "", "", "2"],
            ["a", "", "", ""], ["1", " ", "", "2"], ["制表人：王五", "", "审核人：赵六", ""]]
    columns = [pa.array(list(c), pa.string()) for c in zip(*rows)]
    expected = [(i, reason) for i, row in enumerate(rows) if (reason := line_reason(row, 4))]
    assert not_data(columns, 4) == expected
    assert [i for i, r in expected if r == BLANK] == [5, 6]
    assert len(expected) == 10
    # Sliced arrays (an offset into shared buffers) read the right bytes too.
    assert not_data([c.slice(1) for c in columns], 4) == [(i - 1, r) for i, r in expected if i >= 1]
