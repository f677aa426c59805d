"""Serving copies: the gateway reads a published table from an in-memory copy of its current lake snapshot."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

log = logging.getLogger(__name__)
COPY_PREFIX = "_countyhub_copy_"  # sqlcheck refuses every name outside shared.<dataset>: callers cannot name a copy


@dataclass(frozen=True)
class Copy:
    snapshot: int
    relation: str  # memory.main."<COPY_PREFIX><table>_<snapshot>"
    size: int  # bytes of memory it holds


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def current_snapshot(con: duckdb.DuckDBPyConnection) -> int:
    """The lake's latest snapshot id: DuckLake reads its metadata for it (about a millisecond on SQLite)."""
    return int(con.execute("SELECT id FROM lake.current_snapshot()").fetchone()[0])  # type: ignore[index]


class ServingCache:
    """In-memory copies of published tables, each tagged with the lake snapshot it was copied at.

    Why: a page of a Parquet-backed table costs a Parquet footer read and the decoding of whole pages per call
    (about 10 ms for 100 rows of a million); an in-memory copy answers the same page in 2-3 ms. A published
    version never changes, so a copy is exact for as long as the lake's snapshot is the one it was taken at.
    Any later snapshot makes every copy stale: the caller is then served from the lake itself (never a stale
    row) while one background thread per table takes a fresh copy. A copy that would hold more than
    `budget_bytes` (with the others) is dropped again and that table is served from the lake at that snapshot.
    """

    def __init__(self, cursor: Callable[[], duckdb.DuckDBPyConnection], budget_bytes: int) -> None:
        self._cursor, self.budget = cursor, budget_bytes
        self._copies: dict[str, Copy] = {}
        self._building: dict[str, threading.Thread] = {}
        self._too_big: dict[str, int] = {}  # table -> snapshot at which its copy did not fit
        self._lock = threading.Lock()
        self._one_at_a_time = threading.Lock()  # copies are taken in turn: each measures the memory it added

    def source(self, con: duckdb.DuckDBPyConnection, table: str) -> str:
        """The relation to read `shared.<table>` from now: its copy when current, else the lake table."""
        lake_table = f"lake.{_q('shared')}.{_q(table)}"
        if self.budget <= 0:
            return lake_table
        try:
            snapshot = current_snapshot(con)
        except duckdb.Error:
            return lake_table  # the lake's own read will say what is wrong, in the gateway's words
        with self._lock:
            copy = self._copies.get(table)
            if copy is not None and copy.snapshot == snapshot:
                return copy.relation
            if table not in self._building and self._too_big.get(table) != snapshot:
                thread = threading.Thread(target=self._build, args=(table, snapshot), daemon=True,
                                          name=f"countyhub-copy-{table}")
                self._building[table] = thread
                thread.start()
        return lake_table

    def _build(self, table: str, snapshot: int) -> None:
        try:
            with self._one_at_a_time:
                self._copy(table, snapshot)
        except duckdb.Error as exc:
            # The lake still answers: a failed copy only costs speed (e.g. the table was dropped meanwhile).
            log.warning("no serving copy of shared.%s: %s", table, str(exc).splitlines()[0][:200])
        finally:
            with self._lock:
                self._building.pop(table, None)

    def _copy(self, table: str, snapshot: int) -> None:
        relation = f"memory.main.{_q(f'{COPY_PREFIX}{table}_{snapshot}')}"
        con = self._cursor()
        try:
            before = self._in_memory(con)
            con.execute(f"CREATE OR REPLACE TABLE {relation} AS "
                        f"SELECT * FROM lake.{_q('shared')}.{_q(table)} AT (VERSION => {int(snapshot)})")
            size = max(self._in_memory(con) - before, 0)
            with self._lock:
                others = sum(c.size for name, c in self._copies.items() if name != table)
                fits = others + size <= self.budget
                old = self._copies.pop(table, None)
                if fits:
                    self._copies[table] = Copy(snapshot, relation, size)
                else:
                    self._too_big[table] = snapshot
            if old is not None:
                con.execute(f"DROP TABLE IF EXISTS {old.relation}")  # readers mid-query keep their snapshot of it
            if not fits:
                con.execute(f"DROP TABLE IF EXISTS {relation}")
                log.info("shared.%s is served from the lake: a copy needs %d MB beyond the %d MB budget",
                         table, size >> 20, self.budget >> 20)
        finally:
            con.close()

    @staticmethod
    def _in_memory(con: duckdb.DuckDBPyConnection) -> int:
        row = con.execute("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() "
                          "WHERE tag = 'IN_MEMORY_TABLE'").fetchone()
        return int(row[0]) if row else 0

    def wait(self, timeout: float = 60.0) -> None:
        """Until the copies being taken now are done (tests and the benchmark's warm-up)."""
        with self._lock:
            threads = list(self._building.values())
        for thread in threads:
            thread.join(timeout)

    def copies(self) -> dict[str, Copy]:
        with self._lock:
            return dict(self._copies)
