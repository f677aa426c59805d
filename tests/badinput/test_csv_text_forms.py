"""CSV text forms: BOM, GB18030 4-byte characters, mixed encodings, odd delimiters and line endings, empty files."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from countyhub.connectors.base import ConnectorError
from countyhub.core.departments import Stream
from countyhub.core.settings import Settings
from tests.badinput.gen_files import HEADER, ID1, ID2, ID3, ROW1, ROW2, ROW3, drop, gbk_lines, utf8_bom_lines
from tests.badinput.lake_probe import lake_state, load_drop, load_log

SRC = "roll_1.csv"
THREE = [(ID1, "张三", "低保", SRC), (ID2, "李四", "五保", SRC), (ID3, "王五", "临时救助", SRC)]


def test_utf8_bom_is_not_part_of_the_first_column_name(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, SRC, utf8_bom_lines([HEADER, ROW1, ROW2, ROW3]))
    assert load_drop(settings, tmp_path).rows_loaded == 3
    assert lake_state(settings) == (THREE, [])
    assert "身份证号" in [r[0] for r in _columns(settings)]  # not "\ufeff身份证号"


def test_gb18030_four_byte_name_characters_survive(settings: Settings, tmp_path: Path) -> None:
    # 𠈌 (CJK Ext. B) and 䶮 (Ext. A) are in residents' names and exist only in GB18030, as 4-byte sequences.
    content = gbk_lines([HEADER, f"{ID1},王𠈌,䶮", ROW2])
    assert len("𠈌".encode("gb18030")) == 4  # the generator really writes a 4-byte sequence (GBK has none)
    drop(tmp_path, SRC, content)
    assert load_drop(settings, tmp_path).rows_loaded == 2
    assert lake_state(settings) == ([(ID1, "王𠈌", "䶮", SRC), (ID2, "李四", "五保", SRC)], [])


def test_a_utf8_line_in_a_gbk_file_is_quarantined_not_garbled(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, SRC, gbk_lines([HEADER, ROW1]) + f"{ROW2}\r\n".encode() + gbk_lines([ROW3]))
    load_drop(settings, tmp_path)
    rows, entries = lake_state(settings)
    assert rows == [THREE[0], THREE[2]]
    [(where, reason, _)] = entries
    assert where == f"{SRC}:3" and "UTF-8" in reason


def test_a_gbk_line_in_a_utf8_file_is_quarantined_not_garbling_the_rest(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, SRC, f"{HEADER}\r\n{ROW1}\r\n".encode() + gbk_lines([ROW2]) + f"{ROW3}\r\n".encode())
    load_drop(settings, tmp_path)
    rows, entries = lake_state(settings)
    assert rows == [THREE[0], THREE[2]]
    [(where, reason, _)] = entries
    assert where == f"{SRC}:3" and "GB" in reason


@pytest.mark.parametrize("delimiter", [";", "\t"], ids=["semicolon", "tab"])
def test_semicolon_and_tab_delimiters_are_sniffed(settings: Settings, tmp_path: Path, delimiter: str) -> None:
    drop(tmp_path, SRC, gbk_lines([line.replace(",", delimiter) for line in (HEADER, ROW1, ROW2, ROW3)]))
    assert load_drop(settings, tmp_path).rows_loaded == 3
    assert lake_state(settings) == (THREE, [])


def test_cr_only_line_endings_of_old_mac_exports(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, SRC, gbk_lines([HEADER, ROW1, ROW2, ROW3], newline="\r"))
    assert load_drop(settings, tmp_path).rows_loaded == 3
    assert lake_state(settings) == (THREE, [])


def test_a_header_naming_a_column_twice_is_refused_naming_it(settings: Settings, tmp_path: Path) -> None:
    # It used to be taken for a data row: the header became a row of data under column_1..3, silently.
    drop(tmp_path, SRC, gbk_lines(["身份证号,备注,备注", f"{ID1},低保,本月新增"]))
    with pytest.raises(ConnectorError) as failure:
        load_drop(settings, tmp_path)
    assert f"{tmp_path / SRC}:1: the header names '备注' twice (columns 2 and 3)" in str(failure.value)
    assert lake_state(settings) == ([], [])
    # The engineer says it is a header: both columns load, the second named as the Excel reader names it.
    assert load_drop(settings, tmp_path, Stream(name="roll", pattern="roll_*.csv", header=True)).rows_loaded == 1
    assert lake_state(settings) == ([(ID1, "低保", "本月新增", SRC)], [])
    assert [r[0] for r in _columns(settings)][:3] == ["身份证号", "备注", "备注_2"]


@pytest.mark.parametrize("content", [b"", codecs.BOM_UTF8], ids=["empty-file", "bom-only-file"])
def test_an_empty_file_fails_the_load_naming_it_and_commits_nothing(settings: Settings, tmp_path: Path,
                                                                     content: bytes) -> None:
    # Loading it as "no rows" would, for a re-delivered file, delete the rows its last good version loaded.
    drop(tmp_path, "roll_0.csv", gbk_lines([HEADER, ROW1]))
    drop(tmp_path, SRC, content)
    with pytest.raises(ConnectorError, match=rf"{tmp_path / SRC}:1: no header row"):
        load_drop(settings, tmp_path)
    assert lake_state(settings) == ([], [])
    [(status, message)] = load_log(settings)
    assert status == "failed" and f"{SRC}:1: no header row" in message


def test_a_header_only_file_loads_no_rows_but_makes_the_table(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, SRC, gbk_lines([HEADER]))
    result = load_drop(settings, tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (0, 0, 0)
    assert lake_state(settings) == ([], [])
    assert [r[0] for r in _columns(settings)] == ["身份证号", "姓名", "备注", "_source_file", "_load_id", "_loaded_at"]


def _columns(settings: Settings) -> list[tuple]:
    from tests.badinput.lake_probe import query

    return query(settings, "SELECT column_name FROM duckdb_columns() WHERE database_name = 'lake' "
                           "AND schema_name = 'raw_mzj' AND table_name = 'roll' ORDER BY column_index")
