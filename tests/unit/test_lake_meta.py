"""The lake's meta tables: an old-shape lake is migrated once, in one commit, by the first writer; readers get typed rows."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from countyhub.connectors import get_connector
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import ZONES, Lake, meta, meta_gates
from countyhub.lakehouse.lake import ensure_schemas
from countyhub.lakehouse.load import load_stream

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _snapshots(lake: Lake) -> int:
    with lake.reader() as con:
        return con.execute("SELECT count(*) FROM lake.snapshots()").fetchone()[0]


def _old_lake(lake: Lake) -> None:
    """A lake as the first release left it: loads without the version-2 columns, no publications, no version."""
    con = lake.connect()  # not a writer: nothing is migrated
    try:
        ensure_schemas(con, ZONES)
        con.execute("CREATE TABLE lake.meta.loads (load_id VARCHAR, department VARCHAR, stream VARCHAR, "
                    "rows_read BIGINT, rows_loaded BIGINT, bytes_read BIGINT, status VARCHAR, "
                    "started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, message VARCHAR)")
        con.execute("INSERT INTO lake.meta.loads VALUES ('old-1', 'mzj', 'roll', 5, 5, 50, 'success', ?, ?, '')",
                    [T0, T0])
    finally:
        con.close()


def test_an_old_lake_is_migrated_once_in_one_commit_and_then_left_alone(settings: Settings) -> None:
    lake = Lake(settings)
    _old_lake(lake)
    with lake.reader() as con:  # before any writer: the old rows read, later columns as None
        [old] = meta.loads(con)
        assert meta.schema_version(con) is None and meta_gates.publications(con, "x") == []
    assert (old.load_id, old.rows_read, old.mode, old.rows_inserted) == ("old-1", 5, None, None)
    before = _snapshots(lake)
    with lake.writer() as con:
        assert meta.pending(meta.meta_columns(con)) == []
    assert _snapshots(lake) == before + 1  # every CREATE/ALTER and the version row: one DuckLake commit
    with lake.reader() as con:
        have = meta.meta_columns(con)
        assert meta.schema_version(con) == meta.VERSION
        [old_again] = meta.loads(con)
    assert set(meta.TABLES) <= set(have)
    assert {c.name for c in meta.TABLES["loads"]} == have["loads"]
    assert old_again == old  # the migration kept the row; its new columns are NULL
    with lake.writer() as con:
        assert meta.migrate(con) == 0
    assert _snapshots(lake) == before + 1  # a second writer open does no DDL and commits nothing


def test_a_routine_load_commits_only_its_data_and_readers_get_typed_rows(settings: Settings, tmp_path: Path) -> None:
    db = tmp_path / "src.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE persons (person_id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT)")
        con.executemany("INSERT INTO persons VALUES (?, ?, ?)", [(i, f"居民{i}", f"2026-01-0{1 + i % 5}") for i in range(20)])
    con.close()
    lake, dept = Lake(settings), Department(code="t", name="测试局", name_en="Test", owner={"steward": "qa"})
    stream = Stream(name="persons", primary_key=["person_id"], cursor="updated_at")
    connector = get_connector("sql")({"url": f"sqlite:///{db}"})
    first = load_stream(lake, dept, stream, connector)
    before = _snapshots(lake)
    second = load_stream(lake, dept, stream, connector)
    assert _snapshots(lake) == before + 1  # the load's own transaction, nothing else
    with lake.reader() as con:
        loads = meta.loads(con)
        state = meta.read_state(con, "t", "persons")
        changes = meta.schema_changes(con, "t", "persons")
    assert [(r.load_id, r.status, r.mode) for r in loads] == [(first.load_id, "success", "incremental"),
                                                              (second.load_id, "success", "incremental")]
    assert isinstance(loads[0], meta.LoadRecord) and loads[0].rows_inserted == 20
    assert state is not None and state.load_id == second.load_id and state.state["cursor_type"] == "VARCHAR"
    assert changes == []
