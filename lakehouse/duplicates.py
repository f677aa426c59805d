"""Rows of one read that share a key: one is kept per key, and those that conflict with it go to quarantine."""

from __future__ import annotations

import duckdb

from countyhub.connectors.base import Rejected
from countyhub.lakehouse.rejects import SOURCE_FILE, RejectSpill

RANKED = "_countyhub_ranked"  # a temporary table of the load's connection
BATCH_ROWS = 10_000


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def collapse(con: duckdb.DuckDBPyConnection, stage: str, keys: list[str], cursor: str | None,
             spill: RejectSpill) -> int:
    """Leave one row per key in `stage`: the latest by `cursor`. Returns the rows spilled to quarantine.

    An older version of a key (an earlier cursor) is superseded, as the upsert would have done had the loads
    come one by one; an exact copy of the kept row loses nothing. A row with the same key and cursor as the
    kept one but other values is a conflict nothing can settle: it goes to quarantine with the reason, so a
    steward sees both. Which one is kept is decided by a hash of the values, so the same data keeps the same
    row every load instead of flipping between them.
    """
    columns = [d[0] for d in con.execute(f"SELECT * FROM {stage} LIMIT 0").description]
    # The file a row came from is not part of what it says: the same record in two drops is one record.
    values = "hash(" + ", ".join(q(c) for c in columns if c != SOURCE_FILE) + ")"
    order = f"{q(cursor)} DESC NULLS LAST, _countyhub_hash" if cursor else "_countyhub_hash"
    kept_cursor = f", first_value({q(cursor)}) OVER w AS _countyhub_kept_cursor" if cursor else ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {RANKED} AS SELECT *, row_number() OVER w AS _countyhub_n, "
                f"first_value(_countyhub_hash) OVER w AS _countyhub_kept_hash{kept_cursor} "
                f"FROM (SELECT *, {values} AS _countyhub_hash FROM {stage}) "
                f"WINDOW w AS (PARTITION BY {', '.join(map(q, keys))} ORDER BY {order})")
    extra = "_countyhub_hash, _countyhub_n, _countyhub_kept_hash" + (", _countyhub_kept_cursor" if cursor else "")
    same_cursor = f" AND {q(cursor)} IS NOT DISTINCT FROM _countyhub_kept_cursor" if cursor else ""
    conflicts = con.execute(f"SELECT * EXCLUDE ({extra}) FROM {RANKED} "
                            f"WHERE _countyhub_n > 1 AND _countyhub_hash <> _countyhub_kept_hash{same_cursor}")
    spilled = 0
    while batch := conflicts.fetchmany(BATCH_ROWS):
        names = [d[0] for d in conflicts.description]
        rows = [dict(zip(names, values, strict=True)) for values in batch]
        spill.add([_rejected(row, keys, cursor) for row in rows])
        spilled += len(rows)
    con.execute(f"CREATE OR REPLACE TABLE {stage} AS SELECT * EXCLUDE ({extra}) FROM {RANKED} "
                "WHERE _countyhub_n = 1")
    con.execute(f"DROP TABLE temp.main.{RANKED}")
    return spilled


def _rejected(row: dict, keys: list[str], cursor: str | None) -> Rejected:
    key = ", ".join(f"{k}={row.get(k)}" for k in keys)
    same = f" and the same {cursor}" if cursor else ""
    where = " ".join(p for p in (row.get(SOURCE_FILE), f"key {key}") if p)
    return Rejected(where, f"duplicate key {key}: another row with this key{same} was loaded; this one differs",
                    {k: None if v is None else str(v) for k, v in row.items()})
