"""The lake's own tables (`lake.meta.*`): their shape by schema version, the one migration, typed load rows."""

from __future__ import annotations

import json
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from typing import Any

import duckdb

from countyhub.lakehouse.names import LAKE


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    since: int = 1  # the schema version that added it


def _columns(spec: str, since: int = 1) -> tuple[Column, ...]:
    """'a VARCHAR, b BIGINT' -> columns added in schema version `since`."""
    return tuple(Column(*part.split(), since=since) for part in spec.split(","))  # type: ignore[misc]


# Every meta table, its columns in table order, and the schema version that added each column. Version 1 is
# the shape each table was first created with; 2 the columns added later with ALTER TABLE (older lakes have
# them appended, so this order is also theirs); 3 schema_version itself; 4 skipped lines (titles, footers); 5 what a
# publication's rows hash to and how many it added and removed; 6 publication_snapshots. Add a column: append it here with
# the next version; the next writer to open an older lake adds it, in one commit with everything else missing.
TABLES: dict[str, tuple[Column, ...]] = {
    "schema_version": _columns("version INTEGER, applied_at TIMESTAMPTZ", since=3),
    "loads": _columns("load_id VARCHAR, department VARCHAR, stream VARCHAR, rows_read BIGINT, rows_loaded BIGINT, "
                      "bytes_read BIGINT, status VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, "
                      "message VARCHAR")
    + _columns("mode VARCHAR, rows_quarantined BIGINT, rows_inserted BIGINT, rows_updated BIGINT, "
               "rows_deleted BIGINT", since=2)
    + _columns("rows_skipped BIGINT", since=4),
    # Lines of a file that were not data (titles, notes, footers), per load: out of the rows, never lost.
    "skipped_lines": _columns("load_id VARCHAR, department VARCHAR, stream VARCHAR, location VARCHAR, "
                              "reason VARCHAR, line VARCHAR", since=4),
    "stream_state": _columns("department VARCHAR, stream VARCHAR, state VARCHAR, load_id VARCHAR, "
                             "updated_at TIMESTAMPTZ"),
    "schema_changes": _columns("department VARCHAR, stream VARCHAR, column_name VARCHAR, change VARCHAR, "
                               "old_type VARCHAR, new_type VARCHAR, load_id VARCHAR, changed_at TIMESTAMPTZ"),
    "publications": _columns("dataset VARCHAR, version INTEGER, snapshot_id BIGINT, rows BIGINT, gate_run_id VARCHAR, "
                             "contract_version VARCHAR, published_at TIMESTAMPTZ")
    + _columns("quarantined BIGINT, warnings INTEGER, restored_version INTEGER, contract_yaml VARCHAR", since=2)
    + _columns("content_hash VARCHAR, rows_added BIGINT, rows_removed BIGINT", since=5),
    # A version's snapshot id as its commit got it, where another writer's commit took the one expected. Appended:
    # an UPDATE of publications deletes from it, and DuckLake then refuses every publish committing beside it.
    "publication_snapshots": _columns("dataset VARCHAR, version INTEGER, snapshot_id BIGINT", since=6),
    "gate_runs": _columns("run_id VARCHAR, dataset VARCHAR, department VARCHAR, contract_version VARCHAR, "
                          "status VARCHAR, success BOOLEAN, reason VARCHAR, row_count BIGINT, rules INTEGER, "
                          "rules_passed INTEGER, warnings INTEGER, quarantined BIGINT, published_version INTEGER, "
                          "data_docs VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ"),
    "gate_results": _columns("run_id VARCHAR, dataset VARCHAR, rule VARCHAR, kind VARCHAR, column_name VARCHAR, "
                             "severity VARCHAR, expectation VARCHAR, observed VARCHAR, threshold VARCHAR, "
                             "success BOOLEAN, message VARCHAR, samples_json VARCHAR"),
}
VERSION = max(c.since for columns in TABLES.values() for c in columns)


def table(name: str) -> str:
    """The qualified name of a meta table: lake.meta.<name>."""
    return f"{LAKE}.meta.{name}"


def meta_columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """{table: its columns} for every table in lake.meta now: one catalog query (cheap on DuckLake)."""
    found: dict[str, set[str]] = {}
    for name, column in con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = ? "
                                    "AND schema_name = 'meta'", [LAKE]).fetchall():
        found.setdefault(name, set()).add(column)
    return found


