"""The tamper-evident audit log: hash-chained entries appended in batches, verified from the first entry on."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from countyhub.sharing.model import AuditEntry


class AuditLog:
    """Append-only; each entry carries the hash of the one before. Appends are batched by a writer thread."""

    def __init__(self, engine: Engine) -> None:
        raise NotImplementedError

    def append(self, entry: AuditEntry) -> None:
        """Queue an entry; it is written in the next batch (flush() waits for it)."""
        raise NotImplementedError

    def flush(self) -> None:
        """Block until every queued entry is committed."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def verify(self) -> tuple[int, str | None]:
        """(entries checked, None) when the chain holds; else the count so far and which entry was altered,
        removed or reordered (e.g. "entry 41: hash does not match its content")."""
        raise NotImplementedError

    def entries(self, department: str | None = None, dataset: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first; `department` selects reads of that department's datasets (for its steward)."""
        raise NotImplementedError
