"""The cursor a load leaves for the next one (kept with the rest of the stream's state by lakehouse.meta)."""

from __future__ import annotations

from typing import Any

import duckdb


def cursor_state(con: duckdb.DuckDBPyConnection, table: str, cursor: str, previous: dict[str, Any]) -> dict[str, Any]:
    """The highest cursor value in `table` (never below the `previous` state's), as text plus its type."""
    value, type_ = con.execute(f'SELECT max("{cursor}")::VARCHAR, typeof(max("{cursor}")) FROM {table}').fetchone()
    old = previous.get("cursor")
    if value is None:
        return {} if old is None else {"cursor": str(old), "cursor_type": previous.get("cursor_type")}
    if old is not None:
        value = con.execute(f"SELECT greatest(?::{type_}, ?::{type_})::VARCHAR", [value, old]).fetchone()[0]
    return {"cursor": value, "cursor_type": type_}
