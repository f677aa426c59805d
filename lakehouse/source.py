"""The rows a load reads, as something DuckDB can SELECT from: the connector's scanner, or its Arrow batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from countyhub.connectors.base import ConnectorError
from countyhub.connectors.sql_duckdb import run_setup
from countyhub.lakehouse import drift
from countyhub.lakehouse.chunks import chunked
from countyhub.lakehouse.plan import LoadPlan, LoadRun
from countyhub.lakehouse.quarantine import Validator


@dataclass
class Source:
    """The incoming rows as something DuckDB can SELECT from, plus what is counted on the way."""

    relation: str
    params: list
    types: dict[str, str]
    schema: pa.Schema
    validator: Validator | None = None
    rows: int = 0
    bytes: int = 0
    counted: bool = False  # False: rows are counted in SQL once written (the scanner path)
    empty: bool = False  # the read yielded no batch at all: it says nothing about which columns exist
    chunks: Iterator[pa.Table] | None = None

    def relations(self) -> Iterator[str | pa.Table]:
        """The SQL relation to read (scanner path), or the Arrow chunks one after the other."""
        if self.chunks is None:
            yield self.relation
        else:
            yield from self.chunks


def _arrow_source(run: LoadRun, plan: LoadPlan) -> Source:
    con, stream = run.con, plan.stream
    # The reject sink goes with the read: a record the connector cannot parse is spilled to disk as it comes.
    batches = iter(run.connector.read(stream, plan.read_from, run.rejects))
    first = next(batches, None)
    schema = first.schema if first is not None else drift.empty_read_schema(con, run.connector, stream, plan.table,
                                                                            plan.existing)
    validator = Validator.for_stream(stream, [f.name for f in schema if pa.types.is_string(f.type)], run.rejects)
    out_schema = validator.output_schema(schema)
    source = Source("incoming", [], {}, out_schema, validator, counted=True, empty=first is None)

    def counted() -> Iterator[pa.RecordBatch]:
        for batch in ([first] if first is not None else []), batches:
            for b in batch:
                source.rows += b.num_rows
                source.bytes += b.nbytes
                if run.progress:
                    run.progress(b.num_rows)
                yield b

    def flow() -> Iterator[pa.RecordBatch]:
        yield from validator.split_all(counted())

    if len(out_schema):
        con.register("incoming_shape", out_schema.empty_table())
        source.types = drift.describe(con, "incoming_shape")
        con.unregister("incoming_shape")
    source.chunks = chunked(flow(), out_schema)
    return source


def open_source(run: LoadRun, plan: LoadPlan) -> Source:
    """The scanner path when the connector offers one and no row rule needs Arrow, else the Arrow batches."""
    connector, stream = run.connector, plan.stream
    scan = connector.scan_plan(stream, plan.read_from)
    if scan is not None:
        try:
            run_setup(run.con, scan)
            types = drift.describe(run.con, f"({scan.select})", scan.params)
        except duckdb.Error as exc:
            raise ConnectorError(connector.redact(f"{connector.where}: cannot open {stream.name!r}: {exc}")) from None
        validator = Validator.for_stream(stream, [c for c, t in types.items() if t == "VARCHAR"], run.rejects)
        if not validator.active:  # row rules need the Arrow path; everything else goes scanner → lake directly
            return Source(f"({scan.select})", scan.params, types, pa.schema([]))
    return _arrow_source(run, plan)
