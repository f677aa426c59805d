"""Loads into a real DuckLake from a real SQLite source: incremental merge, snapshot diff, drift, crash safety."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from countyhub.connectors import get_connector
from countyhub.connectors.base import RejectSink
from countyhub.connectors.sql import SqlConnector
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.drift import SchemaDriftError
from countyhub.lakehouse.load import load_stream

DEPT = Department(code="t", name="测试局", name_en="Test bureau", owner={"steward": "qa"})


def _source(path: Path, rows: range, extra: str = "") -> None:
    with sqlite3.connect(path) as con:
        con.execute("DROP TABLE IF EXISTS persons")
        con.execute(f"CREATE TABLE persons (person_id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT{extra})")
        con.executemany("INSERT INTO persons (person_id, name, updated_at) VALUES (?, ?, ?)",
                        [(i, f"居民{i}", f"2026-01-01 00:00:{i % 60:02d}") for i in rows])
    con.close()


def _rows(lake: Lake, sql: str) -> list[tuple]:
    with lake.reader() as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "src.db"
    _source(path, range(100))
    return path


def _connector(db: Path) -> SqlConnector:
    return get_connector("sql")({"url": f"sqlite:///{db}", "batch_rows": 30})


def test_incremental_merges_by_key_and_advances_state(settings: Settings, db: Path) -> None:
    lake, stream = Lake(settings), Stream(name="persons", primary_key=["person_id"], cursor="updated_at")
    first = load_stream(lake, DEPT, stream, _connector(db))
    assert (first.mode, first.rows_read, first.rows_inserted) == ("incremental", 100, 100)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE persons SET name = '改名', updated_at = '2026-02-01 00:00:00' WHERE person_id IN (3, 4)")
        con.execute("INSERT INTO persons VALUES (500, '新人', '2026-02-01 00:00:00')")
    con.close()
    second = load_stream(lake, DEPT, stream, _connector(db))
    # ">=" re-reads the one row sitting at the old cursor (00:00:59): late rows with that same value
    # are not lost; unchanged, it is neither rewritten nor counted as updated.
    assert (second.rows_read, second.rows_inserted, second.rows_updated) == (4, 1, 2)
    assert _rows(lake, "SELECT count(*), count(DISTINCT person_id) FROM raw_t.persons") == [(101, 101)]
    assert _rows(lake, "SELECT name FROM raw_t.persons WHERE person_id = 3") == [("改名",)]
    state = _rows(lake, "SELECT state FROM meta.stream_state WHERE stream = 'persons'")[0][0]
    assert "2026-02-01 00:00:00" in state
    full = load_stream(lake, DEPT, stream, _connector(db), full_refresh=True)
    assert full.rows_read == 101 and _rows(lake, "SELECT count(DISTINCT _load_id) FROM raw_t.persons") == [(1,)]


def test_rows_re_read_at_the_cursor_are_updated_only_if_they_changed(settings: Settings, db: Path) -> None:
    lake, stream = Lake(settings), Stream(name="persons", primary_key=["person_id"], cursor="updated_at")
    first = load_stream(lake, DEPT, stream, _connector(db))
    # Rows 59 and 119... sit at the highest cursor value, 00:00:59; only 59 exists in range(100).
    again = load_stream(lake, DEPT, stream, _connector(db))
    assert (again.rows_read, again.rows_inserted, again.rows_updated) == (1, 0, 0)
    assert _rows(lake, "SELECT _load_id FROM raw_t.persons WHERE person_id = 59") == [(first.load_id,)]
    with sqlite3.connect(db) as con:  # written in the same second as the last load's newest row
        con.execute("UPDATE persons SET name = '晚到' WHERE person_id = 59")
        con.execute("INSERT INTO persons VALUES (200, '同秒新人', '2026-01-01 00:00:59')")
    con.close()
    late = load_stream(lake, DEPT, stream, _connector(db))
    assert (late.rows_read, late.rows_inserted, late.rows_updated) == (2, 1, 1)
    assert _rows(lake, "SELECT name, _load_id FROM raw_t.persons WHERE person_id IN (59, 200) ORDER BY 1") == [
        ("同秒新人", late.load_id), ("晚到", late.load_id)]


def test_snapshot_derives_inserts_updates_and_deletes(settings: Settings, db: Path) -> None:
    lake, stream = Lake(settings), Stream(name="persons", primary_key=["person_id"])
    assert load_stream(lake, DEPT, stream, _connector(db)).mode == "snapshot"
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM persons WHERE person_id < 5")
        con.execute("UPDATE persons SET name = '改名' WHERE person_id = 50")
        con.execute("INSERT INTO persons VALUES (700, '新人', '2026-01-01 00:00:00')")
    con.close()
    result = load_stream(lake, DEPT, stream, _connector(db))
    assert (result.rows_inserted, result.rows_updated, result.rows_deleted) == (1, 1, 5)
    assert _rows(lake, "SELECT count(*), min(person_id) FROM raw_t.persons") == [(96, 5)]
    untouched = _rows(lake, "SELECT count(DISTINCT _load_id) FROM raw_t.persons WHERE person_id NOT IN (50, 700)")
    assert untouched == [(1,)]  # unchanged rows keep the load that brought them


def test_new_column_is_added_and_recorded(settings: Settings, db: Path) -> None:
    lake, stream = Lake(settings), Stream(name="persons", primary_key=["person_id"], cursor="updated_at")
    load_stream(lake, DEPT, stream, _connector(db))
    _source(db, range(100, 110), extra=", phone TEXT")
    with sqlite3.connect(db) as con:
        con.execute("UPDATE persons SET updated_at = '2026-05-01 00:00:00'")
    con.close()
    result = load_stream(lake, DEPT, stream, _connector(db))
    assert result.schema_changes == ["phone added"]
    assert _rows(lake, "SELECT column_name, change FROM meta.schema_changes") == [("phone", "added")]
    assert _rows(lake, "SELECT count(*), count(phone) FROM raw_t.persons") == [(110, 0)]


def test_dropped_column_stops_the_load_naming_department_stream_and_column(settings: Settings, db: Path) -> None:
    lake, stream = Lake(settings), Stream(name="persons", primary_key=["person_id"])
    load_stream(lake, DEPT, stream, _connector(db))
    with sqlite3.connect(db) as con:
        con.execute("ALTER TABLE persons DROP COLUMN name")
    con.close()
    with pytest.raises(SchemaDriftError, match=r"department t, stream persons: .*column 'name' dropped"):
        load_stream(lake, DEPT, stream, _connector(db))
    assert _rows(lake, "SELECT count(name) FROM raw_t.persons") == [(100,)]
    assert _rows(lake, "SELECT status FROM meta.loads ORDER BY started_at") == [("success",), ("failed",)]
    evolving = Stream(name="persons", primary_key=["person_id"], allow_schema_evolution=True)
    result = load_stream(lake, DEPT, evolving, _connector(db))
    assert result.schema_changes == ["name dropped"] and result.rows_updated == 100


class _CrashingConnector(SqlConnector):
    """Fails after a number of batches, like a process killed mid-load."""

    crash_after = 2

    def read(self, stream: Stream, state: dict | None = None, rejects: RejectSink | None = None
             ) -> Iterator[pa.RecordBatch]:
        for n, batch in enumerate(super().read(stream, state, rejects)):
            if n == self.crash_after:
                raise RuntimeError("killed mid-load")
            yield batch


def test_crash_mid_load_leaves_nothing_and_the_rerun_loads_exactly_the_missing_rows(settings: Settings,
                                                                                     db: Path) -> None:
    lake, stream = Lake(settings), Stream(name="persons", primary_key=["person_id"], cursor="updated_at")
    load_stream(lake, DEPT, stream, _connector(db))
    state_before = _rows(lake, "SELECT state FROM meta.stream_state")
    with sqlite3.connect(db) as con:
        con.executemany("INSERT INTO persons VALUES (?, ?, '2026-03-01 00:00:00')", [(i, f"新{i}") for i in range(1000, 1100)])
    con.close()
    with pytest.raises(Exception, match="killed mid-load"):  # DuckDB wraps it; the message survives
        load_stream(lake, DEPT, stream, _CrashingConnector({"url": f"sqlite:///{db}", "batch_rows": 30}))
    assert _rows(lake, "SELECT count(*) FROM raw_t.persons") == [(100,)]
    assert _rows(lake, "SELECT state FROM meta.stream_state") == state_before
    rerun = load_stream(lake, DEPT, stream, _connector(db))
    assert rerun.rows_inserted == 100
    assert _rows(lake, "SELECT count(*), count(DISTINCT person_id) FROM raw_t.persons") == [(200, 200)]


def test_progress_reports_every_row_with_a_total(settings: Settings, db: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    load_stream(Lake(settings), DEPT, Stream(name="persons", primary_key=["person_id"]), _connector(db),
                progress=lambda rows, total=None: seen.append((rows, total)))
    assert seen[0] == (0, 100) and sum(r for r, _ in seen) == 100


def test_a_load_reports_where_its_time_went(settings: Settings, db: Path) -> None:
    lake, stream = Lake(settings), Stream(name="persons", primary_key=["person_id"], cursor="updated_at")
    first = load_stream(lake, DEPT, stream, _connector(db))
    with sqlite3.connect(db) as con:
        con.execute("UPDATE persons SET name = '改名', updated_at = '2026-02-01 00:00:00' WHERE person_id = 3")
    con.close()
    second = load_stream(lake, DEPT, stream, _connector(db))
    # The first load rebuilds the table (nothing staged); the incremental one stages the changed rows.
    assert list(first.phases) == ["open", "write", "commit"]
    assert list(second.phases) == ["open", "stage", "write", "commit"]
    for result in (first, second):
        assert all(s >= 0 for s in result.phases.values())
        # The phases cover the load from its start to its commit, nothing twice.
        assert sum(result.phases.values()) == pytest.approx(result.seconds, abs=0.01)
        assert result.timing().split(" · ")[0].startswith("open ")
