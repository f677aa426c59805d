"""The load log `lake.meta.loads` and the per-connection setup every load needs (DDL, memory bounds)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from countyhub.lakehouse.drift import CHANGES_DDL
from countyhub.lakehouse.lake import LAKE, ensure_schemas
from countyhub.lakehouse.state import STATE_DDL

if TYPE_CHECKING:
    from countyhub.lakehouse.load import LoadResult

LOADS_DDL = f"""CREATE TABLE IF NOT EXISTS {LAKE}.meta.loads (
    load_id VARCHAR, department VARCHAR, stream VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
    bytes_read BIGINT, status VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, message VARCHAR)"""
# Added after the first release: older lakes get them with ALTER TABLE, so positional readers keep working.
EXTRA_COLUMNS = {"mode": "VARCHAR", "rows_quarantined": "BIGINT", "rows_inserted": "BIGINT",
                 "rows_updated": "BIGINT", "rows_deleted": "BIGINT"}
MEMORY_LIMIT = "512MB"


def prepare(con: duckdb.DuckDBPyConnection, raw_schema: str, temp_dir: Path) -> None:
    """Create the meta tables and bound DuckDB's memory: staging spills to `temp_dir` instead of growing."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET temp_directory = '{temp_dir}'")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute("SET preserve_insertion_order = false")  # raw rows have no order; keeping one costs memory
    con.execute("SET enable_progress_bar_print = false")  # progress is polled for our own bar instead
    # Each DDL statement is a DuckLake commit: look first (one catalog query), so a routine load
    # commits only its own data.
    ensure_schemas(con, [raw_schema])
    columns: dict[str, set[str]] = {}
    for table, column in con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = ? "
                                     "AND schema_name = 'meta'", [LAKE]).fetchall():
        columns.setdefault(table, set()).add(column)
    if "loads" not in columns:
        extra = "".join(f", {c} {t}" for c, t in EXTRA_COLUMNS.items())
        con.execute(LOADS_DDL.rstrip(")") + extra + ")")
        columns["loads"] = set(EXTRA_COLUMNS)
    for name, ddl in (("stream_state", STATE_DDL), ("schema_changes", CHANGES_DDL)):
        if name not in columns:
            con.execute(ddl)
    for column, type_ in EXTRA_COLUMNS.items():
        if column not in columns["loads"]:
            con.execute(f"ALTER TABLE {LAKE}.meta.loads ADD COLUMN IF NOT EXISTS {column} {type_}")


def log_load(con: duckdb.DuckDBPyConnection, load_id: str, department: str, stream: str, status: str,
             started: datetime, mode: str, result: LoadResult | None = None, message: str = "") -> None:
    """One row per load; a success is written inside the load's transaction, a failure after its rollback."""
    counts = ([result.rows_read, result.rows_loaded, result.bytes_read, result.rows_quarantined,
               result.rows_inserted, result.rows_updated, result.rows_deleted] if result else [0] * 7)
    if result is not None and not message:
        message = f"{result.rows_quarantined} quarantined" if result.rows_quarantined else ""
        if result.rows_quarantined_before:
            message += f" ({result.rows_quarantined_before} already in quarantine from an earlier load)"
    con.execute(
        f"INSERT INTO {LAKE}.meta.loads (load_id, department, stream, rows_read, rows_loaded, bytes_read, "
        "rows_quarantined, rows_inserted, rows_updated, rows_deleted, status, started_at, finished_at, message, mode) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, department, stream, *counts[:3], *counts[3:], status, started, datetime.now(UTC), message, mode])
