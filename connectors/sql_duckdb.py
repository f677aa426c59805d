"""DuckDB's postgres/mysql scanners as the fast read path of the SQL connector, with secrets kept out of errors."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import duckdb
from sqlalchemy.engine import URL

from countyhub.connectors.base import ScanPlan

SCANNER_TYPES = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}
DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306}


SEARCH_PATH = re.compile(r"^-c\s*search_path=([\w$]+)$")
UNDERSTOOD_QUERY = {"host", "charset", "options"}


def scanner_type(url: URL) -> str | None:
    """'postgres' or 'mysql' when DuckDB's scanner can read this URL as given, else None.

    A URL whose query asks for something the scanner cannot pass on (SSL files, other libpq
    options) stays on SQLAlchemy, which honours it.
    """
    kind = SCANNER_TYPES.get(url.get_backend_name())
    if kind is None or set(url.query) - UNDERSTOOD_QUERY:
        return None
    options = url.query.get("options")
    return kind if options is None or SEARCH_PATH.match(str(options).strip()) else None


def url_schema(url: URL) -> str | None:
    """The schema named by a PostgreSQL URL's `options=-csearch_path=<schema>`, if any."""
    match = SEARCH_PATH.match(str(url.query.get("options", "")).strip())
    return match.group(1) if match else None


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def attach_setup(url: URL, password: str | None) -> tuple[str, list[tuple[str, list[Any]]]]:
    """An alias and the statements attaching the source read-only.

    The password goes into a temporary DuckDB secret, never into the ATTACH string: DuckDB's
    connection errors echo the ATTACH string verbatim.
    """
    kind = SCANNER_TYPES[url.get_backend_name()]
    host = url.host or url.query.get("host") or "localhost"
    params = [host, int(url.port or DEFAULT_PORTS[kind]), url.username or "", password or url.password or "",
              url.database or ""]
    alias = "src_" + hashlib.sha1(repr([kind, *params[:3], params[4]]).encode()).hexdigest()[:10]
    return alias, [
        (f"LOAD {kind}_scanner", []),
        (f"CREATE OR REPLACE TEMPORARY SECRET {alias} (TYPE {kind}, HOST ?, PORT ?, USER ?, PASSWORD ?, DATABASE ?)",
         params),
        (f"ATTACH IF NOT EXISTS '' AS {alias} (TYPE {kind}, SECRET {alias}, READ_ONLY)", []),
        # MySQL filter pushdown is off by default; without it an incremental read scans the whole table.
        *([("SET mysql_experimental_filter_pushdown = true", [])] if kind == "mysql" else []),
    ]


def table_plan(url: URL, password: str | None, table: str, db_schema: str | None,
               cursor: str | None, state: dict[str, Any] | None) -> ScanPlan:
    """SELECT * from one table, only rows past the cursor when `state` has one."""
    alias, setup = attach_setup(url, password)
    db_schema = db_schema or url_schema(url)
    target = ".".join(quote(p) for p in (alias, *(db_schema and [db_schema] or []), table))
    select, params = f"SELECT * FROM {target}", []
    incremental = bool(cursor and state and state.get("cursor") is not None)
    if incremental:
        select += f" WHERE {quote(cursor)} {'>=' if state.get('cursor_op') == '>=' else '>'} ?"
        params.append(state["cursor"])
    if SCANNER_TYPES[url.get_backend_name()] == "postgres":
        # A full read splits the table by ctid across threads; an incremental one must instead send one
        # filtered query so PostgreSQL can use the cursor column's index (0.09 s instead of 0.6 s for
        # 50k changed rows of 5M).
        setup.append((f"SET pg_use_ctid_scan = {'false' if incremental else 'true'}", []))
        # On by default today; said explicitly because without it the cursor filter runs in DuckDB, after
        # the whole table crossed the network (tests/integration/test_sql_cursor_source.py catches that).
        setup.append(("SET pg_experimental_filter_pushdown = true", []))
    return ScanPlan(alias, setup, select, params)


def run_setup(con: duckdb.DuckDBPyConnection, plan: ScanPlan) -> None:
    for sql, params in plan.setup:
        con.execute(sql, params)
