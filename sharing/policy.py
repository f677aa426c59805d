"""Who may read what: the sharing type, the caller's department and role, and its grant decide rows, columns, masks."""

from __future__ import annotations

from datetime import datetime

from countyhub.core.vocab import MASKED
from countyhub.sharing.model import Access, DatasetInfo, Grant, Principal


def _masked(dataset: DatasetInfo, unmasked: frozenset[str] = frozenset()) -> frozenset[str]:
    return frozenset(c.name for c in dataset.columns if c.classification in MASKED and c.name not in unmasked)


def _valid(grant: Grant | None, principal: Principal, dataset: DatasetInfo, now: datetime | None) -> Grant | None:
    """The grant if it is this department's grant on this dataset (and active at `now`, when given); else None."""
    if grant is None or grant.department != principal.department or grant.dataset != dataset.name:
        return None
    if grant.revoked_at is not None or (now is not None and not grant.active(now)):
        return None
    return grant


def decide(principal: Principal, dataset: DatasetInfo, grant: Grant | None, now: datetime | None = None) -> Access:
    """The access one caller has to one dataset.

    `grant` is the caller's department's active grant on the dataset (GrantStore.active_grant); a grant of
    another department or dataset, a revoked one, or (with `now`) an inactive one counts as none.

    Shared zone ("masked" = returned, masked; sensitive and secret columns are the maskable ones):

    | dataset is    | owner department | other department, no grant          | other department, active grant     |
    | ------------- | ---------------- | ----------------------------------- | ---------------------------------- |
    | unconditional | all columns      | all columns, sensitive/secret masked | granted columns unmasked, other    |
    |               |                  |                                     | sensitive/secret masked            |
    | conditional   | all columns      | no rows ("conditional dataset; no   | all columns; granted ones unmasked,|
    |               |                  | approved grant for department <c>") | other sensitive/secret masked      |
    | not_shared    | all columns      | no rows ("not shared: data never    | no rows (a grant cannot exist; one |
    |               |                  | leaves <owner>")                    | that does is ignored)              |

    A grant naming a `secret` column unmasks it: the owning steward approved that column by name.
    Other zones (raw_*, staging, intermediate, audit, quarantine, meta): rows for engineers and admins of
    any department (sensitive/secret masked outside the owner department), no rows for other roles.
    An admin of another department reads like any other department: no bypass.
    """
    columns = tuple(c.name for c in dataset.columns)
    owner = principal.department == dataset.department
    if dataset.zone != "shared":
        if not principal.reads_lake_zones():
            return Access(False, f"zone {dataset.zone} is readable by engineers and admins only")
        return Access(True, f"zone {dataset.zone}", columns, frozenset() if owner else _masked(dataset))
    if owner:
        return Access(True, "owner department", columns)
    if dataset.sharing_type == "not_shared":
        return Access(False, f"not shared: data never leaves {dataset.department}")
    active = _valid(grant, principal, dataset, now)
    if active is None:
        if dataset.sharing_type == "conditional":
            return Access(False, f"conditional dataset; no approved grant for department {principal.department}")
        return Access(True, "unconditional dataset; sensitive columns masked", columns, _masked(dataset))
    granted = frozenset(active.columns) & frozenset(columns)
    return Access(True, f"grant {active.id}", columns, _masked(dataset, granted), active.id)


def may_see_entry(principal: Principal, dataset: DatasetInfo) -> bool:
    """Catalog entries: shared ones for everyone signed in; raw/staging/audit/quarantine for engineers and admins."""
    return dataset.zone == "shared" or principal.reads_lake_zones()
