"""Columns a later version added: tables an older version created get them when they are next opened."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError


def add_missing_columns(engine: Engine, table: Table, names: Iterable[str] | None = None) -> None:
    """ALTER TABLE ... ADD COLUMN for each of `names` (default: every column of `table`) the stored table lacks.
    A NOT NULL column needs a server default (older rows get it). Safe when two processes open it at once."""
    present = {c["name"] for c in inspect(engine).get_columns(table.name)}
    for name in names if names is not None else [c.name for c in table.columns]:
        if name in present:
            continue
        column = table.c[name]
        kind = column.type.compile(dialect=engine.dialect)
        default = f" DEFAULT '{column.server_default.arg}' NOT NULL" if column.server_default is not None else ""
        try:
            with engine.begin() as con:
                con.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{name}" {kind}{default}'))
        except DBAPIError:  # another process opening the database added it first
            if name not in {c["name"] for c in inspect(engine).get_columns(table.name)}:
                raise
