"""The sharing API of requests, grants and the audit log: file, list, approve, deny, revoke, and who read what."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from countyhub.catalog import grant_actions as act
from countyhub.catalog.auth import RowId, principal, sharing_of
from countyhub.catalog.store import Catalog
from countyhub.sharing.model import Principal

Caller = Annotated[Principal, Depends(principal)]


class RequestBody(BaseModel):
    """What a department asks for: these columns of this dataset, for this purpose, on this legal basis."""

    dataset: str = Field(max_length=255)
    columns: list[Annotated[str, Field(max_length=255)]] = Field(default_factory=list, max_length=500)
    services: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=50,
                                                                 description="data services of the dataset, by name")
    purpose: str = Field(max_length=4000)
    legal_basis: str = Field(max_length=4000)
    days: int


class DenyBody(BaseModel):
    reason: str = Field(max_length=4000)


class ApproveBody(BaseModel):
    """Optional limits on the grant's data service calls (the deployment's defaults otherwise)."""

    rate_per_second: float | None = Field(default=None, gt=0, le=100_000)
    daily_quota: int | None = Field(default=None, ge=1, le=10**9)


def add_grant_routes(app: FastAPI, catalog: Catalog) -> None:
    """Mount /api/access-requests, /api/grants and /api/audit; every route resolves its caller first.

    The rules (who sees and decides what, what is audited) live in `grant_actions`, shared with the CLI."""

    @app.post("/api/access-requests", status_code=201, tags=["sharing"])
    def file_request(body: RequestBody, request: Request, who: Caller) -> dict[str, int]:
        """File a request for the caller's department; the owning department's steward decides on it."""
        filed = act.file_request(sharing_of(request), catalog, who, body.dataset, body.columns, body.purpose,
                                 body.legal_basis, body.days, body.services)
        return {"id": filed.id}

    @app.get("/api/access-requests", tags=["sharing"])
    def list_requests(request: Request, who: Caller,
                      status: Literal["pending", "approved", "denied", "overdue"] | None = None) -> JSONResponse:
        """Admins see every request; a steward those for its department's datasets and its department's own;
        anyone else its department's own. `overdue`: pending for more than 10 working days."""
        return JSONResponse(act.visible_requests(sharing_of(request), who, status))

    @app.post("/api/access-requests/{request_id}/approve", tags=["sharing"])
    def approve(request_id: RowId, request: Request, who: Caller, body: ApproveBody | None = None) -> JSONResponse:
        """The owning department's steward (or an admin, never the requester) turns the request into a grant;
        `rate_per_second` and `daily_quota` limit its data service calls."""
        sharing, body = sharing_of(request), body or ApproveBody()
        return JSONResponse(act.grant_json(sharing, act.approve_request(sharing, catalog, who, request_id,
                                                                        body.rate_per_second, body.daily_quota)))

    @app.post("/api/access-requests/{request_id}/deny", tags=["sharing"])
    def deny(request_id: RowId, body: DenyBody, request: Request, who: Caller) -> JSONResponse:
        """Deny with a reason the requesting department will read."""
        sharing = sharing_of(request)
        denied = act.deny_request(sharing, catalog, who, request_id, body.reason)
        return JSONResponse(act.request_json(sharing, denied))

    @app.get("/api/grants", tags=["sharing"])
    def list_grants(request: Request, who: Caller, dataset: str | None = None) -> JSONResponse:
        """Grants (expired and revoked too, with `active`): all for admins; a steward's department's datasets'
        and its own; anyone else its department's own."""
        sharing = sharing_of(request)
        return JSONResponse([act.grant_json(sharing, g) for g in act.visible_grants(sharing, who, dataset)])

    @app.post("/api/grants/{grant_id}/revoke", tags=["sharing"])
    def revoke(grant_id: RowId, request: Request, who: Caller) -> JSONResponse:
        """End a grant at once (the owning department's steward or an admin)."""
        sharing = sharing_of(request)
        return JSONResponse(act.grant_json(sharing, act.revoke_grant(sharing, catalog, who, grant_id)))

    @app.get("/api/audit", tags=["sharing"])
    def audit(request: Request, who: Caller, department: str | None = None, dataset: str | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> JSONResponse:
        """Who did what, newest first. `department`: entries on the datasets it owns (a steward: its own only,
        the default); admins see everything, other roles nothing. Entries appear once their batch is written."""
        entries = act.audit_entries(sharing_of(request), catalog, who, department, dataset, limit)
        return JSONResponse([act.as_json(e) for e in entries])
