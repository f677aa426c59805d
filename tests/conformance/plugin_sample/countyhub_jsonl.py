"""A third-party connector, written as docs/write-a-connector.md says: JSON Lines exports in a folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from countyhub.connectors import (
    Connector,
    ConnectorConfig,
    ConnectorError,
    DiscoveredStream,
    RejectSink,
    Stream,
    StreamOptions,
)


class JsonlConfig(ConnectorConfig):
    folder: str
    token_env: str | None = None  # the export folder is locked with a token kept in its `.token` file
    batch_rows: int = 40


class JsonlStreamOptions(StreamOptions):
    table: str | None = None  # the export's file name without .jsonl; default: the stream name


class JsonlConnector(Connector):
    kind = "jsonl"
    Config = JsonlConfig
    Options = JsonlStreamOptions

    def _path(self, stream: Stream) -> Path:
        table = JsonlStreamOptions.of(stream, self.where).table or stream.name
        return Path(self.config.folder) / f"{table}.jsonl"

    def check(self) -> None:
        folder = Path(self.config.folder)
        if not folder.is_dir():
            raise ConnectorError(f"{self.where}: export folder {folder} does not exist")
        lock, token = folder / ".token", self.config.secret("token_env")
        if lock.exists() and (token is None or token.get_secret_value() != lock.read_text().strip()):
            # A careless message, as plugin authors write them: redact() must still keep the token out.
            shown = token.get_secret_value() if token else None
            raise ConnectorError(self.redact(f"{self.where}: token {shown} does not open {folder}"))

    def _table(self, stream: Stream) -> pa.Table:
        path = self._path(stream)
        if not path.exists():
            raise ConnectorError(f"{self.where}: no export {path} for stream {stream.name!r}")
        if path.stat().st_size == 0:
            return pa.table({})
        return pj.read_json(path)

    def discover(self, streams: list[Stream] | None = None) -> list[DiscoveredStream]:
        streams = streams or [Stream(name=p.stem) for p in sorted(Path(self.config.folder).glob("*.jsonl"))]
        return [DiscoveredStream(s.name, (t := self._table(s)).schema, list(s.primary_key), t.num_rows) for s in streams]

    def read(self, stream: Stream, state: dict[str, Any] | None = None,
             rejects: RejectSink | None = None) -> Iterator[pa.RecordBatch]:
        # Every line of a JSON Lines export parses or the whole read fails: nothing goes to `rejects`.
        table = self._table(stream)
        if stream.cursor and state and state.get("cursor") is not None:
            compare = pc.greater_equal if state.get("cursor_op") == ">=" else pc.greater
            table = table.filter(compare(table.column(stream.cursor), pa.scalar(state["cursor"])))
        yield from table.to_batches(max_chunksize=self.config.batch_rows)
