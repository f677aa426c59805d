"""Access requests and grants: filed by a department's user, decided by the owning department's steward, expiring."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine

from countyhub.sharing.model import AccessRequest, DatasetInfo, Grant, Principal

Clock = Callable[[], datetime]  # naive UTC now; tests pass their own


class GrantStore:
    """Requests and grants in the catalog database. Every change is appended to the audit log by the caller."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        raise NotImplementedError

    def request(self, principal: Principal, dataset: DatasetInfo, columns: list[str], purpose: str,
                legal_basis: str, days: int) -> AccessRequest:
        """File a request for the principal's department. BadRequest for a not-shared dataset, unknown columns,
        an empty purpose or legal basis, days outside 1..366; Forbidden for the owner department itself."""
        raise NotImplementedError

    def pending(self, department: str | None = None) -> list[AccessRequest]:
        """Pending requests for datasets owned by `department` (all when None)."""
        raise NotImplementedError

    def get(self, request_id: int) -> AccessRequest:
        raise NotImplementedError

    def approve(self, request_id: int, decider: Principal, dataset: DatasetInfo) -> Grant:
        """Only the owning department's steward or an admin; never the requester. Starts now, expires after `days`."""
        raise NotImplementedError

    def deny(self, request_id: int, decider: Principal, dataset: DatasetInfo, reason: str) -> AccessRequest:
        raise NotImplementedError

    def revoke(self, grant_id: int, decider: Principal, dataset: DatasetInfo) -> Grant:
        raise NotImplementedError

    def active_grant(self, department: str, dataset: str) -> Grant | None:
        """The department's grant on the dataset that is active at the clock's now (expired ones never are)."""
        raise NotImplementedError

    def grants(self, department: str | None = None, dataset: str | None = None) -> list[Grant]:
        raise NotImplementedError

    def overdue(self, working_days: int = 10) -> list[AccessRequest]:
        """Pending requests unanswered for `working_days` working days (Chinese calendar: holidays and make-up days)."""
        raise NotImplementedError
