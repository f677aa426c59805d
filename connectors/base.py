"""The connector interface: typed config with flagged secrets, check, discover, read (with a reject sink), checkpoints."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from countyhub.connectors.errors import ConnectorError, StreamEmptyError
from countyhub.connectors.options import OpenStreamOptions, StreamOptions
from countyhub.core.departments import Stream
from countyhub.core.secrets import resolve_secret

# Re-exported: connectors written before errors.py import them from here.
__all__ = ["Connector", "ConnectorConfig", "ConnectorError", "DiscoveredStream", "RejectList", "RejectSink", "Rejected",
           "ScanPlan", "Skipped", "StreamEmptyError", "sink"]


class ConnectorConfig(BaseModel):
    """Base of every connector config.

    A secret is never a value here: a field ending in `_env` (or flagged `secret=True` in its
    json_schema_extra) *names* where the secret lives — an environment variable, or
    `airflow:<conn_id>` for an Airflow connection's password.
    """

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def secret_fields(cls) -> list[str]:
        """Names of the fields that point at secrets."""
        return [name for name, f in cls.model_fields.items()
                if name.endswith("_env") or (isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("secret"))]

    def secret(self, env_field: str, environ: Mapping[str, str] | None = None) -> SecretStr | None:
        """The secret named by `env_field`, from `environ` or an Airflow connection (None if unset)."""
        ref = getattr(self, env_field, None)
        if not ref:
            return None
        value = resolve_secret(ref, environ)
        return SecretStr(value) if value is not None else None


@dataclass
class DiscoveredStream:
    """What a source offers: a stream name, its Arrow schema, its key and (when cheap) its row count."""

    name: str
    schema: pa.Schema
    primary_key: list[str] = field(default_factory=list)
    row_count: int | None = None


@dataclass
class Rejected:
    """A row the connector could not turn into a record (a bad CSV line): quarantined, never dropped silently."""

    where: str  # file:line, page, or key
    reason: str
    values: dict[str, str | None]
    # Which data row of its file (0-based, as read) a row rule rejected: the connector turns it into a line.
    row: int | None = None


@dataclass
class Skipped:
    """A line of a file that is not data (a title, a note, a footer such as 合计 or 制表人): kept out of the
    rows and recorded in the load log, never dropped silently."""

    where: str  # file:line
    reason: str  # e.g. "title above the header", "footer: 合计"
    text: str  # the line as the file has it (cut to a few hundred characters)


class RejectSink(Protocol):
    """Where `read()` reports a record it could not turn into a row (to quarantine) or a line that is not data
    (to the load log); the load's sink spills them."""

    def reject(self, where: str, reason: str, values: dict[str, str | None]) -> None: ...

    def skip(self, where: str, reason: str, text: str) -> None: ...


class RejectList:
    """A reject sink that keeps the rows in a list: for reads outside a load (tests, previews, a REPL)."""

    def __init__(self) -> None:
        self.rows: list[Rejected] = []
        self.skipped: list[Skipped] = []

    def reject(self, where: str, reason: str, values: dict[str, str | None]) -> None:
        self.rows.append(Rejected(where, reason, values))

    def skip(self, where: str, reason: str, text: str) -> None:
        self.skipped.append(Skipped(where, reason, text))


@dataclass
class ScanPlan:
    """How DuckDB can read a stream itself (the fast path): setup statements, then one SELECT over `alias`."""

    alias: str
    setup: list[tuple[str, list[Any]]]
    select: str
    params: list[Any] = field(default_factory=list)


def sink(rejects: RejectSink | None) -> RejectSink:
    """`rejects`, or a RejectList when a caller reads without one (its rows are then only kept in the list)."""
    return rejects if rejects is not None else RejectList()


