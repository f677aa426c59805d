"""An API endpoint without records: its schema comes from declared columns or the last loaded table, never empty."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

from countyhub.connectors import Connector, get_connector
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.load import load_stream
from tests.conformance import sample_sources as src

DEPT = Department(code="scjgj", name="市场监督管理局", name_en="Market regulation", owner={"steward": "qa"})
INCREMENTAL = {"path": "/arriving", "records": "items", "primary_key": ["person_id"], "cursor": "updated_at",
               "incremental_param": "updated_since"}


@pytest.fixture
def arriving() -> list[dict]:
    return []


@pytest.fixture
def connector(arriving: list[dict], monkeypatch: pytest.MonkeyPatch) -> Iterator[Connector]:
    monkeypatch.setenv("EMPTY_API_TOKEN", src.TOKEN)
    with src.api_server(arriving) as url:
        yield get_connector("http_json")({"base_url": url, "token_env": "EMPTY_API_TOKEN"})


def _rows(lake: Lake, sql: str) -> list[tuple]:
    with lake.reader() as con:
        return con.execute(sql).fetchall()


def _tables(lake: Lake) -> list[str]:
    return [r[0] for r in _rows(lake, "SELECT table_name FROM duckdb_tables() WHERE database_name = 'lake' "
                                      "AND schema_name = 'raw_scjgj'")]


def test_first_empty_load_makes_no_table_and_later_loads_work(settings: Settings, connector: Connector,
                                                              arriving: list[dict]) -> None:
    lake, stream = Lake(settings), Stream(name="arriving", **INCREMENTAL)
    empty = load_stream(lake, DEPT, stream, connector)
    assert (empty.rows_read, empty.rows_loaded, len(empty.schema)) == (0, 0, 0)
    assert _tables(lake) == []  # nothing declared, nothing loaded before: no schemaless table
    assert _rows(lake, f"SELECT status FROM meta.loads WHERE load_id = '{empty.load_id}'") == [("success",)]

    arriving += [src.person(i) for i in range(5)]
    first = load_stream(lake, DEPT, stream, connector)
    assert (first.rows_read, first.rows_inserted) == (5, 5)
    columns = [r[0] for r in _rows(lake, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'arriving'")]

    arriving.clear()  # the API has nothing new, nothing at all: the last loaded shape stands
    quiet = load_stream(lake, DEPT, stream, connector)
    assert quiet.rows_read == 0 and quiet.schema.names == list(src.person(0))
    assert quiet.schema_changes == []  # an empty answer drops no column
    assert [r[0] for r in _rows(lake, "SELECT column_name FROM duckdb_columns() WHERE "
                                      "table_name = 'arriving'")] == columns
    state = _rows(lake, "SELECT state FROM meta.stream_state WHERE stream = 'arriving'")[0][0]
    assert src.person(4)["updated_at"] in state  # the cursor survives an empty load

    arriving += [src.person(i) for i in range(3, 8)]
    later = load_stream(lake, DEPT, stream, connector)
    # 4 at/after the cursor: person 4 again, unchanged (not an update), and 3 new
    assert (later.rows_read, later.rows_inserted, later.rows_updated) == (4, 3, 0)
    assert _rows(lake, "SELECT count(*), count(DISTINCT person_id) FROM raw_scjgj.arriving") == [(8, 8)]
    assert _rows(lake, "SELECT count(*) FROM meta.schema_changes") == [(0,)]


def test_declared_columns_give_an_empty_endpoint_its_schema(settings: Settings, connector: Connector,
                                                            arriving: list[dict]) -> None:
    declared = {"person_id": "integer", "name": "text", "id_number": "text", "amount": "double",
                "updated_at": "timestamp"}
    lake, stream = Lake(settings), Stream(name="arriving", columns=declared, **INCREMENTAL)
    [found] = connector.discover([stream])
    assert found.schema == pa.schema([("person_id", pa.int64()), ("name", pa.string()), ("id_number", pa.string()),
                                      ("amount", pa.float64()), ("updated_at", pa.timestamp("us"))])
    empty = load_stream(lake, DEPT, stream, connector)
    assert empty.rows_read == 0
    assert _rows(lake, "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'arriving' "
                       "AND column_name NOT LIKE '\\_%' ESCAPE '\\'") == [
        ("person_id", "BIGINT"), ("name", "VARCHAR"), ("id_number", "VARCHAR"), ("amount", "DOUBLE"),
        ("updated_at", "TIMESTAMP")]
    arriving += [src.person(i) for i in range(5)]
    loaded = load_stream(lake, DEPT, stream, connector)  # text timestamps are typed as declared: no drift
    assert (loaded.rows_read, loaded.rows_inserted, loaded.schema_changes) == (5, 5, [])
    assert _rows(lake, "SELECT max(updated_at)::VARCHAR FROM raw_scjgj.arriving") == [("2026-01-01 00:00:04",)]


def test_an_empty_replace_load_empties_the_table_and_keeps_its_columns(settings: Settings, connector: Connector,
                                                                       arriving: list[dict]) -> None:
    lake = Lake(settings)
    stream = Stream(name="arriving", path="/arriving", records="items", primary_key=["person_id"], mode="replace")
    arriving += [src.person(i) for i in range(3)]
    load_stream(lake, DEPT, stream, connector)
    arriving.clear()
    emptied = load_stream(lake, DEPT, stream, connector)
    assert (emptied.rows_read, emptied.rows_loaded) == (0, 0)
    assert _rows(lake, "SELECT count(*) FROM raw_scjgj.arriving") == [(0,)]
    assert _rows(lake, "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'arriving'") == [(7,)]
