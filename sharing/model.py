"""The words of sharing as data: principals, access requests, grants, what a caller may see, audit entries, errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from countyhub.core.vocab import Classification, Role, SharingType


class SharingError(Exception):
    """A refusal with an HTTP status and a message safe to show (never the caller's SQL or a secret)."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthorized(SharingError):
    """No valid token or session: 401."""

    status = 401


class Forbidden(SharingError):
    """Signed in, not allowed: 403 with the reason (e.g. "conditional dataset; no approved grant for department cgj")."""

    status = 403


class NotFound(SharingError):
    status = 404


class BadRequest(SharingError):
    status = 400


class TooManyRequests(SharingError):
    """Over a rate limit or a daily quota: 429, and Retry-After says when to try again."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Principal:
    """A signed-in user (or, later, a department's system): one department, one role."""

    name: str
    department: str
    role: Role
    user_id: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def reads_lake_zones(self) -> bool:
        """Raw, staging and audit zones are the platform's own: engineers and admins only."""
        return self.role in ("engineer", "admin")


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    classification: Classification = "internal"
    # What the value is, for masking: id_number, name, phone, address, or "" (by column name when empty).
    semantic: str = ""


@dataclass(frozen=True)
class DatasetInfo:
    """What the policy needs to know of a dataset: who owns it, how it is shared, its columns."""

    name: str  # e.g. shared.resident_profile
    department: str  # owning department code
    sharing_type: SharingType
    columns: tuple[ColumnInfo, ...] = ()
    sharing_conditions: str = ""
    legal_basis: str = ""

    @property
    def zone(self) -> str:
        return self.name.split(".", 1)[0] if "." in self.name else "shared"


@dataclass(frozen=True)
class AccessRequest:
    id: int
    dataset: str
    department: str  # the requesting department
    requester: str  # user name
    columns: tuple[str, ...]
    purpose: str
    legal_basis: str
    days: int
    status: str  # pending | approved | denied
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str = ""
    services: tuple[str, ...] = ()  # data services of the dataset asked for by name (verify, lookup, list)


@dataclass(frozen=True)
class Grant:
    """An approved request: this department may read these columns of this dataset until `expires_at`."""

    id: int
    request_id: int
    dataset: str
    department: str
    columns: tuple[str, ...]
    purpose: str
    legal_basis: str
    approver: str
    starts_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    services: tuple[str, ...] = ()  # the data services this grant lets the department call
    rate_per_second: float | None = None  # the steward's limits on those calls; None: the deployment's default
    daily_quota: int | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.starts_at <= now < self.expires_at


@dataclass(frozen=True)
class Access:
    """The policy's answer for one caller and one dataset."""

    rows: bool  # may read rows (and samples) at all
    reason: str = ""  # why not, or what limits apply
    columns: tuple[str, ...] = ()  # the columns returned, in dataset order
    masked: frozenset[str] = frozenset()  # of those, the ones returned masked
    grant_id: int | None = None


@dataclass
class AuditEntry:
    """One line of the audit log; `prev_hash`/`hash` chain it to the one before."""

    action: str  # read_rows, query, download, sample_view, grant_request, grant_approve, grant_deny, grant_revoke,
    #              publish, user_add, user_revoke, sign_in
    actor: str
    department: str
    dataset: str = ""
    columns: list[str] = field(default_factory=list)
    purpose: str = ""
    grant_id: int | None = None
    rows: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    id: int | None = None
    prev_hash: str = ""
    hash: str = ""
