"""One writer connection for a run of loads: the writer lock taken and the lake attached once, not once a stream."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from countyhub.lakehouse import meta
from countyhub.lakehouse.lake import Lake


class WriterSession:
    """A writer connection opened when first asked for, while the session's holder keeps the writer lock."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self._con: duckdb.DuckDBPyConnection | None = None
        self._states: dict[tuple[str, str], meta.StreamState] | None = None

    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = self.lake.open_writer()
        return self._con

    def states(self) -> dict[tuple[str, str], meta.StreamState] | None:
        """Every stream's committed state, read once (one scan instead of one a stream).

        None on a catalog without a writer lock (PostgreSQL): another writer may commit a state meanwhile, so
        each load reads its own just before it runs.
        """
        if not self.lake.settings.lake_is_embedded:
            return None
        if self._states is None:
            self._states = meta.read_states(self.connection())
        return self._states

    def loaded(self, department: str, stream: str) -> None:
        """The stream was loaded (or tried): its state is the lake's to say again."""
        if self._states is not None:
            self._states.pop((department, stream), None)

    def discard(self) -> None:
        """Close the connection; the next load opens a new one (after a failure: nothing it left can leak on)."""
        con, self._con, self._states = self._con, None, None
        if con is not None:
            con.close()


@contextmanager
def writer_session(lake: Lake) -> Iterator[WriterSession]:
    """Hold the writer lock for the session's life and close its connection at the end."""
    with lake.lock(shared=True):
        session = WriterSession(lake)
        try:
            yield session
        finally:
            session.discard()
