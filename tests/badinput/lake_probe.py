"""Load a bad input through the real loader into the test's lake, and read back rows, quarantine and the load log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from countyhub.connectors import get_connector
from countyhub.connectors.base import Connector
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.load import LoadResult, load_stream

DEPT = Department(code="mzj", name="民政局", name_en="Civil affairs", owner={"steward": "qa"})


def load(settings: Settings, stream: Stream, connector: Connector) -> LoadResult:
    return load_stream(Lake(settings), DEPT, stream, connector)


def load_drop(settings: Settings, folder: Path, stream: Stream | None = None) -> LoadResult:
    """One load of the drop folder's roll_*.csv files (or the given stream) with the files connector."""
    stream = stream or Stream(name="roll", pattern="roll_*.csv")
    return load(settings, stream, get_connector("files")({"path": str(folder)}))


def query(settings: Settings, sql: str) -> list[tuple]:
    with Lake(settings).reader() as con:
        return con.execute(sql).fetchall()


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {f"{s}.{t}" for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                                               "WHERE database_name = 'lake'").fetchall()}


def raw_rows(settings: Settings, table: str = "roll", order: str = "1") -> list[tuple]:
    """The raw table's rows without the load columns, in a fixed order ([] when there is no table)."""
    return lake_state(settings, table, order)[0]


def quarantined(settings: Settings, stream: str = "roll") -> list[tuple[str, str, dict[str, Any]]]:
    """(location, reason, raw values) of every quarantine entry of the stream, by location."""
    return lake_state(settings, stream)[1]


def lake_state(settings: Settings, stream: str = "roll", order: str = "1") -> tuple[list[tuple], list[tuple]]:
    """The raw rows and the quarantine entries of a stream, read on one connection (opening one is the slow part)."""
    with Lake(settings).reader() as con:
        tables = _tables(con)
        rows = con.execute(f"SELECT * EXCLUDE (_load_id, _loaded_at) FROM raw_mzj.{stream} ORDER BY {order}"
                           ).fetchall() if f"raw_mzj.{stream}" in tables else []
        entries = con.execute(f"SELECT location, reason, raw_values FROM quarantine.mzj__{stream} ORDER BY "
                              "location, reason").fetchall() if f"quarantine.mzj__{stream}" in tables else []
    return rows, [(where, reason, json.loads(raw)) for where, reason, raw in entries]


def load_log(settings: Settings) -> list[tuple[str, str]]:
    """(status, message) of every load in meta.loads, oldest first."""
    return query(settings, "SELECT status, message FROM meta.loads ORDER BY started_at")
