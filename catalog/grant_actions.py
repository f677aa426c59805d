"""What a caller may do with requests, grants and the audit log: the one set of rules the API and the CLI share."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi.encoders import jsonable_encoder

from countyhub.catalog.access import known_dataset
from countyhub.catalog.store import Catalog
from countyhub.core.masking import mask_text
from countyhub.sharing.model import AccessRequest, AuditEntry, Forbidden, Grant, Principal
from countyhub.sharing.service import Sharing
from countyhub.sharing.workdays import is_overdue

OVERDUE_WORKING_DAYS = 10
STATUSES = ("pending", "approved", "denied", "overdue")


def _utc(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


def as_json(obj: Any, **extra: Any) -> dict[str, Any]:
    """A request, grant or audit entry as JSON (times in UTC with their offset)."""
    return jsonable_encoder({k: _utc(v) for k, v in asdict(obj).items()} | extra)


def request_json(sharing: Sharing, r: AccessRequest) -> dict[str, Any]:
    late = r.status == "pending" and is_overdue(r.requested_at, sharing.clock(), OVERDUE_WORKING_DAYS)
    return as_json(r, overdue=late)


def grant_json(sharing: Sharing, g: Grant) -> dict[str, Any]:
    return as_json(g, active=g.active(sharing.clock()))


def _record(sharing: Sharing, who: Principal, action: str, dataset: str, **fields: Any) -> None:
    sharing.audit.append(AuditEntry(action=action, actor=who.name, department=who.department, dataset=dataset,
                                    **fields))


def file_request(sharing: Sharing, catalog: Catalog, who: Principal, dataset: str, columns: list[str], purpose: str,
                 legal_basis: str, days: int, services: list[str] | None = None) -> AccessRequest:
    _, info = known_dataset(catalog, dataset)
    offered = tuple(s.name for s in sharing.services.of(info.name))
    filed = sharing.grants.request(who, info, columns, purpose, legal_basis, days, services, offered)
    _record(sharing, who, "grant_request", filed.dataset, columns=list(filed.columns), purpose=filed.purpose,
            detail={"request_id": filed.id, "days": filed.days, "services": list(filed.services)})
    return filed


def visible_requests(sharing: Sharing, who: Principal, status: str | None = None) -> list[dict[str, Any]]:
    """Admins: every request; a steward: its department's datasets' and its department's own; others: their
    department's own. `overdue`: pending for more than 10 working days."""
    wanted = "pending" if status == "overdue" else status
    if who.is_admin:
        found = sharing.grants.requests(wanted)
    elif who.role == "steward":
        found = sharing.grants.requests(wanted, owner=who.department, department=who.department, either=True)
    else:
        found = sharing.grants.requests(wanted, department=who.department)
    items = [request_json(sharing, r) for r in found]
    return [i for i in items if i["overdue"]] if status == "overdue" else items


def approve_request(sharing: Sharing, catalog: Catalog, who: Principal, request_id: int,
                    rate_per_second: float | None = None, daily_quota: int | None = None) -> Grant:
    _, info = known_dataset(catalog, sharing.grants.get(request_id).dataset)
    grant = sharing.grants.approve(request_id, who, info, rate_per_second, daily_quota)
    _record(sharing, who, "grant_approve", grant.dataset, columns=list(grant.columns), purpose=grant.purpose,
            grant_id=grant.id, detail={"request_id": request_id, "to_department": grant.department,
                                       "expires_at": grant.expires_at.isoformat(), "services": list(grant.services),
                                       "rate_per_second": rate_per_second, "daily_quota": daily_quota})
    return grant


def deny_request(sharing: Sharing, catalog: Catalog, who: Principal, request_id: int, reason: str) -> AccessRequest:
    _, info = known_dataset(catalog, sharing.grants.get(request_id).dataset)
    denied = sharing.grants.deny(request_id, who, info, reason)
    _record(sharing, who, "grant_deny", denied.dataset, columns=list(denied.columns), purpose=denied.purpose,
            detail={"request_id": request_id, "to_department": denied.department, "reason": denied.reason})
    return denied


def visible_grants(sharing: Sharing, who: Principal, dataset: str | None = None) -> list[Grant]:
    """Admins: all; a steward: its department's datasets' and its department's own; others: their department's."""
    if who.is_admin:
        return sharing.grants.grants(dataset=dataset)
    if who.role == "steward":
        return sharing.grants.grants(department=who.department, owner=who.department, dataset=dataset, either=True)
    return sharing.grants.grants(department=who.department, dataset=dataset)


def revoke_grant(sharing: Sharing, catalog: Catalog, who: Principal, grant_id: int) -> Grant:
    _, info = known_dataset(catalog, sharing.grants.grant(grant_id).dataset)
    grant = sharing.grants.revoke(grant_id, who, info)
    _record(sharing, who, "grant_revoke", grant.dataset, columns=list(grant.columns), grant_id=grant.id,
            detail={"to_department": grant.department})
    return grant


def owned_datasets(catalog: Catalog, department: str) -> set[str]:
    """The names of the datasets a department owns (what its steward may see the audit of)."""
    return {d["name"] for d in catalog.datasets(department=department)}


def audit_entries(sharing: Sharing, catalog: Catalog, who: Principal | None, department: str | None = None,
                  dataset: str | None = None, limit: int = 100) -> list[AuditEntry]:
    """Entries newest first; `department`: those on the datasets it owns. `who` None is the platform operator
    (local access to the catalog database); admins see all, stewards their department's datasets, others none."""
    if who is not None and not who.is_admin:
        if who.role != "steward":
            raise Forbidden("the audit log is for stewards and admins")
        if department not in (None, "", who.department):
            raise Forbidden(f"a steward of {who.department} sees the audit of its own department's datasets")
        department = who.department
    owned = owned_datasets(catalog, department) if department else None
    if dataset and owned is not None and dataset not in owned:
        raise Forbidden(f"{mask_text(dataset)[:255]} is not a dataset of department {department}")
    return sharing.audit.entries(dataset=dataset, limit=limit, datasets=owned)
