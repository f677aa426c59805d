"""Row-level rules on incoming batches (declared types, resident ID numbers) and the quarantine zone they feed."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from countyhub.connectors.base import Rejected
from countyhub.connectors.options import StreamOptions
from countyhub.core import resident_id
from countyhub.core.departments import Stream
from countyhub.lakehouse.lake import LAKE
from countyhub.lakehouse.rejects import SOURCE_FILE, RejectSpill
from countyhub.lakehouse.values import to_declared

ID_NAME = re.compile(r"(身份证|公民身份号码|^id_number$|^id_card(_no)?$|_id_number$)", re.IGNORECASE)


@dataclass
class Validator:
    """Splits each batch into rows that fit (typed as declared) and rows for the quarantine."""

    stream: Stream
    id_columns: list[str]
    types: dict[str, pa.DataType]
    spill: RejectSpill
    # Data rows seen so far per source file, so a rejected row knows its position in its file.
    seen: dict[str, int] = field(default_factory=dict)
    # Birth dates after this are in the future (the day the load started: one answer for the whole load).
    today: date = field(default_factory=date.today)

    @classmethod
    def for_stream(cls, stream: Stream, strings: list[str], spill: RejectSpill) -> Validator:
        """Rules for a stream whose text columns are `strings`: declared `types`, and ID-number columns
        (declared as `id_number_columns`, else recognised by name, e.g. 身份证号 or id_number)."""
        options = StreamOptions.shared(stream)
        declared = options.id_number_columns
        ids = declared if declared is not None else [n for n in strings if ID_NAME.search(n)]
        # Declared `columns:` (the stream's whole shape) type every read, so a table first made from them
        # (an API that had no records yet) matches what later reads bring; `types:` wins where both say.
        types = {f.name: f.type for f in options.declared_schema() or []}
        types |= options.arrow_types()
        return cls(stream, [c for c in ids if c in strings], types, spill)

    @property
    def active(self) -> bool:
        return bool(self.id_columns or self.types)

    def output_schema(self, schema: pa.Schema) -> pa.Schema:
        return pa.schema([pa.field(f.name, self.types.get(f.name, f.type)) for f in schema])

    def split_all(self, batches: Iterable[pa.RecordBatch], workers: int = 2) -> Iterator[pa.RecordBatch]:
        """Each batch's rows that pass, typed and normalised (the others go to the spill with their reason), on
        `workers` threads, in order, at most `workers + 1` batches in flight.

        Arrow's compute functions release the GIL, so normalising one batch overlaps with the next; on a 1 GB
        office export the rules are most of the read. Positions in the file are counted here, in order."""
        if not self.active:
            yield from batches
            return
        with ThreadPoolExecutor(workers, thread_name_prefix="countyhub-rules") as pool:
            pending: deque[Future[pa.RecordBatch]] = deque()
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                pending.append(pool.submit(self.check, batch, self._count_rows(batch)))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def check(self, batch: pa.RecordBatch, first: int | None) -> pa.RecordBatch:
        """The rows of one batch that pass, for a batch whose first row is at position `first` of its file
        (thread-safe: the spill takes rows under its lock)."""
        reasons: dict[int, str] = {}  # sparse: a clean batch never builds a per-row structure
        columns = []
        for f in batch.schema:
            column, failures = batch.column(f.name), [{}, {}]
            if f.name in self.id_columns:
                column, failures[0] = resident_id.check_column(f.name, column, self.today)
            if f.name in self.types and column.type != self.types[f.name]:
                column, failures[1] = to_declared(f.name, column, self.types[f.name])
            for i, reason in (failures[0] | failures[1]).items():
                reasons.setdefault(i, reason)  # the first column's reason names the row's problem
            columns.append(column)
        schema = self.output_schema(batch.schema)
        if not reasons:
            return pa.RecordBatch.from_arrays(columns, schema=schema)
        bad = sorted(reasons)
        # Only the rejected rows become Python objects, and the spill writes them out as it goes.
        self.spill.add([Rejected(self._where(row), reasons[i], row, None if first is None else first + i)
                        for i, row in zip(bad, batch.take(pa.array(bad)).to_pylist(), strict=True)])
        keep = np.ones(batch.num_rows, dtype=bool)
        keep[bad] = False
        return pa.RecordBatch.from_arrays([c.filter(pa.array(keep)) for c in columns], schema=schema)

    def _count_rows(self, batch: pa.RecordBatch) -> int | None:
        """Position in its file of the batch's first row (None when rows do not come from files).

        A files connector yields each batch from one file, in file order, so counting is enough."""
        if SOURCE_FILE not in batch.schema.names:
            return None
        name = batch.column(SOURCE_FILE)[0].as_py()
        first = self.seen.get(name, 0)
        self.seen[name] = first + batch.num_rows
        return first

    def _where(self, row: dict[str, Any]) -> str:
        key = ", ".join(f"{k}={row.get(k)}" for k in self.stream.primary_key)
        source = row.get(SOURCE_FILE)
        return " ".join(p for p in (source, f"key {key}" if key else "") if p) or "row without key"


def quarantine_table(department: str, stream: str) -> str:
    return f"{LAKE}.quarantine.{department}__{stream}"


@dataclass
class Quarantined:
    """What a load did to the quarantine: `rows` of its read were rejected, `new` of them were added.

    A rejected row already in quarantine (same location, reason and raw values; e.g. a bad row sitting at
    the cursor, which every incremental load re-reads) counts as quarantined for this load, so that
    read = loaded + quarantined still holds, but it is not added again: its first entry and load_id stay.
    """

    rows: int = 0
    new: int = 0

    @property
    def known(self) -> int:
        return self.rows - self.new


def write_quarantine(con: duckdb.DuckDBPyConnection, department: str, stream: str, load_id: str,
                     at: datetime, spill: RejectSpill, located: list[Rejected]) -> Quarantined:
    """Append the load's newly rejected rows (raw values as JSON text, reason, where) in the load's transaction.

    Call after `spill.close()`. `located` are rows of the spill that the connector pointed at their
    line in a file: their location replaces the one they were spilled with.
    """
    relation = spill.relation()
    if relation is None:
        return Quarantined()
    table = quarantine_table(department, stream)
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} (load_id VARCHAR, location VARCHAR, reason VARCHAR, "
                "raw_values VARCHAR, quarantined_at TIMESTAMPTZ)")
    fixes = pa.table({"source_file": [r.values.get(SOURCE_FILE) for r in located], "row": [r.row for r in located],
                      "location": [r.where for r in located]},
                     schema=pa.schema([("source_file", pa.string()), ("row", pa.int64()), ("location", pa.string())]))
    con.register("located_rows", fixes)
    try:
        new = con.execute(
            f"INSERT INTO {table} SELECT ?::VARCHAR, coalesce(f.location, r.location), r.reason, r.raw_values, "
            f"?::TIMESTAMPTZ FROM {relation} r LEFT JOIN located_rows f ON f.source_file = r.source_file AND "
            f"f.row = r.row WHERE NOT EXISTS (SELECT 1 FROM {table} q WHERE q.location = coalesce(f.location, "
            "r.location) AND q.reason = r.reason AND q.raw_values = r.raw_values)", [load_id, at]).fetchone()[0]
    finally:
        con.unregister("located_rows")
    return Quarantined(spill.rows, new)
