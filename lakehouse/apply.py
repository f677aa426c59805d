"""Apply incoming rows to a raw table: replace, append, upsert by key, per-file replace, or snapshot diff."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from countyhub.lakehouse import arrow_write, duplicates
from countyhub.lakehouse.rejects import RejectSpill

STAGE = "memory.main._countyhub_stage"  # local to the connection, spills to temp_directory


@dataclass
class Applied:
    """What a load did to its raw table."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    return con.execute(sql, params or []).fetchone()[0]


def _select_list(columns: dict[str, str], incoming: set[str], alias: str = "") -> str:
    # Columns the source no longer sends (evolution allowed) arrive as NULL, so the shape stays stable.
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{q(c)}" if c in incoming else f"NULL::{t}" for c, t in columns.items())


def _key_match(keys: list[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in keys)


def replace(con: duckdb.DuckDBPyConnection, table: str, relations: Iterable[str | pa.Table], params: list,
            load_id: str, at: datetime) -> Applied:
    """Create the table from the first chunk and append the others (all inside the load's transaction)."""
    for i, relation in enumerate(relations):
        if isinstance(relation, pa.Table):
            chunk = arrow_write.with_load_columns(relation, load_id, at)
            arrow_write.create(con, table, chunk) if i == 0 else arrow_write.insert(con, table, chunk)
            continue
        head = f"CREATE OR REPLACE TABLE {table} AS" if i == 0 else f"INSERT INTO {table}"
        con.execute(f"{head} SELECT *, ?::VARCHAR AS _load_id, ?::TIMESTAMPTZ AS _loaded_at FROM {relation}",
                    [load_id, at, *params])
    return Applied(inserted=_count(con, f"SELECT count(*) FROM {table}"))


def insert(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], incoming: set[str],
           relations: Iterable[str | pa.Table], params: list, load_id: str, at: datetime) -> int:
    names = ", ".join(q(c) for c in [*columns, "_load_id", "_loaded_at"])
    total, order = 0, None
    for relation in relations:
        if isinstance(relation, pa.Table):
            order = order or arrow_write.table_order(con, table)
            chunk = arrow_write.with_load_columns(relation, load_id, at)
            total += arrow_write.insert(con, table, arrow_write.arrange(chunk, order))
            continue
        sql = (f"INSERT INTO {table} ({names}) SELECT {_select_list(columns, incoming)}, ?::VARCHAR, "
               f"?::TIMESTAMPTZ FROM {relation}")
        total += con.execute(sql, [load_id, at, *params]).fetchone()[0]
    return total


def stage(con: duckdb.DuckDBPyConnection, relations: Iterable[str | pa.Table], params: list, keys: list[str],
          cursor: str | None, spill: RejectSpill) -> int:
    """Copy the incoming rows to a connection-local table (spills to disk), one row per key: the latest by cursor;
    rows that conflict with the kept one go to `spill` (see duplicates.collapse).

    Returns the rows read (before collapsing repeated keys)."""
    for i, relation in enumerate(relations):
        if isinstance(relation, pa.Table):
            arrow_write.create(con, STAGE, relation) if i == 0 else arrow_write.insert(con, STAGE, relation)
            continue
        head = f"CREATE OR REPLACE TABLE {STAGE} AS" if i == 0 else f"INSERT INTO {STAGE}"
        con.execute(f"{head} SELECT * FROM {relation}", params)
    if not keys:
        return _count(con, f"SELECT count(*) FROM {STAGE}")
    read = _count(con, f"SELECT count(*) FROM {STAGE}")
    duplicates.drop_empty_keys(con, STAGE, keys, spill)
    key_list = ", ".join(map(q, keys))
    # row(...) so a NULL key counts as a value, as it does in the PARTITION BY below.
    rows, unique = con.execute(f"SELECT count(*), count(DISTINCT row({key_list})) FROM {STAGE}").fetchone()
    if unique < rows:
        duplicates.collapse(con, STAGE, keys, cursor, spill)
    return read


def _row_hashes(columns: dict[str, str], incoming: set[str]) -> tuple[str, str]:
    """Hash of a staged row `s` and of a raw row `t` over the table's columns, equal when the values are.

    Every table column takes part: one the source stopped sending hashes as NULL, so its old values go.
    """
    staged = "hash(" + ", ".join(f"s.{q(c)}::{t}" if c in incoming else f"NULL::{t}" for c, t in columns.items()) + ")"
    return staged, "hash(" + ", ".join(f"t.{q(c)}" for c in columns) + ")"


