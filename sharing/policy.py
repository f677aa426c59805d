"""Who may read what: the sharing type, the caller's department and role, and its grant decide rows, columns, masks."""

from __future__ import annotations

from countyhub.sharing.model import Access, DatasetInfo, Grant, Principal


def decide(principal: Principal, dataset: DatasetInfo, grant: Grant | None) -> Access:
    """The access one caller has to one dataset (the table in docs/governance-quality-and-access.md)."""
    raise NotImplementedError


def may_see_entry(principal: Principal, dataset: DatasetInfo) -> bool:
    """Catalog entries: shared ones for everyone signed in; raw/staging/audit/quarantine for engineers and admins."""
    raise NotImplementedError