class Connector(ABC):
    """A department system. Subclasses set `kind`, `Config` and `Options`, and implement check/discover/read."""

    kind: ClassVar[str]
    Config: ClassVar[type[ConnectorConfig]]
    # The stream options this kind takes; without one of its own a connector accepts any key.
    Options: ClassVar[type[StreamOptions]] = OpenStreamOptions
    # How a stream without an explicit `mode:` is applied when the connector has no better idea.
    default_mode: ClassVar[str] = "auto"

    def __init__(self, config: dict[str, Any], where: str = "", environ: Mapping[str, str] | None = None,
                 duckdb_config: dict[str, str | bool] | None = None) -> None:
        """`environ` resolves secret names (default: this process's environment); `duckdb_config` is the
        runtime's DuckDB settings, for connectors that read through DuckDB's scanners."""
        try:
            self.config = self.Config.model_validate(config)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConnectorError(f"{where or self.kind}: invalid {self.kind} config: {problems}") from None
        self.where = where or self.kind
        self.environ = environ
        self.duckdb_config = duckdb_config

    def __repr__(self) -> str:
        # Config holds only secret *names*, but a subclass may keep resolved values on self: print neither.
        return f"<{type(self).__name__} {self.where}>"

    @abstractmethod
    def check(self) -> None:
        """Raise ConnectorError if the source cannot be reached with this config."""

    @abstractmethod
    def discover(self, streams: list[Stream] | None = None) -> list[DiscoveredStream]:
        """The streams the source offers (restricted to `streams` when given) with schemas."""

    @abstractmethod
    def read(self, stream: Stream, state: dict[str, Any] | None = None,
             rejects: RejectSink | None = None) -> Iterator[pa.RecordBatch]:
        """Yield the stream's rows as Arrow record batches of bounded size.

        `state` is what the last committed load left: `cursor` (read rows whose cursor column is
        greater than it, or greater-or-equal when `cursor_op` is ">="), plus whatever `checkpoint()`
        returned (e.g. the checksums of files already loaded). A record that cannot become a row (a
        bad CSV line) goes to `rejects.reject(where, reason, values)`, never dropped silently; the
        load passes its own sink (the rows go to quarantine), other callers may pass none
        (see `sink()`).
        """

    def checkpoint(self, stream: Stream) -> dict[str, Any]:
        """Connector-specific state to keep after a read has been committed (default: none)."""
        return {}

    def estimate(self, stream: Stream, state: dict[str, Any] | None = None) -> int | None:
        """Rows the next read will yield, if cheap to know (drives the progress bar's ETA)."""
        return None

    def advise(self, streams: list[Stream]) -> list[str]:
        """Warnings about how the source is set up that make loads slow, not wrong (default: none).

        Each names the stream and what to change; `countyhub sources test` prints them.
        """
        return []

    def scan_plan(self, stream: Stream, state: dict[str, Any] | None = None) -> ScanPlan | None:
        """A plan for DuckDB to read the stream directly, or None (then `read` is used)."""
        return None

    def locate(self, stream: Stream, rejected: list[Rejected]) -> list[Rejected]:
        """Point rows that a row rule rejected (`row` set) at where an engineer finds them, e.g. `file:line`.

        Called once per load, only when rows were rejected; the default leaves `where` as it is (the key).
        """
        return rejected

    def secrets(self) -> list[str]:
        """Resolved secret values, only so that messages can be scrubbed of them."""
        values = [self.secret(f) for f in self.config.secret_fields()]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]

    def secret(self, env_field: str) -> SecretStr | None:
        """The secret a config field names, resolved in this connector's environment."""
        return self.config.secret(env_field, self.environ)

    def redact(self, text: str) -> str:
        """`text` with every secret of this connector replaced by ***."""
        for value in self.secrets():
            text = text.replace(value, "***")
        return text

    def schema_of(self, stream: Stream) -> pa.Schema:
        found = self.discover([stream])
        if not found:
            raise ConnectorError(f"{self.where}: stream {stream.name!r} not found in the source")
        return found[0].schema
