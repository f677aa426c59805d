"""Pick a day's rows in place: random rows by rowid probes, and persons read by index, never whole tables."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterable, Sequence
from typing import TypeVar

from countyhub.demo.household import Person

# Tables this small are sampled from their full key list: cheaper than probing, and exact when rows are sparse.
SMALL_TABLE = 50_000
_CHUNK = 500  # host parameters per IN (...) list
_ROUNDS = 8  # probe rounds before falling back to the full key list
T = TypeVar("T")


def batched(items: Iterable[T], size: int = _CHUNK) -> list[tuple[T, ...]]:
    """`items` in tuples of `size`: SQLite caps the host parameters of one statement."""
    listed = list(items)
    return [tuple(listed[i:i + size]) for i in range(0, len(listed), size)]


def count(conn: sqlite3.Connection, table: str, where: str = "1", params: Sequence = ()) -> int:
    return conn.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0]


def _matching(conn: sqlite3.Connection, table: str, where: str, params: Sequence, rowids: Iterable[int]) -> set[int]:
    found: set[int] = set()
    for chunk in batched(rowids):
        found |= {r[0] for r in conn.execute(f"SELECT rowid FROM {table} WHERE rowid IN ({','.join('?' * len(chunk))}) "
                                             f"AND ({where})", (*chunk, *params))}
    return found


def sample_rowids(conn: sqlite3.Connection, table: str, rng: random.Random, k: int, where: str = "1",
                  params: Sequence = (), indexed: bool = False) -> list[int]:
    """Up to k distinct rowids of `table` rows matching `where`, at random: random rowids between the lowest and
    highest probed through the rowid b-tree (deleted rows leave holes, so it draws more than it needs). An
    `indexed` condition is answered from its index instead: the matching rowids, sampled."""
    if k <= 0:
        return []
    low, high = conn.execute(f"SELECT min(rowid), max(rowid) FROM {table}").fetchone()
    if low is None:
        return []
    picked: dict[int, None] = {}  # insertion-ordered: the sample follows the draw, so it is deterministic
    if high - low >= SMALL_TABLE and not indexed:
        for _ in range(_ROUNDS):
            need = k - len(picked)
            if need <= 0:
                break
            probes = [p for p in dict.fromkeys(rng.randint(low, high) for _ in range(2 * need + 8)) if p not in picked]
            found = _matching(conn, table, where, params, probes)
            for probe in probes:
                if probe in found and len(picked) < k:
                    picked[probe] = None
    if len(picked) < k:  # a small table, or matching rows too sparse to hit by probing
        rest = [r[0] for r in conn.execute(f"SELECT rowid FROM {table} WHERE {where} ORDER BY rowid", params)
                if r[0] not in picked]
        picked.update((p, None) for p in rng.sample(rest, min(len(rest), k - len(picked))))
    return list(picked)


def by_key(params: list[tuple]) -> list[tuple]:
    """UPDATE parameters ordered by their last value, the row's key: the b-tree's pages are visited in order."""
    return sorted(params, key=lambda row: row[-1])


def rows_at(conn: sqlite3.Connection, table: str, columns: str, rowids: Sequence[int]) -> list[tuple]:
    """`columns` of the rows at `rowids`, in that order (rowid first)."""
    rows: dict[int, tuple] = {}
    for chunk in batched(rowids):
        rows |= {r[0]: r for r in conn.execute(f"SELECT rowid, {columns} FROM {table} "
                                               f"WHERE rowid IN ({','.join('?' * len(chunk))})", chunk)}
    return [rows[r] for r in rowids if r in rows]


class Population:
    """The gaj persons table as the other systems' day reads it: samples and index lookups, as Person rows."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def count(self) -> int:
        return count(self.conn, "persons")

    def at(self, person_ids: Sequence[int]) -> list[Person]:
        return [Person(*row[1:]) for row in rows_at(self.conn, "persons", "*", person_ids)]

    def sample(self, rng: random.Random, k: int, where: str = "1", params: Sequence = ()) -> list[Person]:
        return self.at(sample_rowids(self.conn, "persons", rng, k, where, params))

    def where(self, condition: str, params: Sequence = ()) -> list[Person]:
        """Persons matching an indexed condition (birth_date, household_id), by person_id."""
        return [Person(*row) for row in self.conn.execute(
            f"SELECT * FROM persons WHERE {condition} ORDER BY person_id", params)]

    def ids_where(self, condition: str, params: Sequence = ()) -> list[int]:
        return [r[0] for r in self.conn.execute(
            f"SELECT person_id FROM persons WHERE {condition} ORDER BY person_id", params)]
