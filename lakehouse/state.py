"""Per-stream load state (cursor, files seen) kept in `lake.meta.stream_state`, written in the load's transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb

from countyhub.lakehouse.lake import LAKE

STATE_DDL = f"""CREATE TABLE IF NOT EXISTS {LAKE}.meta.stream_state (
    department VARCHAR, stream VARCHAR, state VARCHAR, load_id VARCHAR, updated_at TIMESTAMPTZ)"""


def read_state(con: duckdb.DuckDBPyConnection, department: str, stream: str) -> dict[str, Any] | None:
    """The state the last committed load left, with the cursor typed again (None if no load committed)."""
    row = con.execute(f"SELECT state FROM {LAKE}.meta.stream_state WHERE department = ? AND stream = ? "
                      "ORDER BY updated_at DESC LIMIT 1", [department, stream]).fetchone()
    if row is None:
        return None
    state = json.loads(row[0])
    if state.get("cursor") is not None and state.get("cursor_type"):
        # The cursor travels as text; cast it back so the source compares like with like.
        state["cursor"] = con.execute(f"SELECT CAST(? AS {state['cursor_type']})", [state["cursor"]]).fetchone()[0]
    return state


def write_state(con: duckdb.DuckDBPyConnection, department: str, stream: str, state: dict[str, Any],
                load_id: str, at: datetime) -> None:
    """Replace the stream's state; call inside the load's transaction so it commits with the rows."""
    con.execute(f"DELETE FROM {LAKE}.meta.stream_state WHERE department = ? AND stream = ?", [department, stream])
    con.execute(f"INSERT INTO {LAKE}.meta.stream_state VALUES (?, ?, ?, ?, ?)",
                [department, stream, json.dumps(state, ensure_ascii=False, default=str), load_id, at])


def cursor_state(con: duckdb.DuckDBPyConnection, table: str, cursor: str, previous: dict[str, Any]) -> dict[str, Any]:
    """The highest cursor value in `table` (never below the `previous` state's), as text plus its type."""
    value, type_ = con.execute(f'SELECT max("{cursor}")::VARCHAR, typeof(max("{cursor}")) FROM {table}').fetchone()
    old = previous.get("cursor")
    if value is None:
        return {} if old is None else {"cursor": str(old), "cursor_type": previous.get("cursor_type")}
    if old is not None:
        value = con.execute(f"SELECT greatest(?::{type_}, ?::{type_})::VARCHAR", [value, old]).fetchone()[0]
    return {"cursor": value, "cursor_type": type_}
