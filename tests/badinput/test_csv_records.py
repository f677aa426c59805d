"""Bad CSV records: cut, short, long, unquoted, NUL, huge, multi-line, SQL-looking, NULL-ish and blank rows."""

from __future__ import annotations

from pathlib import Path

from countyhub.core.departments import Stream
from countyhub.core.settings import Settings
from tests.badinput.gen_files import HEADER, ID1, ID2, ID3, ID4, ID5, ROW1, ROW2, ROW3, drop, gbk_lines
from tests.badinput.lake_probe import lake_state, load_drop

SRC = "roll_1.csv"


def test_truncated_last_line_is_quarantined_at_its_line(settings: Settings, tmp_path: Path) -> None:
    # The upload was cut mid-record: no trailing newline, the last record stops after the name's first character.
    drop(tmp_path, SRC, gbk_lines([HEADER, ROW1, f"{ID2},李"], last_newline=False))
    result = load_drop(settings, tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    assert lake_state(settings) == ([(ID1, "张三", "低保", SRC)],
                                   [(f"{SRC}:3", "line has 2 fields, the header has 3",
                                      {"_line": f"{ID2},李", "_source_file": SRC})])


def test_too_many_fields_are_quarantined_not_cut(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, SRC, gbk_lines([HEADER, ROW1, f"{ID2},李四,五保,多出的一格", ROW3]))
    result = load_drop(settings, tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert lake_state(settings) == ([(ID1, "张三", "低保", SRC), (ID3, "王五", "临时救助", SRC)],
                                   [(f"{SRC}:3", "line has 4 fields, the header has 3",
                                      {"_line": f"{ID2},李四,五保,多出的一格", "_source_file": SRC})])


def test_too_few_fields_are_quarantined_not_padded(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, SRC, gbk_lines([HEADER, f"{ID1},张三", ROW2]))
    result = load_drop(settings, tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    assert lake_state(settings) == ([(ID2, "李四", "五保", SRC)],
                                   [(f"{SRC}:2", "line has 2 fields, the header has 3",
                                      {"_line": f"{ID1},张三", "_source_file": SRC})])


def test_unterminated_quote_does_not_swallow_the_following_rows(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, SRC, gbk_lines([HEADER, ROW1, f'{ID2},李四,"五保', ROW3, f"{ID4},赵六,低保"]))
    result = load_drop(settings, tmp_path)
    # Nothing after the open quote can be trusted as rows: it is all kept, in quarantine, from the quote's line.
    rows, entries = lake_state(settings)
    assert rows == [(ID1, "张三", "低保", SRC)]
    [(where, reason, raw)] = entries
    assert (where, "quote" in reason) == (f"{SRC}:3", True)
    assert f"{ID3},王五,临时救助" in raw["_line"] and f"{ID4},赵六,低保" in raw["_line"]
    assert result.rows_loaded == 1


def test_nul_bytes_are_kept_verbatim_in_raw(settings: Settings, tmp_path: Path) -> None:
    # Raw keeps every value as the file has it (staging cleans): a NUL from a broken export stays visible.
    drop(tmp_path, SRC, gbk_lines([HEADER, ROW1]) + f"{ID2},".encode() + b"\x00" + "李四,五保\r\n".encode("gb18030"))
    result = load_drop(settings, tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 2, 0)
    assert lake_state(settings) == ([(ID1, "张三", "低保", SRC), (ID2, "\x00李四", "五保", SRC)], [])


def test_a_5_mb_remark_loads_whole(settings: Settings, tmp_path: Path) -> None:
    remark = "情况说明" * (5 * 1024 * 1024 // 12)  # 5 MB of GB18030 text (each character two bytes)
    drop(tmp_path, SRC, gbk_lines([HEADER, ROW1, f"{ID2},李四,{remark}", ROW3]))
    result = load_drop(settings, tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 3, 0)
    rows, entries = lake_state(settings)
    assert entries == []
    assert [(r[0], len(r[2])) for r in rows] == [(ID1, 2), (ID2, 4 * (5 * 1024 * 1024 // 12)), (ID3, 4)]
    assert rows[1][2] == remark


def test_crlf_inside_a_quoted_field_stays_in_the_value(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, SRC, gbk_lines([HEADER, f'{ID1},张三,"第一行\r\n第二行"', ROW2, f'{ID3},王五,"甲,乙\r\n""丙"""']))
    result = load_drop(settings, tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 3, 0)
    assert lake_state(settings) == ([(ID1, "张三", "第一行\r\n第二行", SRC), (ID2, "李四", "五保", SRC),
                                  (ID3, "王五", '甲,乙\r\n"丙"', SRC)], [])


def test_sql_looking_strings_are_loaded_verbatim(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, SRC, gbk_lines([HEADER, f"{ID1},'; DROP TABLE x;--,\"Robert'); --\"",
                                   f"{ID2},李四,\"1' OR '1'='1\"", f"{ID3},王五,\"\"\"; DELETE FROM raw_mzj.roll; --\""]))
    result = load_drop(settings, tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 3, 0)
    assert lake_state(settings) == ([(ID1, "'; DROP TABLE x;--", "Robert'); --", SRC),
                                  (ID2, "李四", "1' OR '1'='1", SRC),
                                  (ID3, "王五", '"; DELETE FROM raw_mzj.roll; --', SRC)], [])


def test_null_storm_in_a_text_column_is_kept_as_written(settings: Settings, tmp_path: Path) -> None:
    # Raw is text as delivered: '' stays '' and the words NULL, \N, null stay words (a surname can be 空, a remark
    # "null"); which of them mean "no value" is staging's decision, per department.
    drop(tmp_path, SRC, gbk_lines([HEADER, f"{ID1},张三,", f"{ID2},李四,NULL", f"{ID3},王五,\\N", f"{ID4},赵六,null",
                                   f'{ID5},钱七,""']))
    result = load_drop(settings, tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 5, 0)
    assert lake_state(settings) == ([(ID1, "张三", "", SRC), (ID2, "李四", "NULL", SRC), (ID3, "王五", "\\N", SRC),
                                  (ID4, "赵六", "null", SRC), (ID5, "钱七", "", SRC)], [])


def test_null_storm_in_a_typed_column_loads_as_nulls(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, SRC, gbk_lines(["身份证号,月发放金额", f"{ID1},", f"{ID2},NULL", f"{ID3},\\N", f"{ID4},null"]))
    stream = Stream(name="roll", pattern="roll_*.csv", types={"月发放金额": "decimal(10,2)"})
    result = load_drop(settings, tmp_path, stream)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 4, 0)
    assert lake_state(settings) == ([(ID1, None, SRC), (ID2, None, SRC), (ID3, None, SRC), (ID4, None, SRC)], [])


def test_whitespace_only_rows_are_not_rows(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, SRC, gbk_lines([HEADER, ROW1, "   ", "\t", " , , ", ",,", "\u3000", ROW2]))
    result = load_drop(settings, tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 2, 0)
    assert lake_state(settings) == ([(ID1, "张三", "低保", SRC), (ID2, "李四", "五保", SRC)], [])