def present_columns(con: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    """The columns meta table `name` has now; empty when the lake has no such table (the one existence check)."""
    rows = con.execute("SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = 'meta' "
                       "AND table_name = ?", [LAKE, name]).fetchall()
    return {r[0] for r in rows}


def pending(have: dict[str, set[str]]) -> list[str]:
    """The DDL that brings tables with columns `have` to VERSION (empty when they are there)."""
    todo = []
    for name, columns in TABLES.items():
        if name not in have:
            todo.append(f"CREATE TABLE IF NOT EXISTS {table(name)} ("
                        + ", ".join(f"{c.name} {c.type}" for c in columns) + ")")
            continue
        todo += [f"ALTER TABLE {table(name)} ADD COLUMN IF NOT EXISTS {c.name} {c.type}"
                 for c in columns if c.name not in have[name]]
    return todo


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring lake.meta to VERSION in one commit and record it in meta.schema_version; returns the DDL run.

    Each DDL statement on its own would be a DuckLake commit: look first (one catalog query), so a
    writer opening a lake that is up to date commits nothing and a routine load commits only its data.
    """
    todo = pending(meta_columns(con))
    if not todo:
        return 0
    con.execute("BEGIN")
    try:
        for sql in todo:
            con.execute(sql)
        con.execute(f"INSERT INTO {table('schema_version')} (version, applied_at) VALUES (?, ?)",
                    [VERSION, datetime.now(UTC)])
        con.execute("COMMIT")
    except duckdb.Error:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # the failed COMMIT already ended the transaction
        # A PostgreSQL catalog has no writer lock: another writer may have just migrated the same lake.
        if pending(meta_columns(con)):
            raise
    return len(todo)


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The highest schema version a migration recorded (None for a lake from before versions were recorded)."""
    if not present_columns(con, "schema_version"):
        return None
    return con.execute(f"SELECT max(version) FROM {table('schema_version')}").fetchone()[0]


def select_list(con: duckdb.DuckDBPyConnection, name: str, columns: list[str]) -> str | None:
    """`columns` to SELECT from meta table `name`, NULL for those an unmigrated lake lacks; None without the table.

    Readers may open a lake no writer of this version has opened yet (it is migrated on the next write).
    """
    have = present_columns(con, name)
    return ", ".join(c if c in have else f"NULL AS {c}" for c in columns) if have else None


def insert_rows(con: duckdb.DuckDBPyConnection, name: str, rows: list[Any]) -> None:
    """Append dataclass rows whose fields are named as the table's columns."""
    if not rows:
        return
    names = [f.name for f in fields(rows[0])]
    con.executemany(f"INSERT INTO {table(name)} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                    [list(astuple(r)) for r in rows])


def read_rows(con: duckdb.DuckDBPyConnection, cls: type, name: str, where: str = "", params: list | None = None,
          order: str = "") -> list[Any]:
    """Rows of meta table `name` as `cls` (fields named as columns); [] when the lake has no such table."""
    columns = select_list(con, name, [f.name for f in fields(cls)])
    if columns is None:
        return []
    sql = f"SELECT {columns} FROM {table(name)}" + (f" WHERE {where}" if where else "") + (
        f" ORDER BY {order}" if order else "")
    return [cls(*row) for row in con.execute(sql, params or []).fetchall()]


@dataclass(frozen=True)
class LoadRecord:
    """One row of meta.loads: one load, successful or failed (columns added in version 2 are None on older rows)."""

    load_id: str
    department: str
    stream: str
    rows_read: int
    rows_loaded: int
    bytes_read: int
    status: str  # success | failed
    started_at: datetime
    finished_at: datetime
    message: str
    mode: str | None = None
    rows_quarantined: int | None = 0
    rows_inserted: int | None = 0
    rows_updated: int | None = 0
    rows_deleted: int | None = 0
    rows_skipped: int | None = 0  # lines that were not data (title, notes, footer), not counted in rows_read


def write_load(con: duckdb.DuckDBPyConnection, record: LoadRecord) -> None:
    """Log one load; a success inside the load's transaction, a failure after its rollback."""
    insert_rows(con, "loads", [record])


def loads(con: duckdb.DuckDBPyConnection) -> list[LoadRecord]:
    """Every logged load, oldest first."""
    return read_rows(con, LoadRecord, "loads", order="started_at")


@dataclass(frozen=True)
class SkippedLine:
    """One line a load kept out of the data (meta.skipped_lines): a title, a note or a footer, with its text."""

    load_id: str
    department: str
    stream: str
    location: str
    reason: str
    line: str


def write_skipped_lines(con: duckdb.DuckDBPyConnection, lines: list[SkippedLine]) -> None:
    insert_rows(con, "skipped_lines", lines)


def skipped_lines(con: duckdb.DuckDBPyConnection, department: str, stream: str,
                  load_id: str | None = None) -> list[SkippedLine]:
    """Lines the stream's loads (or one load) kept out of the data, in file order per load."""
    where, params = "department = ? AND stream = ?", [department, stream]
    if load_id:
        where, params = where + " AND load_id = ?", [*params, load_id]
    return read_rows(con, SkippedLine, "skipped_lines", where, params)


@dataclass(frozen=True)
class StreamState:
    """What the last committed load of a stream left for the next one: cursor, files seen (meta.stream_state)."""

    department: str
    stream: str
    state: dict[str, Any]
    load_id: str
    updated_at: datetime


def read_state(con: duckdb.DuckDBPyConnection, department: str, stream: str) -> StreamState | None:
    """The state the last committed load left, with the cursor typed again (None if no load committed)."""
    # write_state replaces the row, so there is one: picked here rather than by ORDER BY ... LIMIT 1, which
    # DuckLake runs as two scans of the table (each a catalog round trip) to find and then fetch it.
    rows = con.execute(f"SELECT state, load_id, updated_at FROM {table('stream_state')} WHERE department = ? AND "
                       "stream = ?", [department, stream]).fetchall()
    if not rows:
        return None
    return _typed(con, department, stream, max(rows, key=lambda r: r[2]))


def read_states(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], StreamState]:
    """Every stream's committed state by (department, stream): one scan of the table, not one a stream."""
    latest: dict[tuple[str, str], tuple] = {}
    for department, stream, *row in con.execute(f"SELECT department, stream, state, load_id, updated_at FROM "
                                                f"{table('stream_state')}").fetchall():
        if (department, stream) not in latest or row[2] > latest[department, stream][2]:
            latest[department, stream] = tuple(row)
    return {key: _typed(con, *key, row) for key, row in latest.items()}


def _typed(con: duckdb.DuckDBPyConnection, department: str, stream: str, row: tuple) -> StreamState:
    state = json.loads(row[0])
    if state.get("cursor") is not None and state.get("cursor_type"):
        # The cursor travels as text; cast it back so the source compares like with like.
        state["cursor"] = con.execute(f"SELECT CAST(? AS {state['cursor_type']})", [state["cursor"]]).fetchone()[0]
    return StreamState(department, stream, state, row[1], row[2])


def write_state(con: duckdb.DuckDBPyConnection, state: StreamState) -> None:
    """Replace the stream's state; call inside the load's transaction so it commits with the rows."""
    con.execute(f"DELETE FROM {table('stream_state')} WHERE department = ? AND stream = ?",
                [state.department, state.stream])
    con.execute(f"INSERT INTO {table('stream_state')} (department, stream, state, load_id, updated_at) "
                "VALUES (?, ?, ?, ?, ?)", [state.department, state.stream,
                                           json.dumps(state.state, ensure_ascii=False, default=str),
                                           state.load_id, state.updated_at])


@dataclass(frozen=True)
class SchemaChange:
    """One column change a load found in its source and applied (meta.schema_changes)."""

    department: str
    stream: str
    column_name: str
    change: str  # added | dropped | retyped | widened
    old_type: str | None
    new_type: str | None
    load_id: str
    changed_at: datetime


def write_schema_changes(con: duckdb.DuckDBPyConnection, changes: list[SchemaChange]) -> None:
    insert_rows(con, "schema_changes", changes)


def schema_changes(con: duckdb.DuckDBPyConnection, department: str | None = None,
                   stream: str | None = None) -> list[SchemaChange]:
    """The stream's recorded schema changes (every stream's without one), newest first ([] on a lake without any)."""
    where = "department = ? AND stream = ?" if department is not None else ""
    return read_rows(con, SchemaChange, "schema_changes", where, [department, stream] if where else [],
                     order="changed_at DESC, column_name")
