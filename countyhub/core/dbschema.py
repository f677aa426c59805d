"""Creating a store's tables, also when several processes open a fresh database at once, and adding the columns a
later version added to tables an older version created."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import MetaData, Table, inspect, text
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


# pg_advisory_xact_lock key for creating tables (any fixed number: only countyhub's stores take it).
SCHEMA_LOCK_KEY = 0x636F756E74794842


def create_tables(engine: Engine, metadata: MetaData) -> None:
    """metadata.create_all, safe when Airflow tasks on several workers open a fresh PostgreSQL store at once: there
    the tables are created under a transaction-level advisory lock, so the others find them made (two plain
    create_all at once both try CREATE TABLE, and one fails on PostgreSQL's unique index of type names)."""
    with engine.begin() as con:
        if con.dialect.name == "postgresql":
            con.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        metadata.create_all(con)
