"""What a table's rows hash to whatever their order, and how many rows two versions of a table differ by."""

from __future__ import annotations

import hashlib

import duckdb


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in con.execute(f"DESCRIBE {relation}").fetchall()]


def content_hash(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """A digest of the relation's column names, types and rows (a multiset: row order does not count).

    Two 64-bit row hashes summed without overflow, so a changed, added, removed or duplicated row changes it.
    """
    count, first, second = con.execute(
        f"SELECT count(*), coalesce(sum(hash(_r)::HUGEINT), 0), coalesce(sum(hash(_r, 'countyhub')::HUGEINT), 0) "
        f"FROM {relation} AS _r").fetchone()
    text = f"{_columns(con, relation)}|{count}|{first}|{second}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def row_changes(con: duckdb.DuckDBPyConnection, new: str, old: str, where: str = "TRUE") -> tuple[int, int] | None:
    """(rows in `new` not in `old`, rows in `old` not in `new`), duplicates counted; a changed row is one of each.

    None when the two have different columns (a contract change reshaped the dataset: every row changed).
    `where` filters `new` (its rows as `_b`, as publish names them).
    """
    if _columns(con, new) != _columns(con, old):
        return None
    added, removed = con.execute(
        f"WITH n AS (SELECT hash(_b) AS h, count(*) AS c FROM {new} AS _b WHERE {where} GROUP BY 1), "
        f"o AS (SELECT hash(_r) AS h, count(*) AS c FROM {old} AS _r GROUP BY 1) "
        "SELECT coalesce(sum(greatest(coalesce(n.c, 0) - coalesce(o.c, 0), 0)), 0), "
        "coalesce(sum(greatest(coalesce(o.c, 0) - coalesce(n.c, 0), 0)), 0) FROM n FULL JOIN o USING (h)").fetchone()
    return int(added), int(removed)
