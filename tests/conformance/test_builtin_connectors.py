"""Every built-in connector passes the conformance suite on real local sources (SQLite, CSV, Excel, HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from countyhub.connectors import Connector, get_connector
from countyhub.core.departments import Stream
from countyhub.testing import ConnectorConformance
from tests.conformance import sample_sources as src

SECRET = "pa55-w0rd-never-shown"


@pytest.fixture
def failing_sql(monkeypatch: pytest.MonkeyPatch) -> Connector:
    monkeypatch.setenv("CONFORMANCE_DB_PASSWORD", SECRET)
    # Nothing listens on port 1: check() fails while the password is set.
    return get_connector("sql")({"url": "postgresql+psycopg://reader@127.0.0.1:1/county",
                                 "password_env": "CONFORMANCE_DB_PASSWORD"})


class TestSqliteConformance(ConnectorConformance):
    @pytest.fixture
    def connector(self, tmp_path: Path) -> Connector:
        return get_connector("sql")({"url": f"sqlite:///{src.sqlite_source(tmp_path / 'src.db')}", "batch_rows": 50})

    @pytest.fixture
    def stream(self) -> Stream:
        return Stream(name="persons", table="persons", primary_key=["person_id"], cursor="updated_at")

    @pytest.fixture
    def expected_rows(self) -> int:
        return src.ROWS

    @pytest.fixture
    def empty_stream(self) -> Stream:
        return Stream(name="nobody", table="nobody")

    @pytest.fixture
    def expected_types(self) -> dict[str, pa.DataType]:
        return {"person_id": pa.int64(), "amount": pa.float64(), "name": pa.string()}

    @pytest.fixture
    def failing_connector(self, failing_sql: Connector) -> Connector:
        return failing_sql

    @pytest.fixture
    def secret_value(self) -> str:
        return SECRET


class _FilesFixtures:
    @pytest.fixture
    def expected_rows(self) -> int:
        return src.ROWS

    @pytest.fixture
    def failing_connector(self, failing_sql: Connector) -> Connector:
        pytest.skip("a drop folder has no secret")

    @pytest.fixture
    def secret_value(self) -> str:
        return SECRET


class TestCsvConformance(_FilesFixtures, ConnectorConformance):
    @pytest.fixture
    def connector(self, tmp_path: Path) -> Connector:
        return get_connector("files")({"path": str(src.csv_drop(tmp_path / "drop")), "block_size": 2048})

    @pytest.fixture
    def stream(self) -> Stream:
        return Stream(name="roll", pattern="roll_*.csv", primary_key=["身份证号"])

    @pytest.fixture
    def empty_stream(self) -> Stream:
        return Stream(name="empty", pattern="empty_*.csv")

    @pytest.fixture
    def expected_types(self) -> dict[str, pa.DataType]:
        return {"身份证号": pa.string(), "_source_file": pa.string()}


class TestExcelConformance(_FilesFixtures, ConnectorConformance):
    @pytest.fixture
    def connector(self, tmp_path: Path) -> Connector:
        return get_connector("files")({"path": str(src.excel_drop(tmp_path / "drop"))})

    @pytest.fixture
    def stream(self) -> Stream:
        return Stream(name="roster", pattern="roster_*.xlsx", primary_key=["救助对象_身份证号"])

    @pytest.fixture
    def empty_stream(self) -> Stream:
        return Stream(name="blank", pattern="blank_*.xlsx")

    @pytest.fixture
    def expected_types(self) -> dict[str, pa.DataType]:
        return {"救助对象_姓名": pa.string(), "月发放金额": pa.string()}


class TestHttpJsonConformance(ConnectorConformance):
    @pytest.fixture
    def api(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
        monkeypatch.setenv("CONFORMANCE_API_TOKEN", src.TOKEN)
        with src.api_server() as url:
            yield url

    @pytest.fixture
    def connector(self, api: str) -> Connector:
        return get_connector("http_json")({"base_url": api, "token_env": "CONFORMANCE_API_TOKEN"})

    @pytest.fixture
    def stream(self) -> Stream:
        return Stream(name="persons", path="/persons", records="items", primary_key=["person_id"],
                      cursor="updated_at", incremental_param="updated_since",
                      pagination={"type": "link", "size": 50})

    @pytest.fixture
    def expected_rows(self) -> int:
        return src.ROWS

    @pytest.fixture
    def empty_stream(self) -> Stream:
        return Stream(name="nobody", path="/nobody", records="items")

    @pytest.fixture
    def expected_types(self) -> dict[str, pa.DataType]:
        return {"person_id": pa.int64(), "amount": pa.float64()}

    @pytest.fixture
    def failing_connector(self, api: str, monkeypatch: pytest.MonkeyPatch) -> Connector:
        monkeypatch.setenv("CONFORMANCE_API_TOKEN", SECRET)
        return get_connector("http_json")({"base_url": api, "token_env": "CONFORMANCE_API_TOKEN"})

    @pytest.fixture
    def secret_value(self) -> str:
        return SECRET
