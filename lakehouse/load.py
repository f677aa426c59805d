"""Load a stream into the raw zone: one load_id, one DuckLake transaction, all or nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from connectors.base import Connector
from countyhub.departments import Department, Stream
from lakehouse.lake import LAKE, Lake

LOADS_DDL = f"""CREATE TABLE IF NOT EXISTS {LAKE}.meta.loads (
    load_id VARCHAR, department VARCHAR, stream VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
    bytes_read BIGINT, status VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, message VARCHAR)"""


@dataclass
class LoadResult:
    """What one load did, for the summary, the catalog and the DAG logs."""

    load_id: str
    department: str
    stream: str
    table: str
    rows_read: int
    rows_loaded: int
    bytes_read: int
    started_at: datetime
    finished_at: datetime
    schema: pa.Schema

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


def new_load_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


class _Counted:
    """Pass batches through while counting rows and bytes, so counts need no second scan."""

    def __init__(self, batches: Iterator[pa.RecordBatch], progress: Callable[[int], None] | None) -> None:
        self.batches, self.progress, self.rows, self.bytes = batches, progress, 0, 0

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for batch in self.batches:
            self.rows += batch.num_rows
            self.bytes += batch.nbytes
            if self.progress:
                self.progress(batch.num_rows)
            yield batch


def load_stream(
    lake: Lake,
    department: Department,
    stream: Stream,
    connector: Connector,
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Replace `raw_<dept>.<stream>` with a full snapshot of the source, atomically.

    The table is swapped inside one transaction, so readers see the old rows or the new rows,
    never a mix; a crash mid-load rolls back and leaves the previous load in place.
    """
    load_id, started = new_load_id(), datetime.now(UTC)
    table = f"{LAKE}.{department.raw_schema}.{stream.name}"
    batches = iter(connector.read(stream, None))
    first = next(batches, None)
    schema = first.schema if first is not None else connector.schema_of(stream)
    counted = _Counted(_chain(first, batches), progress)
    incoming = pa.RecordBatchReader.from_batches(schema, iter(counted))
    with lake.writer() as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {LAKE}.{department.raw_schema}")
        con.execute(LOADS_DDL)
        con.register("incoming", incoming)
        con.execute("BEGIN")
        try:
            con.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT *, ?::VARCHAR AS _load_id, "
                "?::TIMESTAMPTZ AS _loaded_at FROM incoming",
                [load_id, started],
            )
            finished = datetime.now(UTC)
            con.execute(
                f"INSERT INTO {LAKE}.meta.loads VALUES (?, ?, ?, ?, ?, ?, 'success', ?, ?, '')",
                [load_id, department.code, stream.name, counted.rows, counted.rows, counted.bytes, started, finished],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("incoming")
    return LoadResult(load_id, department.code, stream.name, table, counted.rows, counted.rows,
                      counted.bytes, started, finished, schema)


def _chain(first: pa.RecordBatch | None, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    if first is not None:
        yield first
    yield from rest

