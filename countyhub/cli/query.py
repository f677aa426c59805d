"""`countyhub query "SELECT ..."`: read-only SQL through the catalog's query API, printed as a table."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from countyhub.catalog.client import DEFAULT_URL, QueryError, query_arrow
from countyhub.cli.common import console, fail


def query_command(
    sql: Annotated[str, typer.Argument(help="One SELECT over shared.<dataset> names.")],
    token: Annotated[str | None, typer.Option(help="API token (default: $COUNTYHUB_TOKEN).")] = None,
    url: Annotated[str, typer.Option(help="The catalog's address.")] = DEFAULT_URL,
    max_rows: Annotated[int, typer.Option(help="Rows to print (the API returns at most 10,000).")] = 50,
) -> None:
    """Run read-only SQL as your department may: masked columns come back masked, every call is audited."""
    token = token or os.environ.get("COUNTYHUB_TOKEN")  # the CLI is an edge: it may read the environment
    if not token:
        fail("no API token: pass --token or set COUNTYHUB_TOKEN (`countyhub users add` prints one)")
    try:
        table, truncated = query_arrow(sql, token, url)
    except QueryError as exc:
        fail(exc.message if exc.status else f"{exc.message}; is `countyhub serve` running?")
    out = Table(*table.column_names, show_lines=False)
    for row in table.slice(0, max_rows).to_pylist():
        out.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(out)
    shown = min(max_rows, table.num_rows)
    more = " (cut at the API's row limit)" if truncated else ""
    console.print(f"{shown} of {table.num_rows} rows shown{more}")