def drop_unchanged(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], incoming: set[str],
                    keys: list[str], cursor: str, boundary: object) -> None:
    """Drop staged rows re-read at the old cursor that raw already holds as they are, before the merge.

    Run it before the load's transaction (that one may write only to the lake), with `columns` the raw
    table's, unchanged by drift. Only rows *at* the boundary can be unchanged (a later cursor means the
    source wrote them again), so raw is searched among its rows with that cursor value, which its files'
    statistics narrow down.
    """
    new_hash, old_hash = _row_hashes(columns, incoming)
    con.execute(f"DELETE FROM {STAGE} s WHERE s.{q(cursor)} = $b AND EXISTS (SELECT 1 FROM {table} t WHERE "
                f"t.{q(cursor)} = $b AND {_key_match(keys, 't', 's')} AND {old_hash} = {new_hash})", {"b": boundary})


def upsert(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], incoming: set[str],
           keys: list[str], load_id: str, at: datetime) -> Applied:
    """Merge the staged rows by key: a key present is replaced, a new key inserted; raw keeps one row per key."""
    # Raw holds one row per key, so the rows deleted are the keys updated: one scan of raw's keys, not two
    # (a count before the DELETE scanned them again). min(): a raw table that came from a source without a
    # unique key may hold a key twice; the counts then stay within what was staged.
    if not _count(con, f"SELECT count(*) FROM {STAGE}"):
        return Applied()  # nothing changed (drop_unchanged emptied the stage): no scan of raw for no key
    deleted = con.execute(f"DELETE FROM {table} t USING {STAGE} s WHERE {_key_match(keys, 't', 's')}").fetchone()[0]
    staged = insert(con, table, columns, incoming, [STAGE], [], load_id, at)
    updated = min(deleted, staged)
    return Applied(inserted=staged - updated, updated=updated)


def snapshot_diff(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], incoming: set[str],
                  keys: list[str], load_id: str, at: datetime) -> Applied:
    """Derive inserts, updates and deletes from a full snapshot by key and row hash; touch only those rows."""
    new_hash, old_hash = _row_hashes(columns, incoming)
    key_list = ", ".join(map(q, keys))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _countyhub_changed AS SELECT {', '.join(f's.{q(k)}' for k in keys)}, "
                f"t.{q(keys[0])} IS NULL AS is_new FROM {STAGE} s LEFT JOIN "
                f"(SELECT {', '.join(f't.{q(k)}' for k in keys)}, {old_hash} AS _h FROM {table} t) t "
                f"ON {_key_match(keys, 't', 's')} WHERE t._h IS DISTINCT FROM {new_hash}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _countyhub_gone AS SELECT {key_list} FROM {table} t "
                f"WHERE NOT EXISTS (SELECT 1 FROM {STAGE} s WHERE {_key_match(keys, 't', 's')})")
    inserted = _count(con, "SELECT count(*) FROM _countyhub_changed WHERE is_new")
    updated = _count(con, "SELECT count(*) FROM _countyhub_changed WHERE NOT is_new")
    deleted = _count(con, "SELECT count(*) FROM _countyhub_gone")
    # Each statement on raw is a DuckLake scan even when it has nothing to do: a day without changes runs none.
    for victims, count in (("(SELECT * FROM _countyhub_changed WHERE NOT is_new)", updated),
                           ("_countyhub_gone", deleted)):
        if count:
            con.execute(f"DELETE FROM {table} t USING {victims} v WHERE {_key_match(keys, 't', 'v')}")
    if inserted or updated:
        changed_rows = (f"(SELECT s.* FROM {STAGE} s SEMI JOIN _countyhub_changed c ON "
                        f"{_key_match(keys, 's', 'c')})")
        insert(con, table, columns, incoming, [changed_rows], [], load_id, at)
    return Applied(inserted, updated, deleted)


def delete_files(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], files: list[str],
                 load_id: str) -> int:
    """Remove the rows earlier loads took from files that were read again (changed), after the new rows went in."""
    if not files or "_source_file" not in columns:
        return 0
    marks = ", ".join("?" * len(files))
    return con.execute(f"DELETE FROM {table} WHERE _source_file IN ({marks}) AND _load_id <> ?",
                       [*files, load_id]).fetchone()[0]


def drop_stage(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {STAGE}")
    for name in ("_countyhub_changed", "_countyhub_gone"):
        con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")
    try:  # duckdb_views() would list the attached source's views too (a remote round trip): just try
        con.unregister("incoming")
    except duckdb.Error:
        pass
