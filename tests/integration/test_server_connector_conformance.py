"""The SQL connector passes the conformance suite against the real PostgreSQL and MariaDB on this machine."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa

from countyhub.connectors import Connector, get_connector
from countyhub.core.departments import Stream
from countyhub.testing import ConnectorConformance

pytestmark = pytest.mark.integration
ROWS = 300
SECRET = "srv-pa55-never-shown"


def _seed(url: str) -> None:
    meta = sa.MetaData()
    table = sa.Table("ch_conf_persons", meta, sa.Column("person_id", sa.Integer, primary_key=True, autoincrement=False),
                     sa.Column("name", sa.String(40)), sa.Column("amount", sa.Numeric(12, 2)),
                     sa.Column("updated_at", sa.DateTime))
    sa.Table("ch_conf_empty", meta, sa.Column("person_id", sa.Integer, primary_key=True, autoincrement=False))
    import datetime as dt

    with sa.create_engine(url).begin() as con:
        meta.drop_all(con)
        meta.create_all(con)
        con.execute(table.insert(), [{"person_id": i, "name": f"居民{i}", "amount": Decimal(i) / 4,
                                      "updated_at": dt.datetime(2026, 1, 1) + dt.timedelta(seconds=i)}
                                     for i in range(ROWS)])


class _ServerConformance(ConnectorConformance):
    server = ""

    @pytest.fixture
    def url(self, request: pytest.FixtureRequest) -> str:
        url = request.getfixturevalue(f"{self.server}_url")
        _seed(url)
        return url

    @pytest.fixture
    def connector(self, url: str) -> Connector:
        return get_connector("sql")({"url": url, "batch_rows": 100})

    @pytest.fixture
    def stream(self) -> Stream:
        return Stream(name="persons", table="ch_conf_persons", primary_key=["person_id"], cursor="updated_at")

    @pytest.fixture
    def expected_rows(self) -> int:
        return ROWS

    @pytest.fixture
    def empty_stream(self) -> Stream:
        return Stream(name="empty", table="ch_conf_empty")

    @pytest.fixture
    def expected_types(self) -> dict[str, pa.DataType]:
        return {"amount": pa.decimal128(12, 2), "updated_at": pa.timestamp("us"), "name": pa.string()}

    @pytest.fixture
    def failing_connector(self, url: str, monkeypatch: pytest.MonkeyPatch) -> Connector:
        monkeypatch.setenv("CONF_SERVER_PASSWORD", SECRET)
        bad = sa.engine.make_url(url).set(port=1).render_as_string(hide_password=False)
        return get_connector("sql")({"url": bad, "password_env": "CONF_SERVER_PASSWORD"})

    @pytest.fixture
    def secret_value(self) -> str:
        return SECRET


class TestPostgresConformance(_ServerConformance):
    server = "postgres"


class TestMariaDbConformance(_ServerConformance):
    server = "mariadb"
