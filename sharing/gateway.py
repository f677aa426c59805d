"""The query gateway: one parsed, checked SELECT over per-caller masked views, on a locked-down DuckDB connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from countyhub.lakehouse import Lake
from countyhub.sharing.model import Access, DatasetInfo


@dataclass(frozen=True)
class View:
    """What the caller's `shared.<dataset>` means: the published table, the visible columns, masked ones masked."""

    dataset: DatasetInfo
    access: Access


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool  # more rows than the row limit existed


class Gateway:
    """Runs analysts' SQL against the lake's published tables through masked views only."""

    def __init__(self, lake: Lake, pseudonym_key: bytes | None = None, memory_limit: str = "512MB",
                 timeout_seconds: float = 10.0) -> None:
        """`pseudonym_key` (the county key, from the environment) enables the keyed pseudonym column."""
        raise NotImplementedError

    def check(self, sql: str, views: dict[str, View]) -> Any:
        """Parse with sqlglot: exactly one SELECT, only `shared.<name>` of `views` (and CTEs), no table functions,
        files, ATTACH/COPY/PRAGMA/SET/INSTALL/LOAD. BadRequest/Forbidden with a clear message otherwise."""
        raise NotImplementedError

    def query(self, sql: str, views: dict[str, View], limit: int = 10_000) -> QueryResult:
        raise NotImplementedError

    def rows(self, view: View, columns: list[str] | None, limit: int, offset: int) -> QueryResult:
        """A page of one dataset's rows as the caller may see them (what GET /api/datasets/{name}/rows returns)."""
        raise NotImplementedError
