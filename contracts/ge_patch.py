"""Patch Great Expectations' SQL engine so query results are read before its connection closes (DuckDB).

Why: in great-expectations 1.x up to at least 1.24.1, `SqlAlchemyExecutionEngine.execute_query`
returns the cursor result *after* leaving its `with self.get_connection()` block. For dialects
GE does not keep a persistent connection for (duckdb is one of them), the connection is closed by
then, and DuckDB's unread result is gone: every metric fails with
`MetricResolutionError: list index out of range` (upstream issues #11579 and #10738). Buffering the
rows inside the block (`result.freeze()`) fixes it without changing what callers see.

Which versions: checked on great-expectations 1.24.1 with SQLAlchemy 2.x and duckdb-engine 0.17.0.
`tests/unit/test_gate.py::test_unpatched_engine_fails_on_duckdb` shows the bug with the original
method; when an upgrade makes that test fail, the fix landed upstream and this module can go.
"""

from __future__ import annotations

from typing import Any

from great_expectations.execution_engine import sqlalchemy_execution_engine as _engine_module

_MARKER = "_countyhub_buffered"
ORIGINAL_EXECUTE_QUERY = getattr(
    _engine_module.SqlAlchemyExecutionEngine.execute_query, "__wrapped__",
    _engine_module.SqlAlchemyExecutionEngine.execute_query,
)


def _buffered_execute_query(self: Any, query: Any) -> Any:
    with self.get_connection() as connection:
        result = self._execute_query_with_recovery(connection, query)
        if result.returns_rows:
            # freeze() reads every row now; calling the frozen result replays them as a normal Result.
            result = result.freeze()()
    return result


def apply() -> None:
    """Install the buffered execute_query once; calling again is a no-op."""
    cls = _engine_module.SqlAlchemyExecutionEngine
    if getattr(cls.execute_query, _MARKER, False):
        return
    _buffered_execute_query.__wrapped__ = ORIGINAL_EXECUTE_QUERY  # type: ignore[attr-defined]
    setattr(_buffered_execute_query, _MARKER, True)
    cls.execute_query = _buffered_execute_query


def is_applied() -> bool:
    return bool(getattr(_engine_module.SqlAlchemyExecutionEngine.execute_query, _MARKER, False))
