"""The connector interface: typed config with secrets from the environment, check, discover, read."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from countyhub.departments import Stream


class ConnectorError(RuntimeError):
    """A source cannot be reached or read; the message never contains a secret."""


class ConnectorConfig(BaseModel):
    """Base of every connector config. Fields ending in `_env` name environment variables holding secrets."""

    model_config = ConfigDict(extra="forbid")

    def secret(self, env_field: str) -> SecretStr | None:
        """Read the secret named by `<x>_env` from the environment (or an Airflow connection via env)."""
        var = getattr(self, env_field, None)
        if not var:
            return None
        value = os.environ.get(var)
        return SecretStr(value) if value is not None else None


@dataclass
class DiscoveredStream:
    """What a source offers: a stream name, its Arrow schema, its key and (when cheap) its row count."""

    name: str
    schema: pa.Schema
    primary_key: list[str] = field(default_factory=list)
    row_count: int | None = None


class Connector(ABC):
    """A department system. Subclasses set `kind` and `Config`, and implement check/discover/read."""

    kind: ClassVar[str]
    Config: ClassVar[type[ConnectorConfig]]

    def __init__(self, config: dict[str, Any], where: str = "") -> None:
        try:
            self.config = self.Config.model_validate(config)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConnectorError(f"{where or self.kind}: invalid {self.kind} config: {problems}") from None
        self.where = where or self.kind

    @abstractmethod
    def check(self) -> None:
        """Raise ConnectorError if the source cannot be reached with this config."""

    @abstractmethod
    def discover(self, streams: list[Stream] | None = None) -> list[DiscoveredStream]:
        """The streams the source offers (restricted to `streams` when given) with schemas."""

    @abstractmethod
    def read(self, stream: Stream, state: dict[str, Any] | None = None) -> Iterator[pa.RecordBatch]:
        """Yield the stream's rows as Arrow record batches of bounded size."""

    def schema_of(self, stream: Stream) -> pa.Schema:
        found = self.discover([stream])
        if not found:
            raise ConnectorError(f"{self.where}: stream {stream.name!r} not found in the source")
        return found[0].schema
