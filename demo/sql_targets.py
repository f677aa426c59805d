"""Copy a generated SQLite source into PostgreSQL or MariaDB, so connectors can be tried on real servers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Column, Double, Integer, MetaData, String, Table, Text, create_engine, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateSchema
from sqlalchemy.types import TypeEngine

BATCH_ROWS = 5000


def _column_type(declared: str, is_key: bool, dialect: str) -> TypeEngine:
    declared = declared.upper()
    if "INT" in declared:
        return Integer()
    if any(word in declared for word in ("REAL", "FLOA", "DOUB")):
        return Double()
    # MariaDB cannot index TEXT without a prefix length, so key columns become VARCHAR(255) there.
    if is_key and dialect in ("mysql", "mariadb"):
        return String(255)
    # Dates and timestamps stay text, exactly as the source system stores them.
    return Text()


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%' ORDER BY name")
    return [r[0] for r in rows]


def _target_table(conn: sqlite3.Connection, name: str, metadata: MetaData, dialect: str,
                  schema: str | None) -> Table:
    columns = []
    for _cid, column, declared, notnull, _default, pk in conn.execute(f'PRAGMA table_info("{name}")'):
        columns.append(Column(column, _column_type(declared, pk > 0, dialect), primary_key=pk > 0,
                              nullable=not (notnull or pk > 0), autoincrement=False))
    # utf8mb4 so Chinese names and rare characters survive whatever the server's default charset is.
    return Table(name, metadata, *columns, schema=schema, mysql_charset="utf8mb4",
                 mysql_collate="utf8mb4_unicode_ci")


def _batches(cursor: sqlite3.Cursor, keys: list[str]) -> Iterator[list[dict]]:
    while rows := cursor.fetchmany(BATCH_ROWS):
        yield [dict(zip(keys, row)) for row in rows]


def _ensure_schema(target: Connection, schema: str) -> None:
    if target.dialect.name == "sqlite":
        raise ValueError("SQLite targets have no schemas: pass schema=None")
    if schema not in inspect(target).get_schema_names():
        target.execute(CreateSchema(schema))


def copy_sqlite_to(url: str, sqlite_path: Path, schema: str | None = None) -> dict[str, int]:
    """Replace same-named tables at `url` (optionally in `schema`) with the SQLite tables; return row counts."""
    engine = create_engine(url)
    counts: dict[str, int] = {}
    source = sqlite3.connect(f"file:{Path(sqlite_path)}?mode=ro", uri=True)
    try:
        with engine.begin() as target:
            dialect = target.dialect.name
            if schema:
                _ensure_schema(target, schema)
            metadata = MetaData()
            for name in _sqlite_tables(source):
                table = _target_table(source, name, metadata, dialect, schema)
                table.drop(target, checkfirst=True)
                table.create(target)
                keys = [c.name for c in table.columns]
                cursor = source.execute(f'SELECT * FROM "{name}"')
                counts[name] = 0
                for batch in _batches(cursor, keys):
                    target.execute(table.insert(), batch)
                    counts[name] += len(batch)
    finally:
        source.close()
        engine.dispose()
    return counts
