"""urban_cases is incremental on the DuckLake: a second build merges the newly loaded cases on case_id."""

from __future__ import annotations

import pytest

from countyhub.core.settings import Settings
from countyhub.flow.build import run_dbt
from countyhub.lakehouse.lake import Lake
from tests.fixtures.lake_fixtures import raw_tables, write_raw

CASES = "+urban_cases"


def _rows(lake: Lake, sql: str) -> list[tuple]:
    with lake.reader() as con:
        return con.execute(sql).fetchall()


def _snapshot(lake: Lake) -> int:
    return _rows(lake, "SELECT max(snapshot_id) FROM ducklake_snapshots('lake')")[0][0]


def _changes(lake: Lake, after: int) -> list[tuple]:
    """(change type, rows) of audit.urban_cases in the lake snapshots after `after` (DuckLake's change feed)."""
    return _rows(lake, f"SELECT change_type, count(*) FROM ducklake_table_changes('lake', 'audit', 'urban_cases', "
                       f"{after + 1}, {_snapshot(lake)}) GROUP BY 1 ORDER BY 1")


@pytest.mark.dbt
def test_a_second_build_merges_changed_cases_instead_of_duplicating(settings: Settings) -> None:
    lake = Lake(settings)
    tables = raw_tables(persons=30)
    write_raw(lake, tables)
    first = run_dbt(lake, select=CASES)
    assert first.node("urban_cases").rows == 40
    before = _snapshot(lake)

    # What the next cursor load does to the raw table: two cases progress (one disposed late, one closed), two are
    # new; each changed row carries the new load's _loaded_at, the other 38 keep theirs.
    with lake.writer() as con:
        con.execute("UPDATE lake.raw_cgj.cases SET disposed_at = '2024-05-01 20:00:00', _load_id = 'load-2', "
                    "_loaded_at = TIMESTAMP '2024-06-02 08:00:00' WHERE case_id = 1")
        con.execute("UPDATE lake.raw_cgj.cases SET status = 'closed', disposed_at = '2024-05-01 12:00:00', "
                    "closed_at = '2024-05-01 13:00:00', _load_id = 'load-2', "
                    "_loaded_at = TIMESTAMP '2024-06-02 08:00:00' WHERE case_id = 2")
        con.execute("INSERT INTO lake.raw_cgj.cases BY NAME SELECT * REPLACE (case_id + 100 AS case_id, "
                    "'load-2' AS _load_id, TIMESTAMP '2024-06-02 08:00:00' AS _loaded_at) "
                    "FROM lake.raw_cgj.cases WHERE case_id IN (4, 5)")
    second = run_dbt(lake, select=CASES)
    assert second.node("urban_cases").rows == 42
    assert _rows(lake, "SELECT count(*) - count(DISTINCT case_id) FROM lake.audit.urban_cases") == [(0,)]
    assert _rows(lake, "SELECT case_id, step, hours_to_dispose, sla_breached, load_id FROM lake.audit.urban_cases "
                       "WHERE case_id IN (1, 2) ORDER BY case_id") == [
        (1, "disposed", 10.0, True, "load-2"), (2, "closed", 2.0, False, "load-2")]

    # DuckLake's change feed of the build: 2 rows updated, 2 inserted — the 38 unchanged ones were not rewritten.
    assert _changes(lake, before) == [("insert", 2), ("update_postimage", 2), ("update_preimage", 2)]

    # A third build with nothing newly loaded merges nothing.
    before = _snapshot(lake)
    run_dbt(lake, select=CASES)
    assert _changes(lake, before) == []
