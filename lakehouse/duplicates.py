"""Rows of one read that share a key, or have none: one is kept per key, and those that conflict with it or lack
their key go to quarantine."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from countyhub.connectors.base import Rejected
from countyhub.lakehouse.rejects import SOURCE_FILE, RejectSpill

RANKED = "_countyhub_ranked"  # a temporary table of the load's connection
KEPT_SUFFIX = "__countyhub_kept"  # beside a lake table in the load's transaction: its rows, one per key
LOAD_COLUMNS = ("_load_id", "_loaded_at")  # the raw table's own columns: not what the source said
BATCH_ROWS = 10_000


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def collapse(con: duckdb.DuckDBPyConnection, stage: str, keys: list[str], cursor: str | None,
             spill: RejectSpill, in_lake: bool = False) -> int:
    """Leave one row per key in `stage`: the latest by `cursor`. Returns the rows spilled to quarantine.

    An older version of a key (an earlier cursor) is superseded, as the upsert would have done had the loads
    come one by one; an exact copy of the kept row loses nothing. A row with the same key and cursor as the
    kept one but other values is a conflict nothing can settle: it goes to quarantine with the reason, so a
    steward sees both. Which one is kept is decided by a hash of the values, so the same data keeps the same
    row every load instead of flipping between them.

    `in_lake`: `stage` is a lake table inside the load's transaction, which may write no other database, so
    the ranking is computed twice as a query instead of kept in a temporary table.
    """
    columns = [d[0] for d in con.execute(f"SELECT * FROM {stage} LIMIT 0").description]
    # The file a row came from is not part of what it says: the same record in two drops is one record.
    values = "hash(" + ", ".join(q(c) for c in columns if c != SOURCE_FILE and c not in LOAD_COLUMNS) + ")"
    order = f"{q(cursor)} DESC NULLS LAST, _countyhub_hash" if cursor else "_countyhub_hash"
    kept_cursor = f", first_value({q(cursor)}) OVER w AS _countyhub_kept_cursor" if cursor else ""
    ranking = (f"SELECT *, row_number() OVER w AS _countyhub_n, first_value(_countyhub_hash) OVER w AS "
               f"_countyhub_kept_hash{kept_cursor} FROM (SELECT *, {values} AS _countyhub_hash FROM {stage}) "
               f"WINDOW w AS (PARTITION BY {', '.join(map(q, keys))} ORDER BY {order})")
    ranked = f"({ranking})"
    if not in_lake:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {RANKED} AS {ranking}")
        ranked = RANKED
    extra = "_countyhub_hash, _countyhub_n, _countyhub_kept_hash" + (", _countyhub_kept_cursor" if cursor else "")
    same_cursor = f" AND {q(cursor)} IS NOT DISTINCT FROM _countyhub_kept_cursor" if cursor else ""
    conflicts = con.execute(f"SELECT * EXCLUDE ({extra}) FROM {ranked} "
                            f"WHERE _countyhub_n > 1 AND _countyhub_hash <> _countyhub_kept_hash{same_cursor}")
    spilled = _spill(conflicts, spill, lambda row: _rejected(row, keys, cursor))
    kept = f"SELECT * EXCLUDE ({extra}) FROM {ranked} WHERE _countyhub_n = 1"
    if not in_lake:
        con.execute(f"CREATE OR REPLACE TABLE {stage} AS {kept}")
        con.execute(f"DROP TABLE temp.main.{RANKED}")
        return spilled
    # Replacing a lake table this transaction created by a query reading it corrupted DuckDB's memory now and
    # then (a segfault, or "basic_string::_M_create", in about one load in ten): the kept rows go through a table
    # of their own, made and dropped in the same transaction.
    staged = f"{stage}{KEPT_SUFFIX}"
    con.execute(f"CREATE TABLE {staged} AS {kept}")
    con.execute(f"CREATE OR REPLACE TABLE {stage} AS FROM {staged}")
    con.execute(f"DROP TABLE {staged}")
    return spilled


def _empty(keys: list[str]) -> str:
    """SQL: the row has no value in some key column (NULL, or text of only spaces)."""
    return " OR ".join(f"{q(k)} IS NULL OR trim({q(k)}::VARCHAR) = ''" for k in keys)


def drop_empty_keys(con: duckdb.DuckDBPyConnection, table: str, keys: list[str], spill: RejectSpill,
                    load_id: str | None = None) -> int:
    """Move the rows of `table` (of load `load_id` only, if given) whose key is empty to quarantine.

    A row without its key can never be updated or deleted by a later load (the merge matches keys with =), so
    it would stay in raw for good, out of date; a steward sees it in quarantine instead."""
    where = f"({_empty(keys)})" + (" AND _load_id = ?" if load_id else "")
    params = [load_id] if load_id else []
    if not con.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0]:
        return 0
    columns = [d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description]
    kept = ", ".join(q(c) for c in columns if c not in LOAD_COLUMNS)
    rows = con.execute(f"SELECT {kept} FROM {table} WHERE {where}", params)
    spilled = _spill(rows, spill, lambda row: _keyless(row, keys))
    con.execute(f"DELETE FROM {table} WHERE {where}", params)
    return spilled


def settle_written(con: duckdb.DuckDBPyConnection, table: str, keys: list[str], cursor: str | None, load_id: str,
                   spill: RejectSpill) -> int:
    """After a load rebuilt a keyed table (a first load, a full refresh; the table holds only its rows): rows
    without a key go to quarantine and repeated keys are settled as `collapse` settles a merging load's read, so
    raw holds one row per key from its first load on. Returns the rows taken out. One aggregate when all is well."""
    key_list = ", ".join(map(q, keys))
    rows, unique, empty = con.execute(f"SELECT count(*), count(DISTINCT row({key_list})), count(*) FILTER (WHERE "
                                      f"{_empty(keys)}) FROM {table} WHERE _load_id = ?", [load_id]).fetchone()
    if unique == rows and not empty:
        return 0
    drop_empty_keys(con, table, keys, spill, load_id)
    if unique < rows:
        collapse(con, table, keys, cursor, spill, in_lake=True)
    return rows - con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _spill(result: duckdb.DuckDBPyConnection, spill: RejectSpill, rejected: Callable[[dict], Rejected]) -> int:
    """Spill the rows of a query's result in batches; returns how many."""
    spilled = 0
    while batch := result.fetchmany(BATCH_ROWS):
        names = [d[0] for d in result.description]
        rows = [{k: v for k, v in zip(names, values, strict=True) if k not in LOAD_COLUMNS} for values in batch]
        spill.add([rejected(row) for row in rows])
        spilled += len(rows)
    return spilled


def _text(row: dict) -> dict[str, str | None]:
    return {k: None if v is None else str(v) for k, v in row.items()}


def _keyless(row: dict, keys: list[str]) -> Rejected:
    empty = [k for k in keys if row.get(k) is None or not str(row[k]).strip()]
    where = " ".join(p for p in (row.get(SOURCE_FILE), "key " + ", ".join(f"{k}={row.get(k)}" for k in keys)) if p)
    return Rejected(where, f"{', '.join(empty)}: the key is empty; a row without its key cannot be updated or "
                           "deleted by a later load", _text(row))


def _rejected(row: dict, keys: list[str], cursor: str | None) -> Rejected:
    key = ", ".join(f"{k}={row.get(k)}" for k in keys)
    same = f" and the same {cursor}" if cursor else ""
    where = " ".join(p for p in (row.get(SOURCE_FILE), f"key {key}") if p)
    return Rejected(where, f"duplicate key {key}: another row with this key{same} was loaded; this one differs",
                    _text(row))
