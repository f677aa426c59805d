"""A drop folder that is empty (never filled, or cleared after a load) loads nothing and loses nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from countyhub.connectors import get_connector
from countyhub.connectors.base import ConnectorError
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.load import load_stream

DEPT = Department(code="mzj", name="民政局", name_en="Civil affairs", owner={"steward": "qa"})
STREAM = Stream(name="roll", pattern="roll_*.csv")


def _rows(lake: Lake) -> list[tuple]:
    with lake.reader() as con:
        return con.execute('SELECT "姓名" FROM raw_mzj.roll ORDER BY 1').fetchall()


def test_a_drop_folder_cleared_after_its_load_keeps_the_raw_table(settings: Settings, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "roll_1.csv").write_text("姓名,村\n张三,东村\n李四,西村\n", encoding="utf-8")
    connector = get_connector("files")({"path": str(drop)})
    assert load_stream(Lake(settings), DEPT, STREAM, connector).rows_loaded == 2

    (drop / "roll_1.csv").unlink()  # the department archives what was taken
    again = load_stream(Lake(settings), DEPT, STREAM, get_connector("files")({"path": str(drop)}))
    assert (again.rows_read, again.rows_loaded) == (0, 0)
    assert _rows(Lake(settings)) == [("张三",), ("李四",)]


def test_a_first_load_from_an_empty_drop_folder_names_the_folder_and_pattern(settings: Settings,
                                                                            tmp_path: Path) -> None:
    connector = get_connector("files")({"path": str(tmp_path)})
    with pytest.raises(ConnectorError, match=r"no file matches 'roll_\*\.csv'.*" + re.escape(str(tmp_path))):
        load_stream(Lake(settings), DEPT, STREAM, connector)
