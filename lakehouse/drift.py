"""Schema drift between a source and its raw table: new columns are added and recorded; drops and retypes stop."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from countyhub.connectors.base import Connector, StreamEmptyError
from countyhub.core.departments import Stream
from countyhub.lakehouse import meta
from countyhub.lakehouse.names import LAKE

LOAD_COLUMNS = ("_load_id", "_loaded_at")
INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
DECIMAL = re.compile(r"^DECIMAL\((\d+),(\d+)\)$")


class SchemaDriftError(RuntimeError):
    """A source column was dropped or changed type; the message names department, stream and column."""


@dataclass
class Change:
    column: str
    change: str  # added | dropped | retyped | widened
    old_type: str | None
    new_type: str | None


def widens(old: str, new: str) -> bool:
    """True when every value of type `old` fits `new` (a promotion DuckLake can apply in place)."""
    if old == new:
        return True
    if old in INTEGERS and new in INTEGERS:
        return INTEGERS.index(old) <= INTEGERS.index(new)
    if (old, new) == ("FLOAT", "DOUBLE"):
        return True
    a, b = DECIMAL.match(old), DECIMAL.match(new)
    return bool(a and b and a.group(2) == b.group(2) and int(b.group(1)) >= int(a.group(1)))


def describe(con: duckdb.DuckDBPyConnection, relation: str, params: list | None = None) -> dict[str, str]:
    """Column name -> DuckDB type of any SELECT-able relation."""
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}", params or []).fetchall()}


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    """Columns of a lake table without the load columns ({} if the table does not exist)."""
    # duckdb_columns() is much cheaper than information_schema on a DuckLake catalog.
    rows = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
                       "AND schema_name = ? AND table_name = ? ORDER BY column_index", [LAKE, schema, table]).fetchall()
    return {name: type_ for name, type_ in rows if name not in LOAD_COLUMNS}


def empty_read_schema(con: duckdb.DuckDBPyConnection, connector: Connector, stream: Stream, table: str,
                      existing: dict[str, str]) -> pa.Schema:
    """The schema of a read that yielded no rows: what the source says (an API without records says
    nothing, unless the department file declares `columns:`), else the raw table's as last loaded."""
    try:
        schema = connector.schema_of(stream)
    except StreamEmptyError:
        if not existing:
            raise
        schema = pa.schema([])  # a drop folder cleared after its last load: nothing new, nothing dropped
    if len(schema) or not existing:
        return schema
    loaded = ", ".join(f'"{c}"' for c in existing)
    return con.execute(f"SELECT {loaded} FROM {table} LIMIT 0").arrow().schema


def compare(existing: dict[str, str], incoming: dict[str, str], empty_read: bool = False) -> list[Change]:
    """Changes from the raw table's columns to the incoming ones; a read without rows drops nothing."""
    changes = [Change(c, "added", None, t) for c, t in incoming.items() if c not in existing]
    for column, old in existing.items():
        new = incoming.get(column)
        if new is None and not empty_read:
            changes.append(Change(column, "dropped", old, None))
        elif new is not None and new != old:
            changes.append(Change(column, "widened" if widens(old, new) else "retyped", old, new))
    return changes


def check(changes: list[Change], department: str, stream: str, allow_evolution: bool) -> None:
    """Raise on a dropped or retyped column unless the department file allows evolution."""
    breaking = [c for c in changes if c.change in ("dropped", "retyped")]
    if breaking and not allow_evolution:
        what = "; ".join(f"column {c.column!r} {c.change}" + (f" from {c.old_type} to {c.new_type}" if c.new_type else "")
                         for c in breaking)
        raise SchemaDriftError(
            f"department {department}, stream {stream}: schema drift: {what}. The load stopped and nothing changed; "
            f"set `allow_schema_evolution: true` on the stream in departments/{department}.yml to accept it")


def evolve(con: duckdb.DuckDBPyConnection, table: str, changes: list[Change]) -> None:
    """Bring an existing raw table to the incoming shape before rows are merged into it."""
    for c in changes:
        if c.change == "added":
            con.execute(f'ALTER TABLE {table} ADD COLUMN "{c.column}" {c.new_type}')
        elif c.change in ("widened", "retyped"):
            try:
                con.execute(f'ALTER TABLE {table} ALTER COLUMN "{c.column}" SET DATA TYPE {c.new_type}')
            except duckdb.Error as exc:
                raise SchemaDriftError(f"{table}: column {c.column!r} cannot change from {c.old_type} to "
                                       f"{c.new_type} in place ({exc}); run the load with --full-refresh") from None


def record(con: duckdb.DuckDBPyConnection, department: str, stream: str, changes: list[Change],
           load_id: str, at: datetime) -> None:
    """Keep the load's changes in meta.schema_changes, in the load's transaction."""
    meta.write_schema_changes(con, [meta.SchemaChange(department, stream, c.column, c.change, c.old_type, c.new_type,
                                                      load_id, at) for c in changes])
