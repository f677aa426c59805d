"""Rows a load rejected, spilled to a Parquet file as they come so memory stays bounded however many there are."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from countyhub.connectors.base import Rejected, Skipped

SOURCE_FILE = "_source_file"
SCHEMA = pa.schema([("location", pa.string()), ("reason", pa.string()), ("raw_values", pa.string()),
                    ("row", pa.int64()), ("source_file", pa.string())])
FLUSH_ROWS = 10_000
# Skipped lines (titles, notes, footers) kept with their text in the load log; beyond this only counted.
KEEP_SKIPPED = 1_000
SKIPPED_TEXT = 300


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class RejectSpill:
    """Collects rejected rows (from row rules and from the connector) into one Parquet file in `folder`.

    Rows are written in groups of FLUSH_ROWS; only the current group is held in memory. The reader
    thread adds rows while the load's thread writes good rows, hence the lock.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / f"rejected-{uuid.uuid4().hex}.parquet"
        self.rows = 0
        self.unread = 0  # rows the connector rejected before they became records (not counted in batches)
        self.with_position = 0  # rows that know their position in a source file (see positioned)
        self.skipped: list[Skipped] = []  # lines that are not data: the first KEEP_SKIPPED, with their text
        self.skipped_count = 0
        self._pending: list[Rejected] = []
        self._writer: pq.ParquetWriter | None = None
        self._lock = threading.Lock()

    def add(self, rejected: list[Rejected]) -> None:
        """Rows a row rule rejected (they were counted as read with their batch)."""
        with self._lock:
            self._pending += rejected
            self.rows += len(rejected)
            self.with_position += sum(r.row is not None for r in rejected)
            if len(self._pending) >= FLUSH_ROWS:
                self._flush()

    def reject(self, where: str, reason: str, values: dict[str, str | None]) -> None:
        """A record the connector could not parse (a bad CSV line): it never reached a batch.

        This makes the spill a connector's RejectSink: the load passes it to `read()`."""
        self.add([Rejected(where, reason, values)])
        self.unread += 1

    def skip(self, where: str, reason: str, text: str) -> None:
        """A line that is not data (title, note, footer): not a row, so not counted as read; logged with the load."""
        with self._lock:
            self.skipped_count += 1
            if len(self.skipped) < KEEP_SKIPPED:
                self.skipped.append(Skipped(where, reason, text[:SKIPPED_TEXT]))

    def _flush(self) -> None:
        if not self._pending:
            return
        table = pa.table({
            "location": [r.where for r in self._pending],
            "reason": [r.reason for r in self._pending],
            "raw_values": [json.dumps({k: _text(v) for k, v in r.values.items()}, ensure_ascii=False)
                           for r in self._pending],
            "row": [r.row for r in self._pending],
            "source_file": [_text(r.values.get(SOURCE_FILE)) for r in self._pending],
        }, schema=SCHEMA)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, SCHEMA)
        self._writer.write_table(table)
        self._pending = []

    def close(self) -> None:
        """Write what is pending; after this the file holds every rejected row."""
        with self._lock:
            self._flush()
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def relation(self) -> str | None:
        """A SQL relation over the rejected rows (None if there are none); call close() first."""
        return f"read_parquet('{self.path}')" if self.rows else None

    def positioned(self, limit: int) -> list[Rejected]:
        """Up to `limit` rejected rows that know their position in a source file, for the connector to locate."""
        found: list[Rejected] = []
        if not self.with_position:  # e.g. every row of a database source: no need to read the file back
            return found
        for batch in pq.ParquetFile(self.path).iter_batches(columns=["location", "reason", "raw_values", "row"]):
            batch = batch.filter(pc.is_valid(batch.column("row"))).slice(0, limit - len(found))
            found += [Rejected(r["location"], r["reason"], json.loads(r["raw_values"]), r["row"]) for r in batch.to_pylist()]
            if len(found) >= limit:
                break
        return found

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
