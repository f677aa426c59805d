"""The demo's SQLite sources copied into the real PostgreSQL and MariaDB: same tables, keys and row counts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from countyhub.demo import copy_sqlite_to, generate

pytestmark = pytest.mark.integration
SCHEMA = "demo_it"  # a schema (PostgreSQL) / database (MariaDB) of its own, dropped afterwards
EXPECTED_KEYS = {"persons": ["person_id"], "households": ["household_id"], "residence_permits": ["permit_no"],
                 "person_cancellations": ["person_id"], "grids": ["grid_code"], "facilities": ["facility_id"],
                 "cases": ["case_id"]}


def _sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts = {n: conn.execute(f"SELECT COUNT(*) FROM {n}").fetchone()[0] for n in names}
    conn.close()
    return counts


def _drop_schema(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        else:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {SCHEMA}"))
    engine.dispose()


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("demo_sql")
    generate(home, persons=2000)
    return home / "demo"


@pytest.mark.parametrize("server", ["postgres_url", "mariadb_url"])
def test_copy_keeps_counts_keys_and_text(server: str, demo_home: Path, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(server)
    _drop_schema(url)
    try:
        for db in ("gaj_household.db", "cgj_urban.db"):
            expected = _sqlite_counts(demo_home / db)
            assert copy_sqlite_to(url, demo_home / db, schema=SCHEMA) == expected
            # A second copy replaces the tables rather than appending to them.
            copy_sqlite_to(url, demo_home / db, schema=SCHEMA)
            engine = sa.create_engine(url)
            inspector = sa.inspect(engine)
            with engine.connect() as conn:
                for table, rows in expected.items():
                    assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {SCHEMA}.{table}")).scalar() == rows
                    pk = inspector.get_pk_constraint(table, schema=SCHEMA)["constrained_columns"]
                    assert pk == EXPECTED_KEYS[table]
                if db == "gaj_household.db":
                    name, birth = conn.execute(sa.text(
                        f"SELECT name, birth_date FROM {SCHEMA}.persons WHERE person_id = 1")).one()
                    with sqlite3.connect(demo_home / db) as source:
                        assert (name, birth) == source.execute(
                            "SELECT name, birth_date FROM persons WHERE person_id = 1").fetchone()
                    source.close()
            engine.dispose()
    finally:
        _drop_schema(url)
