"""The reusable conformance tests every connector runs: subclass `ConnectorConformance` and give it fixtures."""

# Fixtures the subclass provides (see docs/write-a-connector.md):
#
# - `connector`: a configured Connector whose source holds `expected_rows` rows in `stream`
# - `stream`: a Stream with at least one row (give it a `cursor` to exercise resume-by-cursor)
# - `expected_rows`: how many rows `stream` holds
# - `empty_stream`: a Stream that exists but holds no rows
# - `expected_types`: {column: pyarrow type} the schema mapping must produce (may be empty)
# - `failing_connector`: a Connector whose secret is set (to `secret_value`) but whose check() fails
# - `secret_value`: that secret

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from countyhub.connectors.base import Connector, ConnectorError
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import load_settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.load import load_stream


def read_all(connector: Connector, stream: Stream, state: dict[str, Any] | None = None) -> pa.Table | None:
    batches = list(connector.read(stream, state))
    for batch in batches:
        assert isinstance(batch, pa.RecordBatch), f"read() must yield pyarrow.RecordBatch, got {type(batch)}"
    return pa.Table.from_batches(batches) if batches else None


class ConnectorConformance:
    """What every connector promises: check, discover, read, resume from state, empty streams, no leaked secrets."""

    def test_check_passes(self, connector: Connector) -> None:
        connector.check()

    def test_discover_offers_the_stream_with_its_key(self, connector: Connector, stream: Stream) -> None:
        [found] = connector.discover([stream])
        assert found.name == stream.name and len(found.schema) > 0
        assert set(found.primary_key) <= set(found.schema.names), "primary key columns must be in the schema"

    def test_read_matches_discovered_schema_and_count(self, connector: Connector, stream: Stream,
                                                      expected_rows: int,
                                                      expected_types: dict[str, pa.DataType]) -> None:
        [found] = connector.discover([stream])
        table = read_all(connector, stream)
        assert table is not None and table.num_rows == expected_rows
        assert table.schema.names == found.schema.names
        for name, type_ in expected_types.items():
            assert table.schema.field(name).type == type_, f"{name}: {table.schema.field(name).type} != {type_}"
            assert found.schema.field(name).type == type_, f"discover() maps {name} differently from read()"

    def test_resume_from_state_reads_nothing_new(self, connector: Connector, stream: Stream) -> None:
        table = read_all(connector, stream)
        state = dict(connector.checkpoint(stream))
        if stream.cursor:
            state["cursor"] = pc.max(table.column(stream.cursor)).as_py()
            again = read_all(connector, stream, {**state, "cursor_op": ">="})
            assert again is not None and 0 < again.num_rows < table.num_rows + 1, "'>=' must re-read the last cursor"
        elif not state:
            pytest.skip("the stream has neither a cursor nor connector state: every read is a full read")
        after = read_all(connector, stream, state)
        assert after is None or after.num_rows == 0

    def test_empty_stream_reads_no_rows_and_loads_nothing(self, connector: Connector, empty_stream: Stream,
                                                         tmp_path: Path) -> None:
        table = read_all(connector, empty_stream)
        assert table is None or table.num_rows == 0
        connector.schema_of(empty_stream)  # may be empty when the source cannot tell (an API without rows)
        result = _load_twice(connector, empty_stream, tmp_path)[0]
        assert (result.rows_read, result.rows_loaded) == (0, 0)

    def test_batches_are_bounded(self, connector: Connector, stream: Stream) -> None:
        # Streaming, not one giant batch: memory must not grow with table size.
        assert all(b.num_rows <= 1_000_000 for b in connector.read(stream))

    def test_secret_never_printed(self, failing_connector: Connector, secret_value: str,
                                  capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)
        with pytest.raises(ConnectorError) as failure:
            failing_connector.check()
        shown = [str(failure.value), repr(failure.value), repr(failing_connector), repr(failing_connector.config),
                 failing_connector.config.model_dump_json(), caplog.text, *capsys.readouterr()]
        assert not [s for s in shown if secret_value in s]

    def test_loads_into_the_lake_without_doubles(self, connector: Connector, stream: Stream, expected_rows: int,
                                                 tmp_path: Path) -> None:
        first, second, rows = _load_twice(connector, stream, tmp_path)
        assert first.rows_read == first.rows_loaded + first.rows_quarantined == expected_rows
        assert second.rows_read == second.rows_loaded + second.rows_quarantined
        assert rows == expected_rows - first.rows_quarantined


def _load_twice(connector: Connector, stream: Stream, tmp_path: Path) -> tuple[Any, Any, int]:
    """Load a stream twice into a fresh lake; both results and the raw table's row count."""
    lake = Lake(load_settings(environ={"COUNTYHUB_HOME": str(tmp_path / "conformance-home")}))
    department = Department(code="conformance", name="一致性", name_en="Conformance", owner={"steward": "qa"})
    first = load_stream(lake, department, stream, connector)
    second = load_stream(lake, department, stream, connector)
    with lake.reader() as con:
        exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'lake' AND "
                             "schema_name = 'raw_conformance' AND table_name = ?", [stream.name]).fetchone()[0]
        rows = con.execute(f"SELECT count(*) FROM {first.table}").fetchone()[0] if exists else 0
    return first, second, rows
