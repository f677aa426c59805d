"""Serving indexes for data services: each published version of a table sorted by its key, swapped in whole."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from countyhub.sharing.serving import current_snapshot

log = logging.getLogger(__name__)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class KeyIndex:
    """One version of one table: its rows sorted by the key, and the keys as a numpy byte-string array.

    A lookup is two binary searches (a few microseconds) and never touches the lake. Memory per million rows:
    the key array (its width in bytes per row: 18 MB for ID numbers) plus the Arrow columns the table's services
    read (bench/bench_services.py prints both for the demo).
    """

    table: str
    key: str
    snapshot: int
    keys: np.ndarray
    rows: pa.Table

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes) + int(self.rows.nbytes)

    def find(self, value: object) -> pa.Table:
        """The rows whose key equals `value` (none, one, or several for a non-unique key)."""
        probe = np.array([str(value).encode()], dtype=self.keys.dtype)
        if len(probe[0]) != len(str(value).encode()):  # longer than any key: it cannot be one
            return self.rows.slice(0, 0)
        start = int(np.searchsorted(self.keys, probe[0], "left"))
        end = int(np.searchsorted(self.keys, probe[0], "right"))
        return self.rows.slice(start, end - start)


def build_index(con: duckdb.DuckDBPyConnection, table: str, key: str, columns: tuple[str, ...],
                snapshot: int) -> KeyIndex:
    """Read `columns` of shared.<table> at `snapshot` and sort them by `key` (rows without a key are left out)."""
    wanted = ", ".join(_q(c) for c in dict.fromkeys((key, *columns)))
    rows = con.execute(f"SELECT {wanted} FROM lake.{_q('shared')}.{_q(table)} AT (VERSION => {int(snapshot)}) "
                       f"WHERE {_q(key)} IS NOT NULL").to_arrow_table()
    keys = np.array([str(v).encode() for v in rows.column(key).to_pylist()], dtype=bytes)
    if not len(keys):
        keys = np.array([], dtype="S1")
    order = np.argsort(keys, kind="stable")
    return KeyIndex(table, key, snapshot, keys[order], rows.take(pa.array(order)))


class ServiceIndexes:
    """The current KeyIndex per (table, key); a poller swaps in a new one after a publish changes the table.

    A call reads one KeyIndex reference, so it sees one version whole: the old one until the new one is built,
    then the new one (never a mix). The first call for a table builds its index before answering.
    """

    def __init__(self, cursor: Callable[[], duckdb.DuckDBPyConnection], poll_seconds: float = 1.0) -> None:
        self._cursor, self.poll_seconds = cursor, poll_seconds
        self._wanted: dict[tuple[str, str], tuple[str, ...]] = {}
        self._current: dict[tuple[str, str], KeyIndex] = {}
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()

    def want(self, table: str, key: str, columns: tuple[str, ...]) -> None:
        """Declare that services read `columns` of `table` by `key` (the union over its services is held)."""
        with self._lock:
            have = self._wanted.get((table, key), ())
            self._wanted[(table, key)] = tuple(dict.fromkeys((*have, *columns)))

    def ready(self, table: str, key: str) -> bool:
        return (table, key) in self._current

    def get(self, table: str, key: str) -> KeyIndex:
        index = self._current.get((table, key))
        if index is None:
            with self._build_lock:  # the first callers wait for one build, not one each
                index = self._current.get((table, key))
                if index is None:
                    index = self._build(table, key)
            self._start_poller()
        return index

    def _build(self, table: str, key: str, snapshot: int | None = None) -> KeyIndex:
        con = self._cursor()
        try:
            snap = current_snapshot(con) if snapshot is None else snapshot
            with self._lock:
                columns = self._wanted.get((table, key), ())
            started = time.perf_counter()
            index = build_index(con, table, key, columns, snap)
        finally:
            con.close()
        self._current[(table, key)] = index  # one assignment: callers see the old index or the new one
        log.info("serving index of shared.%s by %s at snapshot %d: %d rows, %d MB, %.1f s", table, key, snap,
                 index.rows.num_rows, index.nbytes >> 20, time.perf_counter() - started)
        return index

    def _start_poller(self) -> None:
        with self._lock:
            if self._poller is None:
                self._poller = threading.Thread(target=self._poll, name="countyhub-service-index", daemon=True)
                self._poller.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except duckdb.Error as exc:  # the lake away for a moment: keep serving the version held
                log.warning("serving indexes not refreshed: %s", str(exc).splitlines()[0][:200])

    def refresh(self) -> int:
        """Rebuild the indexes whose table changed since their snapshot; returns how many were rebuilt."""
        con = self._cursor()
        try:
            snapshot = current_snapshot(con)
            stale = [(k, i) for k, i in list(self._current.items()) if i.snapshot < snapshot]
            changed = [k for k, i in stale if table_changed(con, i.table, i.snapshot)]
        finally:
            con.close()
        for table_key, index in stale:
            if table_key in changed:
                with self._build_lock:
                    self._build(*table_key, snapshot=snapshot)
            else:  # untouched by the new snapshots (a raw load, another table): the same rows, newer tag
                self._current[table_key] = KeyIndex(index.table, index.key, snapshot, index.keys, index.rows)
        return len(changed)

    def close(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(5)

    def indexes(self) -> list[KeyIndex]:
        return list(self._current.values())


def table_changed(con: duckdb.DuckDBPyConnection, table: str, since: int) -> bool:
    """Whether any snapshot after `since` touched shared.<table> (created, replaced, dropped, inserted, deleted,
    altered). DuckLake names a table in a snapshot's changes by name or by table id; anything naming this table
    or one of its ids counts, and so does a change that cannot be read (a needless rebuild, never a stale one)."""
    ids = {str(r[0]) for r in con.execute(
        "SELECT table_id FROM ducklake_table_info('lake') WHERE table_name = ?",  # any schema's: conservative
        [table]).fetchall()}
    names = {table, f"shared.{table}", f'"shared"."{table}"', f"shared.{_q(table)}"}
    for (changes,) in con.execute("SELECT changes FROM lake.snapshots() WHERE snapshot_id > ?", [since]).fetchall():
        if not isinstance(changes, dict):
            return True
        for values in changes.values():
            for value in values or []:
                if str(value) in ids or str(value) in names:
                    return True
    return False
