"""Incremental reads against the real PostgreSQL and MariaDB: the cursor predicate runs in the server, and an
unindexed cursor column is reported by `countyhub sources test` with the CREATE INDEX that fixes it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from countyhub.cli.common import console
from countyhub.cli.sources import sources_app
from countyhub.connectors import ConnectorError, get_connector
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.load import load_stream

pytestmark = pytest.mark.integration
TABLE, VIEW = "ch_it_cursor", "ch_it_cursor_guarded"
ROWS = 200
DEPT = Department(code="cur", name="测试局", name_en="Test bureau", owner={"steward": "qa"})


def _seed(url: str, start: int, count: int, replace: bool = False) -> None:
    stamp = "DATETIME" if url.startswith("mysql") else "TIMESTAMP"  # MariaDB's TIMESTAMP is zoned
    with sa.create_engine(url).begin() as con:
        if replace:
            con.execute(sa.text(f"DROP VIEW IF EXISTS {VIEW}"))
            con.execute(sa.text(f"DROP TABLE IF EXISTS {TABLE}"))
            # No index on updated_at: what a department system often looks like.
            con.execute(sa.text(f"CREATE TABLE {TABLE} (person_id INTEGER PRIMARY KEY, name VARCHAR(40), "
                                f"updated_at {stamp})"))
        rows = [{"id": i, "name": f"居民{i}", "at": f"2026-01-01 00:{i // 60 % 60:02d}:{i % 60:02d}"}
                for i in range(start, start + count)]
        con.execute(sa.text(f"INSERT INTO {TABLE} VALUES (:id, :name, :at)"), rows)


def _guard(url: str, below: str) -> None:
    """A view over the table that fails when any row with `updated_at` below `below` is evaluated.

    Reading it with the cursor filter done by the server touches only newer rows and works; pulling the
    whole view and filtering in DuckDB fails. PostgreSQL: division by zero; MariaDB: a correlated subquery
    that returns two rows (MariaDB turns 1/0 into NULL in a SELECT).
    """
    if url.startswith("mysql"):
        boom = "(SELECT name FROM seq_1_to_2)"
    else:
        boom = "name || (1 / (person_id - person_id))::text"
    with sa.create_engine(url).begin() as con:
        con.execute(sa.text(f"DROP VIEW IF EXISTS {VIEW}"))
        con.execute(sa.text(f"CREATE VIEW {VIEW} AS SELECT person_id, CASE WHEN updated_at < TIMESTAMP '{below}' "
                            f"THEN {boom} ELSE name END AS name, updated_at FROM {TABLE}"))


@pytest.fixture(params=["postgres", "mariadb"])
def url(request: pytest.FixtureRequest) -> str:
    url = request.getfixturevalue(f"{request.param}_url")
    _seed(url, 0, ROWS, replace=True)
    return url


def test_the_cursor_predicate_runs_in_the_source(settings: Settings, url: str) -> None:
    lake = Lake(settings)
    full = load_stream(lake, DEPT, Stream(name="persons", table=TABLE, primary_key=["person_id"], cursor="updated_at"),
                       get_connector("sql")({"url": url}))
    assert full.rows_loaded == ROWS
    last = f"2026-01-01 00:{(ROWS - 1) // 60 % 60:02d}:{(ROWS - 1) % 60:02d}"  # the saved cursor
    _guard(url, last)
    _seed(url, ROWS, 5)
    guarded = Stream(name="persons", table=VIEW, primary_key=["person_id"], cursor="updated_at")
    connector = get_connector("sql")({"url": url})
    assert connector.uses_duckdb
    with pytest.raises(ConnectorError):  # the guard works: a read without the cursor hits the old rows
        list(connector.read(guarded))

    again = load_stream(lake, DEPT, guarded, connector)  # same stream name: the saved cursor applies
    # The row at the saved cursor is read again (6 = 5 new + 1) but, unchanged, neither rewritten nor updated.
    assert (again.mode, again.rows_read, again.rows_inserted, again.rows_updated) == ("incremental", 6, 5, 0)
    with lake.reader() as con:
        assert con.execute("SELECT count(*), count(DISTINCT person_id) FROM raw_cur.persons").fetchone() == (
            ROWS + 5, ROWS + 5)
        assert con.execute(f"SELECT _load_id FROM raw_cur.persons WHERE person_id = {ROWS - 1}").fetchone() == (
            full.load_id,)


def test_advise_names_an_unindexed_cursor_and_its_fix(url: str) -> None:
    connector = get_connector("sql")({"url": url})
    stream = Stream(name="persons", table=TABLE, primary_key=["person_id"], cursor="updated_at")
    keyed = Stream(name="by_key", table=TABLE, primary_key=["person_id"], cursor="person_id")  # the key's index
    [warning] = connector.advise([stream, keyed, Stream(name="no_cursor", table=TABLE)])
    assert "stream persons" in warning and "'updated_at'" in warning and "CREATE INDEX" in warning
    fix = warning[warning.index("CREATE INDEX"):].rstrip(";")
    with sa.create_engine(url).begin() as con:
        con.execute(sa.text(fix))  # the advice is a statement the server accepts
    assert connector.advise([stream]) == []


def test_sources_test_warns_about_an_unindexed_cursor(settings: Settings, url: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "departments"
    folder.mkdir()
    department = {"code": "cur", "name": "测试局", "name_en": "Test bureau", "owner": {"steward": "qa"},
                  "sharing_type": "conditional", "schedule": "@daily",
                  "sources": [{"name": "registry", "kind": "sql", "config": {"url": url},
                               "streams": [{"name": "persons", "table": TABLE, "primary_key": ["person_id"],
                                            "cursor": "updated_at"}]}]}
    (folder / "cur.yml").write_text(yaml.safe_dump(department, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("COUNTYHUB_DEPARTMENTS_DIR", str(folder))
    monkeypatch.setattr(console, "width", 200)
    out = CliRunner().invoke(sources_app, ["test", "cur"])
    assert out.exit_code == 0, out.output
    assert "department cur, source registry, stream persons: cursor column 'updated_at'" in out.output
    assert "CREATE INDEX" in out.output


def test_advise_says_nothing_for_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with sa.create_engine(url).begin() as con:  # a local file: scanning it is cheap, so no advice
        con.execute(sa.text(f"CREATE TABLE {TABLE} (person_id INTEGER PRIMARY KEY, updated_at TIMESTAMP)"))
    stream = Stream(name="persons", table=TABLE, primary_key=["person_id"], cursor="updated_at")
    assert get_connector("sql")({"url": url}).advise([stream]) == []
