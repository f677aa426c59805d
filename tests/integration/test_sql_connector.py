"""The SQL connector against the real PostgreSQL and MariaDB on this machine, into a real DuckLake."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa

from countyhub.connectors import ConnectorError, get_connector
from countyhub.core.departments import Department, Stream
from countyhub.lakehouse import Lake
from countyhub.lakehouse.load import load_stream

pytestmark = pytest.mark.integration
ROWS = 2_500
TABLE = "ch_it_residents"


def _seed(url: str) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table(
        TABLE, meta,
        sa.Column("resident_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(50)),
        sa.Column("amount", sa.Numeric(12, 2)),
        sa.Column("born", sa.Date),
        sa.Column("updated_at", sa.DateTime),
        sa.Column("active", sa.Boolean),
        sa.Column("note", sa.Text, nullable=True),
    )
    with engine.begin() as con:
        meta.drop_all(con)
        meta.create_all(con)
        con.execute(table.insert(), [
            {"resident_id": i, "name": f"王{i}号居民", "amount": Decimal(i) / 4, "born": dt.date(1950, 1, 1) + dt.timedelta(days=i),
             "updated_at": dt.datetime(2026, 1, 1) + dt.timedelta(minutes=i), "active": i % 3 == 0,
             "note": None if i % 2 else "低保户"}
            for i in range(ROWS)
        ])


@pytest.fixture(params=["postgres", "mariadb"])
def source_url(request: pytest.FixtureRequest) -> str:
    url = request.getfixturevalue(f"{request.param}_url")
    _seed(url)
    return url


def _department() -> Department:
    return Department(code="it", name="测试局", name_en="Test bureau", owner={"steward": "qa"})


def _stream() -> Stream:
    return Stream(name="residents", table=TABLE, cursor="updated_at", primary_key=["resident_id"])


def test_sql_source_lands_in_raw_zone_exactly(settings, source_url: str) -> None:
    connector = get_connector("sql")({"url": source_url, "batch_rows": 1000})
    connector.check()
    [found] = connector.discover([_stream()])
    assert found.row_count == ROWS and found.primary_key == ["resident_id"]

    lake = Lake(settings)
    assert connector.uses_duckdb  # PostgreSQL and MariaDB go through DuckDB's scanners
    assert load_stream(lake, _department(), _stream(), connector).rows_loaded == ROWS
    again = load_stream(lake, _department(), _stream(), connector)  # incremental: only the row at the cursor
    assert (again.mode, again.rows_read, again.rows_inserted) == ("incremental", 1, 0)
    assert load_stream(lake, _department(), _stream(), connector, full_refresh=True).rows_loaded == ROWS
    with lake.reader() as con:
        count, loads, total, notes = con.execute(
            "SELECT count(*), count(DISTINCT _load_id), sum(amount), count(note) FROM raw_it.residents").fetchone()
        row = con.execute("SELECT name, amount, born, updated_at, active FROM raw_it.residents WHERE resident_id = 7").fetchone()
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_schema = 'raw_it' AND table_name = 'residents'").fetchall())
    assert (count, loads, notes) == (ROWS, 1, ROWS // 2)
    assert total == sum(Decimal(i) / 4 for i in range(ROWS))
    assert row == ("王7号居民", Decimal("1.75"), dt.date(1950, 1, 8), dt.datetime(2026, 1, 1, 0, 7), False)
    assert types["amount"].startswith("DECIMAL") and types["born"] == "DATE" and types["updated_at"].startswith("TIMESTAMP")


@pytest.mark.parametrize("engine", ["duckdb", "sqlalchemy"])
def test_cursor_state_reads_only_newer_rows(source_url: str, engine: str) -> None:
    connector = get_connector("sql")({"url": source_url, "engine": engine})
    since = dt.datetime(2026, 1, 1) + dt.timedelta(minutes=ROWS - 10)
    assert sum(b.num_rows for b in connector.read(_stream(), {"cursor": since})) == 9
    assert sum(b.num_rows for b in connector.read(_stream(), {"cursor": since, "cursor_op": ">="})) == 10
    assert connector.estimate(_stream(), {"cursor": since}) == 9


def test_both_engines_map_types_alike(source_url: str) -> None:
    fast = pa.Table.from_batches(list(get_connector("sql")({"url": source_url}).read(_stream())))
    slow = pa.Table.from_batches(list(get_connector("sql")({"url": source_url, "engine": "sqlalchemy"}).read(_stream())))
    assert fast.sort_by("resident_id").column("name") == slow.sort_by("resident_id").column("name")
    for name in ("amount", "born", "updated_at", "name"):
        assert fast.schema.field(name).type == slow.schema.field(name).type, name


def test_password_from_env_never_appears_in_errors(monkeypatch: pytest.MonkeyPatch, source_url: str) -> None:
    monkeypatch.setenv("IT_DB_PASSWORD", "s3cret-Pa55")
    url = sa.engine.make_url(source_url).set(port=1)  # nothing listens on port 1
    connector = get_connector("sql")({"url": url.render_as_string(), "password_env": "IT_DB_PASSWORD"})
    with pytest.raises(ConnectorError) as failure:
        connector.check()
    assert "s3cret-Pa55" not in str(failure.value) and "***" in str(failure.value)
    lake_home_error = None
    try:  # the scanner path too: DuckDB echoes ATTACH strings, so the password must not be in one
        list(connector.read(_stream()))
    except ConnectorError as exc:
        lake_home_error = str(exc)
    assert lake_home_error is not None and "s3cret-Pa55" not in lake_home_error
