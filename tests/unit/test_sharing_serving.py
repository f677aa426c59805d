"""Serving copies on a real lake: pages equal the lake's, a new snapshot is never answered from a stale copy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from countyhub.core.settings import load_settings
from countyhub.lakehouse import Lake
from countyhub.sharing.gateway import Gateway, View
from countyhub.sharing.model import BadRequest, ColumnInfo, DatasetInfo, Principal
from countyhub.sharing.policy import decide
from tests.fixtures.sharing_fixtures import PSEUDONYM_KEY, RESIDENT_COLUMNS, build_lake, grant

MZJ = Principal("m", "mzj", "analyst")
RESIDENT = DatasetInfo("shared.resident_profile", "dsj", "conditional",
                       tuple(ColumnInfo(n, c) for n, _, c in RESIDENT_COLUMNS))  # type: ignore[arg-type]


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(load_settings(environ={"COUNTYHUB_HOME": str(tmp_path / "home")}))
    build_lake(lake, persons=300)
    return lake


@pytest.fixture
def view() -> View:
    return View(RESIDENT, decide(MZJ, RESIDENT, grant("shared.resident_profile", "mzj", ("township_code",))))


def _gateway(lake: Lake, serving_bytes: int) -> Iterator[Gateway]:
    gw = Gateway(lake, PSEUDONYM_KEY, serving_bytes=serving_bytes)
    yield gw
    gw.close()


@pytest.fixture
def copying(lake: Lake) -> Iterator[Gateway]:
    yield from _gateway(lake, 64 << 20)


@pytest.fixture
def lake_only(lake: Lake) -> Iterator[Gateway]:
    yield from _gateway(lake, 0)


def _warm(gw: Gateway, view: View) -> None:
    gw.rows(view, None, 1, 0)  # the first read starts the copy in the background
    gw.serving.wait()


def test_pages_and_queries_from_the_copy_equal_the_lakes(copying: Gateway, lake_only: Gateway, view: View) -> None:
    _warm(copying, view)
    assert "resident_profile" in copying.serving.copies()
    assert lake_only.serving.copies() == {}
    for offset in (0, 7, 150, 295):
        assert copying.rows(view, None, 10, offset).rows == lake_only.rows(view, None, 10, offset).rows
    sql = ("SELECT township_code, count(*) AS n, min(name) AS first, min(id_number) AS masked_id "
           "FROM shared.resident_profile GROUP BY ALL ORDER BY 1")
    from_copy = copying.query(sql, {"resident_profile": view}).rows
    assert from_copy == lake_only.query(sql, {"resident_profile": view}).rows
    assert sum(n for _, n, _, _ in from_copy) == 300
    assert all("*" in first and "*" in masked for _, _, first, masked in from_copy)  # masks apply to the copy too


def test_a_new_snapshot_is_answered_from_the_lake_until_the_copy_is_retaken(copying: Gateway, lake: Lake,
                                                                            view: View) -> None:
    _warm(copying, view)
    first = copying.serving.copies()["resident_profile"]
    with lake.writer() as con:  # a publish: the table replaced as a whole
        con.execute("CREATE OR REPLACE TABLE lake.shared.resident_profile AS "
                    "SELECT * REPLACE ('511724000' AS township_code) FROM lake.shared.resident_profile LIMIT 5")
    # The very next read sees the new version, though the copy of the old one is still in memory.
    page = copying.rows(view, ["township_code"], 100, 0)
    assert page.rows == [("511724000",)] * 5
    copying.serving.wait()
    second = copying.serving.copies()["resident_profile"]
    assert second.snapshot > first.snapshot and second.relation != first.relation
    assert copying.query("SELECT count(*) FROM shared.resident_profile", {"resident_profile": view}).rows == [(5,)]


def test_a_table_over_the_budget_is_served_from_the_lake(lake: Lake, view: View) -> None:
    for gw in _gateway(lake, 1024):  # far less than 300 rows need
        _warm(gw, view)
        assert gw.serving.copies() == {}
        assert len(gw.rows(view, None, 500, 0).rows) == 300


def test_callers_cannot_name_a_copy(copying: Gateway, view: View) -> None:
    _warm(copying, view)
    relation = copying.serving.copies()["resident_profile"].relation
    for sql in (f"SELECT * FROM {relation}", f"SELECT * FROM {relation.split('.', 2)[2]}"):
        with pytest.raises(BadRequest):
            copying.query(sql, {"resident_profile": view})
