"""A drop file delivered again: unchanged (nothing loaded twice) or corrected under the same name (rows replaced)."""

from __future__ import annotations

from pathlib import Path

from countyhub.core.settings import Settings
from tests.badinput.gen_files import HEADER, ID1, ID2, ID3, ROW1, ROW2, ROW3, drop, gbk_lines
from tests.badinput.lake_probe import lake_state, load_drop


def test_a_file_redelivered_unchanged_adds_no_duplicates(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, "roll_1.csv", gbk_lines([HEADER, ROW1, ROW2]))
    first = load_drop(settings, tmp_path)
    drop(tmp_path, "roll_1.csv", gbk_lines([HEADER, ROW1, ROW2]))  # uploaded again: new mtime, same bytes
    again = load_drop(settings, tmp_path)
    assert (first.rows_loaded, again.rows_read, again.rows_inserted, again.rows_deleted) == (2, 0, 0, 0)
    assert lake_state(settings) == ([(ID1, "张三", "低保", "roll_1.csv"), (ID2, "李四", "五保", "roll_1.csv")], [])


def test_a_corrected_file_replaces_its_own_rows_only(settings: Settings, tmp_path: Path) -> None:
    drop(tmp_path, "roll_1.csv", gbk_lines([HEADER, ROW1, f"{ID2},李四,五报", "short,line"]))
    drop(tmp_path, "roll_2.csv", gbk_lines([HEADER, ROW3]))
    load_drop(settings, tmp_path)
    # The office fixes the typo and the broken line, and sends roll_1.csv again under the same name.
    drop(tmp_path, "roll_1.csv", gbk_lines([HEADER, ROW1, ROW2]))
    again = load_drop(settings, tmp_path)
    assert (again.rows_read, again.rows_inserted, again.rows_deleted) == (2, 2, 2)
    rows, entries = lake_state(settings)
    assert rows == [(ID1, "张三", "低保", "roll_1.csv"), (ID2, "李四", "五保", "roll_1.csv"),
                    (ID3, "王五", "临时救助", "roll_2.csv")]
    # The bad line of the first delivery stays on record in quarantine (it was delivered), attributed to its file.
    assert [(where, reason) for where, reason, _ in entries] == [
        ("roll_1.csv:4", "line has 2 fields, the header has 3")]
