"""The sharing API of requests, grants and the audit log: file, list, approve, deny, revoke, and who read what."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from countyhub.catalog.access import known_dataset
from countyhub.catalog.auth import principal, sharing_of
from countyhub.catalog.store import Catalog
from countyhub.core.masking import mask_text
from countyhub.sharing.model import AccessRequest, AuditEntry, Forbidden, Grant, Principal
from countyhub.sharing.service import Sharing
from countyhub.sharing.workdays import is_overdue

OVERDUE_WORKING_DAYS = 10
Caller = Annotated[Principal, Depends(principal)]


class RequestBody(BaseModel):
    """What a department asks for: these columns of this dataset, for this purpose, on this legal basis."""

    dataset: str = Field(max_length=255)
    columns: list[Annotated[str, Field(max_length=255)]] = Field(max_length=500)
    purpose: str = Field(max_length=4000)
    legal_basis: str = Field(max_length=4000)
    days: int


class DenyBody(BaseModel):
    reason: str = Field(max_length=4000)


def _utc(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


def _json(obj: Any, **extra: Any) -> dict[str, Any]:
    return jsonable_encoder({k: _utc(v) for k, v in asdict(obj).items()} | extra)


def request_json(sharing: Sharing, r: AccessRequest) -> dict[str, Any]:
    late = r.status == "pending" and is_overdue(r.requested_at, sharing.clock(), OVERDUE_WORKING_DAYS)
    return _json(r, overdue=late)


def grant_json(sharing: Sharing, g: Grant) -> dict[str, Any]:
    return _json(g, active=g.active(sharing.clock()))


def owned_datasets(catalog: Catalog, department: str) -> set[str]:
    """The names of the datasets a department owns (what its steward may see the audit of)."""
    return {d["name"] for d in catalog.datasets(department=department)}


def add_grant_routes(app: FastAPI, catalog: Catalog) -> None:
    """Mount /api/access-requests, /api/grants and /api/audit; every route resolves its caller first."""

    def record(sharing: Sharing, who: Principal, action: str, dataset: str, **fields: Any) -> None:
        sharing.audit.append(AuditEntry(action=action, actor=who.name, department=who.department, dataset=dataset,
                                        **fields))

    @app.post("/api/access-requests", status_code=201, tags=["sharing"])
    def file_request(body: RequestBody, request: Request, who: Caller) -> dict[str, int]:
        """File a request for the caller's department; the owning department's steward decides on it."""
        sharing = sharing_of(request)
        _, info = known_dataset(catalog, body.dataset)
        filed = sharing.grants.request(who, info, body.columns, body.purpose, body.legal_basis, body.days)
        record(sharing, who, "grant_request", filed.dataset, columns=list(filed.columns), purpose=filed.purpose,
               detail={"request_id": filed.id, "days": filed.days})
        return {"id": filed.id}

    @app.get("/api/access-requests", tags=["sharing"])
    def list_requests(request: Request, who: Caller,
                      status: Literal["pending", "approved", "denied", "overdue"] | None = None) -> JSONResponse:
        """Admins see every request; a steward those for its department's datasets and its department's own;
        anyone else its department's own. `overdue`: pending for more than 10 working days."""
        sharing = sharing_of(request)
        wanted = "pending" if status == "overdue" else status
        if who.is_admin:
            found = sharing.grants.requests(wanted)
        elif who.role == "steward":
            found = sharing.grants.requests(wanted, owner=who.department, department=who.department, either=True)
        else:
            found = sharing.grants.requests(wanted, department=who.department)
        items = [request_json(sharing, r) for r in found]
        return JSONResponse([i for i in items if i["overdue"]] if status == "overdue" else items)

    @app.post("/api/access-requests/{request_id}/approve", tags=["sharing"])
    def approve(request_id: int, request: Request, who: Caller) -> JSONResponse:
        """The owning department's steward (or an admin, never the requester) turns the request into a grant."""
        sharing = sharing_of(request)
        _, info = known_dataset(catalog, sharing.grants.get(request_id).dataset)
        grant = sharing.grants.approve(request_id, who, info)
        record(sharing, who, "grant_approve", grant.dataset, columns=list(grant.columns), purpose=grant.purpose,
               grant_id=grant.id, detail={"request_id": request_id, "to_department": grant.department,
                                          "expires_at": grant.expires_at.isoformat()})
        return JSONResponse(grant_json(sharing, grant))

    @app.post("/api/access-requests/{request_id}/deny", tags=["sharing"])
    def deny(request_id: int, body: DenyBody, request: Request, who: Caller) -> JSONResponse:
        """Deny with a reason the requesting department will read."""
        sharing = sharing_of(request)
        _, info = known_dataset(catalog, sharing.grants.get(request_id).dataset)
        denied = sharing.grants.deny(request_id, who, info, body.reason)
        record(sharing, who, "grant_deny", denied.dataset, columns=list(denied.columns), purpose=denied.purpose,
               detail={"request_id": request_id, "to_department": denied.department, "reason": denied.reason})
        return JSONResponse(request_json(sharing, denied))

    @app.get("/api/grants", tags=["sharing"])
    def list_grants(request: Request, who: Caller, dataset: str | None = None) -> JSONResponse:
        """Grants (expired and revoked too, with `active`): all for admins; a steward's department's datasets'
        and its own; anyone else its department's own."""
        sharing = sharing_of(request)
        if who.is_admin:
            found = sharing.grants.grants(dataset=dataset)
        elif who.role == "steward":
            found = sharing.grants.grants(department=who.department, owner=who.department, dataset=dataset,
                                          either=True)
        else:
            found = sharing.grants.grants(department=who.department, dataset=dataset)
        return JSONResponse([grant_json(sharing, g) for g in found])

    @app.post("/api/grants/{grant_id}/revoke", tags=["sharing"])
    def revoke(grant_id: int, request: Request, who: Caller) -> JSONResponse:
        """End a grant at once (the owning department's steward or an admin)."""
        sharing = sharing_of(request)
        _, info = known_dataset(catalog, sharing.grants.grant(grant_id).dataset)
        grant = sharing.grants.revoke(grant_id, who, info)
        record(sharing, who, "grant_revoke", grant.dataset, columns=list(grant.columns), grant_id=grant.id,
               detail={"to_department": grant.department})
        return JSONResponse(grant_json(sharing, grant))

    @app.get("/api/audit", tags=["sharing"])
    def audit(request: Request, who: Caller, department: str | None = None, dataset: str | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> JSONResponse:
        """Who did what, newest first. `department`: entries on the datasets it owns (a steward: its own only,
        the default); admins see everything, other roles nothing."""
        if not who.is_admin and who.role != "steward":
            raise Forbidden("the audit log is for stewards and admins")
        if who.role == "steward" and not who.is_admin:
            if department not in (None, "", who.department):
                raise Forbidden(f"a steward of {who.department} sees the audit of its own department's datasets")
            department = who.department
        owned = owned_datasets(catalog, department) if department else None
        if dataset and owned is not None and dataset not in owned:
            raise Forbidden(f"{mask_text(dataset)[:255]} is not a dataset of department {department}")
        entries = sharing_of(request).audit.entries(dataset=dataset, limit=limit, datasets=owned)
        return JSONResponse([_json(e) for e in entries])
