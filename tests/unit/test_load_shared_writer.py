"""Loads that share one writer connection: each still commits or rolls back alone; lake.meta is migrated once."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from countyhub.core.departments import Department, Stream, load_department
from countyhub.core.settings import Settings
from countyhub.flow.ingest import ingest_department
from countyhub.flow.runtime import Runtime
from countyhub.lakehouse import Lake, meta
from countyhub.lakehouse.load import load_stream
from countyhub.lakehouse.writer_session import writer_session
from tests.unit.test_load import _connector, _CrashingConnector, _rows

DEPT = Department(code="t", name="测试局", name_en="Test bureau", owner={"steward": "qa"})


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "src.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE persons (person_id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT)")
        con.executemany("INSERT INTO persons VALUES (?, ?, ?)",
                        [(i, f"居民{i}", f"2026-01-01 00:00:{i % 60:02d}") for i in range(100)])
    con.close()
    return path


def test_a_failed_load_on_a_shared_connection_rolls_back_only_itself(settings: Settings, db: Path) -> None:
    lake = Lake(settings)
    # No key, no cursor: the table is rebuilt from the read inside the load's transaction, so a crash
    # after two batches has already written rows that the rollback must take back.
    whole = Stream(name="roll", table="persons")
    keyed = Stream(name="persons", primary_key=["person_id"], cursor="updated_at")
    with writer_session(lake) as session:
        con = session.connection()
        first = load_stream(lake, DEPT, whole, _connector(db), con=con)
        state = _rows(lake, "SELECT state FROM meta.stream_state WHERE stream = 'roll'")
        with pytest.raises(Exception, match="killed mid-load"):
            load_stream(lake, DEPT, whole, _CrashingConnector({"url": f"sqlite:///{db}", "batch_rows": 30}),
                        con=con)
        after = load_stream(lake, DEPT, keyed, _connector(db), con=con)  # the same connection goes on
        assert session.connection() is con
    assert (first.rows_inserted, after.rows_inserted) == (100, 100)
    assert _rows(lake, "SELECT count(*), min(_load_id) = max(_load_id) FROM raw_t.roll") == [(100, True)]
    assert _rows(lake, "SELECT state FROM meta.stream_state WHERE stream = 'roll'") == state
    assert _rows(lake, "SELECT stream, status FROM meta.loads ORDER BY started_at") == [
        ("roll", "success"), ("roll", "failed"), ("persons", "success")]


def test_a_lake_object_migrates_its_meta_tables_once(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    looked: list[int] = []
    real = meta.meta_columns

    def counted(con: object) -> dict[str, set[str]]:
        looked.append(1)
        return real(con)  # type: ignore[arg-type]

    monkeypatch.setattr(meta, "meta_columns", counted)
    lake = Lake(settings)
    for _ in range(3):
        with lake.writer():
            pass
    assert len(looked) == 1  # the catalog query that decides the migration: once for this object
    with Lake(settings).writer():
        pass
    assert len(looked) == 2  # another object (another process) looks for itself
    # The lake removed under a live object: its next writer finds no schema, so it creates the tables again.
    shutil.rmtree(settings.home / "lake")
    with lake.writer() as con:
        assert set(meta.TABLES) <= set(real(con))
    assert len(looked) == 3


def test_a_stream_loaded_twice_in_one_session_starts_from_the_state_its_first_load_left(
        runtime: Runtime, db: Path, tmp_path: Path) -> None:
    path = tmp_path / "tst.yml"
    path.write_text(f"code: tst\nname: 测试局\nname_en: Test\nowner: {{steward: qa}}\nsources:\n"
                    f"  - name: registry\n    kind: sql\n    config: {{url: 'sqlite:///{db}'}}\n    streams:\n"
                    f"      - name: persons\n        primary_key: [person_id]\n        cursor: updated_at\n",
                    encoding="utf-8")
    department = load_department(path)
    ingest_department(runtime, department)  # a committed state before the session reads them all
    with sqlite3.connect(db) as con:
        con.executemany("INSERT INTO persons VALUES (?, '新人', ?)",
                        [(i, f"2026-02-01 00:00:0{i % 10}") for i in range(500, 510)])
    con.close()
    with writer_session(runtime.lake) as session:
        [first] = ingest_department(runtime, department, session=session)
        [second] = ingest_department(runtime, department, session=session)
    # The new rows and the one at the old cursor (">=" reads it again); then only the row at the new cursor,
    # not the ten again from the state read before the first of the two loads.
    assert (first.rows_read, first.rows_inserted) == (11, 10)
    assert (second.rows_read, second.rows_inserted, second.rows_updated) == (1, 0, 0)
