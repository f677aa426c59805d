"""Progress for loads DuckDB runs by itself (scanner → lake): poll the query's progress from a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb

POLL_S = 0.5


@contextmanager
def poll_progress(con: duckdb.DuckDBPyConnection, tick: Callable[..., None] | None, total: int | None,
                  enabled: bool) -> Iterator[None]:
    """While the block runs, report rows as DuckDB's progress (percent) times the expected total."""
    if tick is None or not enabled:
        yield
        return
    done = threading.Event()
    reported = 0

    def poll() -> None:
        nonlocal reported
        while not done.wait(POLL_S):
            try:
                percent = con.query_progress()
            except duckdb.Error:
                continue
            if total and percent > 0:
                rows = int(total * min(percent, 100.0) / 100)
                if rows > reported:
                    tick(rows - reported)
                    reported = rows

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if total and total > reported:
            tick(total - reported)
