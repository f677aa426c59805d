"""Access requests and grants: filed by a department's user, decided by the owning department's steward, expiring."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Engine

from countyhub.core.masking import mask_text
from countyhub.sharing import tables as t
from countyhub.sharing.model import AccessRequest, BadRequest, DatasetInfo, Forbidden, Grant, NotFound, Principal
from countyhub.sharing.workdays import is_overdue

Clock = Callable[[], datetime]  # naive UTC now; tests pass their own
MAX_DAYS = 366
MAX_TEXT = 2000


def _text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise BadRequest(f"a request needs a {what}")
    if len(value) > MAX_TEXT:
        raise BadRequest(f"the {what} is longer than {MAX_TEXT} characters")
    # Purposes are shown to stewards and copied into the audit log: an ID or phone number must not ride along.
    return mask_text(value)


def _request(row: Any) -> AccessRequest:
    return AccessRequest(id=row.id, dataset=row.dataset, department=row.department, requester=row.requester,
                         columns=tuple(json.loads(row.columns_json)), purpose=row.purpose,
                         legal_basis=row.legal_basis, days=row.days, status=row.status,
                         requested_at=row.requested_at, decided_by=row.decided_by, decided_at=row.decided_at,
                         reason=row.reason or "", services=tuple(json.loads(row.services_json or "[]")))


def _grant(row: Any) -> Grant:
    return Grant(id=row.id, request_id=row.request_id, dataset=row.dataset, department=row.department,
                 columns=tuple(json.loads(row.columns_json)), purpose=row.purpose, legal_basis=row.legal_basis,
                 approver=row.approver, starts_at=row.starts_at, expires_at=row.expires_at, revoked_at=row.revoked_at,
                 services=tuple(json.loads(row.services_json or "[]")), rate_per_second=row.rate_per_second,
                 daily_quota=row.daily_quota)


def may_decide(decider: Principal, dataset: DatasetInfo) -> str | None:
    """None when `decider` may decide on requests for `dataset`; otherwise why not."""
    if decider.is_admin or (decider.role == "steward" and decider.department == dataset.department):
        return None
    return f"only a steward of department {dataset.department} (the owner of {dataset.name}) or an admin may decide"


class GrantStore:
    """Requests and grants in the catalog database. Every change is appended to the audit log by the caller."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock
        t.upgrade(engine)

    def request(self, principal: Principal, dataset: DatasetInfo, columns: list[str], purpose: str,
                legal_basis: str, days: int, services: list[str] | None = None,
                known_services: tuple[str, ...] = ()) -> AccessRequest:
        """File a request for the principal's department. BadRequest for a not-shared dataset, unknown columns or
        services (`known_services`: the dataset's declared ones), an empty purpose or legal basis, days outside
        1..366; Forbidden for the owner department itself."""
        if dataset.zone != "shared":
            raise BadRequest(f"access is requested to shared datasets; {dataset.zone} is the platform's own zone")
        if dataset.sharing_type == "not_shared":
            raise BadRequest("a grant cannot be filed for a not-shared dataset")
        if principal.department == dataset.department:
            raise Forbidden(f"department {principal.department} owns {dataset.name}; it needs no grant")
        known = [c.name for c in dataset.columns]
        wanted, calls = set(columns or []), list(dict.fromkeys(services or []))
        if not wanted and not calls:
            raise BadRequest("name at least one column or data service to request")
        strange = [s for s in calls if s not in known_services]
        if strange:
            offered = ", ".join(known_services) or "none"
            raise BadRequest(f"{dataset.name} has no data service {mask_text(str(strange[0]))[:64]!r} "
                             f"(its services: {offered})")
        unknown = sorted(wanted - set(known))
        if unknown:
            shown = ", ".join(repr(mask_text(c)[:64]) for c in unknown[:5])
            raise BadRequest(f"{dataset.name} has no column {shown}")
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise BadRequest(f"days must be a whole number from 1 to {MAX_DAYS}")
        row = {"dataset": dataset.name, "owner": dataset.department, "department": principal.department,
               "requester": principal.name, "columns_json": json.dumps([c for c in known if c in wanted]),
               "services_json": json.dumps(calls),
               "purpose": _text(purpose, "purpose"), "legal_basis": _text(legal_basis, "legal basis"),
               "days": days, "status": "pending", "requested_at": self.clock(), "reason": ""}
        with self.engine.begin() as con:
            request_id = con.execute(insert(t.access_requests).values(**row)).inserted_primary_key[0]
        return self.get(request_id)

    def requests(self, status: str | None = None, owner: str | None = None, department: str | None = None,
                 either: bool = False) -> list[AccessRequest]:
        """Requests, oldest first: of datasets owned by `owner`, filed by `department` (both or, with `either`,
        one of them), with `status` (pending, approved, denied) when given."""
        c = t.access_requests.c
        query = select(t.access_requests).order_by(c.id)
        if status:
            query = query.where(c.status == status)
        filters = [f for f in ((c.owner == owner) if owner else None,
                               (c.department == department) if department else None) if f is not None]
        if filters:
            query = query.where(or_(*filters)) if either else query.where(*filters)
        with self.engine.connect() as con:
            return [_request(r) for r in con.execute(query)]

    def pending(self, department: str | None = None) -> list[AccessRequest]:
        """Pending requests for datasets owned by `department` (all when None)."""
        return self.requests("pending", owner=department)

    def get(self, request_id: int) -> AccessRequest:
        with self.engine.connect() as con:
            row = con.execute(select(t.access_requests).where(t.access_requests.c.id == request_id)).first()
        if row is None:
            raise NotFound(f"no access request {request_id}")
        return _request(row)

    def _decidable(self, request_id: int, decider: Principal, dataset: DatasetInfo) -> AccessRequest:
        request = self.get(request_id)
        if request.dataset != dataset.name:
            raise BadRequest(f"access request {request_id} is for {request.dataset}, not {dataset.name}")
        if request.requester == decider.name:
            raise Forbidden("the requester cannot decide on their own request")
        refusal = may_decide(decider, dataset)
        if refusal:
            raise Forbidden(refusal)
        if request.status != "pending":
            raise BadRequest(f"access request {request_id} is already {request.status}")
        return request

    def _decide(self, con: Any, request_id: int, decider: Principal, status: str, reason: str) -> None:
        # Only a still-pending row changes: of two stewards deciding at once, the second gets a clear refusal.
        done = con.execute(update(t.access_requests)
                           .where(t.access_requests.c.id == request_id, t.access_requests.c.status == "pending")
                           .values(status=status, decided_by=decider.name, decided_at=self.clock(),
                                   reason=reason)).rowcount
        if not done:
            raise BadRequest(f"access request {request_id} was decided by someone else just now")

    def approve(self, request_id: int, decider: Principal, dataset: DatasetInfo, rate_per_second: float | None = None,
                daily_quota: int | None = None) -> Grant:
        """Only the owning department's steward or an admin; never the requester. Starts now, expires after `days`.
        `rate_per_second` and `daily_quota` limit the grant's service calls (None: the deployment's defaults)."""
        if rate_per_second is not None and (isinstance(rate_per_second, bool) or not isinstance(rate_per_second, int | float)
                                            or not 0 < rate_per_second <= 100_000):
            raise BadRequest("rate_per_second must be a number above 0 and at most 100000")
        if daily_quota is not None and (isinstance(daily_quota, bool) or not isinstance(daily_quota, int)
                                        or not 1 <= daily_quota <= 10**9):
            raise BadRequest("daily_quota must be a whole number from 1 to 1000000000")
        request = self._decidable(request_id, decider, dataset)
        now = self.clock()
        row = {"request_id": request.id, "dataset": request.dataset, "owner": dataset.department,
               "department": request.department, "columns_json": json.dumps(list(request.columns)),
               "services_json": json.dumps(list(request.services)), "rate_per_second": rate_per_second,
               "daily_quota": daily_quota,
               "purpose": request.purpose, "legal_basis": request.legal_basis, "approver": decider.name,
               "starts_at": now, "expires_at": now + timedelta(days=request.days)}
        with self.engine.begin() as con:
            self._decide(con, request_id, decider, "approved", "")
            grant_id = con.execute(insert(t.grants).values(**row)).inserted_primary_key[0]
            t.bump(con)
        return self.grant(grant_id)

    def deny(self, request_id: int, decider: Principal, dataset: DatasetInfo, reason: str) -> AccessRequest:
        """Same deciders as approve; the reason is required and shown to the requesting department."""
        reason = (reason or "").strip()
        if not reason:
            raise BadRequest("a denial needs a reason")
        self._decidable(request_id, decider, dataset)
        with self.engine.begin() as con:
            self._decide(con, request_id, decider, "denied", mask_text(reason[:MAX_TEXT]))
        return self.get(request_id)

    def grant(self, grant_id: int) -> Grant:
        with self.engine.connect() as con:
            row = con.execute(select(t.grants).where(t.grants.c.id == grant_id)).first()
        if row is None:
            raise NotFound(f"no grant {grant_id}")
        return _grant(row)

    def revoke(self, grant_id: int, decider: Principal, dataset: DatasetInfo) -> Grant:
        """The owning department's steward or an admin ends a grant at once (an expired one can be revoked too)."""
        grant = self.grant(grant_id)
        if grant.dataset != dataset.name:
            raise BadRequest(f"grant {grant_id} is for {grant.dataset}, not {dataset.name}")
        refusal = may_decide(decider, dataset)
        if refusal:
            raise Forbidden(refusal.replace("decide", "revoke a grant"))
        with self.engine.begin() as con:
            done = con.execute(update(t.grants).where(t.grants.c.id == grant_id, t.grants.c.revoked_at.is_(None))
                               .values(revoked_at=self.clock(), revoked_by=decider.name)).rowcount
            t.bump(con)
        if not done:
            raise BadRequest(f"grant {grant_id} is already revoked")
        return self.grant(grant_id)

    def active_grant(self, department: str, dataset: str) -> Grant | None:
        """The department's grant on the dataset that is active at the clock's now (expired ones never are).

        With several active grants the newest approved one counts: it is the steward's latest decision."""
        now, g = self.clock(), t.grants.c
        query = (select(t.grants).where(g.department == department, g.dataset == dataset, g.revoked_at.is_(None),
                                        g.starts_at <= now, g.expires_at > now).order_by(g.id.desc()).limit(1))
        with self.engine.connect() as con:
            row = con.execute(query).first()
        return _grant(row) if row is not None else None

    def grants(self, department: str | None = None, dataset: str | None = None, owner: str | None = None,
               either: bool = False) -> list[Grant]:
        """Grants (expired and revoked ones too), oldest first: held by `department`, on `dataset`, on datasets
        owned by `owner`; with `either`, held by `department` or on `owner`'s datasets."""
        g = t.grants.c
        query = select(t.grants).order_by(g.id)
        if dataset:
            query = query.where(g.dataset == dataset)
        filters = [f for f in ((g.department == department) if department else None,
                               (g.owner == owner) if owner else None) if f is not None]
        if filters:
            query = query.where(or_(*filters)) if either else query.where(*filters)
        with self.engine.connect() as con:
            return [_grant(r) for r in con.execute(query)]

    def overdue(self, working_days: int = 10) -> list[AccessRequest]:
        """Pending requests unanswered for `working_days` working days (Chinese calendar: holidays and make-up days)."""
        now = self.clock()
        return [r for r in self.pending() if is_overdue(r.requested_at, now, working_days)]
