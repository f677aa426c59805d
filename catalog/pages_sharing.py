"""Sharing on the pages: request access from a dataset page, a steward's pending requests, the audit record."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from countyhub.catalog.access import dataset_info
from countyhub.catalog.auth import CSRF_FAILED, CsrfForm, PagePrincipal, record, session_of, sharing_of
from countyhub.catalog.sessions import same
from countyhub.catalog.store import Catalog
from countyhub.catalog.views import render
from countyhub.catalog.visibility import entry_access
from countyhub.core.masking import mask_text
from countyhub.sharing.model import BadRequest, DatasetInfo, Forbidden, NotFound, Principal

AUDIT_PAGE_ROWS = 200


def _days(value: Any) -> int:
    try:
        return int(str(value or "").strip())
    except ValueError:
        raise BadRequest("days is a whole number of days (1-366)") from None


def _decider(catalog: Catalog, who: Principal, request_id: int, request: Request) -> tuple[Any, DatasetInfo]:
    """The request and its dataset, when the caller may decide it: the owning department's steward, or an admin
    (checked here as well as in the grant store, so the page never offers what the store would refuse)."""
    if who.role not in ("steward", "admin"):
        raise Forbidden(f"only a steward or an admin decides access requests; you are {who.role}")
    req = sharing_of(request).grants.get(request_id)
    entry = catalog.get_entry(req.dataset)
    if entry is None:
        raise NotFound(f"no dataset named {req.dataset!r}")
    info = dataset_info(entry)
    if not who.is_admin and info.department != who.department:
        raise Forbidden(f"requests for {info.name} are decided by the steward of department {info.department}")
    if req.requester == who.name:
        raise Forbidden("a request is never decided by its requester")
    return req, info


def add_sharing_pages(app: FastAPI, catalog: Catalog) -> None:
    """POST /datasets/{name}/access-requests and /usage, GET /requests (+ approve/deny), GET /audit."""

    @app.post("/datasets/{name}/access-requests", include_in_schema=False)
    def request_access(request: Request, name: str, form: FormData = CsrfForm) -> RedirectResponse:
        who: Principal = request.state.principal
        entry = catalog.get_entry(name)
        if entry is None:
            raise NotFound(f"no dataset named {name!r}")
        info, _ = entry_access(request, who, entry)
        columns = [str(c) for c in form.getlist("columns")]
        req = sharing_of(request).grants.request(who, info, columns, str(form.get("purpose", "")).strip(),
                                                  str(form.get("legal_basis", "")).strip(), _days(form.get("days")))
        record(request, who, "grant_request", name, columns=list(req.columns), purpose=mask_text(req.purpose),
               detail={"request_id": req.id})
        return RedirectResponse(f"/datasets/{quote(name)}?requested={req.id}#access", status_code=303)

    @app.post("/datasets/{name}/usage", status_code=204, include_in_schema=False)
    def page_usage(request: Request, name: str, who: Principal = PagePrincipal) -> Response:
        """The page's "copy" button counts a snippet copy; its CSRF token comes in a header (fetch, not a form)."""
        session = session_of(request)
        if session is None or not same(session.csrf, request.headers.get("x-csrf-token")):
            raise Forbidden(CSRF_FAILED)
        entry = catalog.get_entry(name)
        if entry is None:
            raise NotFound(f"no dataset named {name!r}")
        entry_access(request, who, entry)
        catalog.record_usage(name, "snippet_copy")
        return Response(status_code=204)

    @app.get("/requests", response_class=HTMLResponse, include_in_schema=False)
    def requests_page(request: Request, who: Principal = PagePrincipal) -> HTMLResponse:
        if who.role not in ("steward", "admin"):
            raise Forbidden(f"the pending requests are for stewards and admins; you are {who.role}")
        pending = sharing_of(request).grants.pending(None if who.is_admin else who.department)
        return render(request, "requests.html", pending=pending, decided=request.query_params.get("decided"))

    @app.post("/requests/{request_id}/approve", include_in_schema=False)
    def approve(request: Request, request_id: int, form: FormData = CsrfForm) -> RedirectResponse:
        who: Principal = request.state.principal
        req, info = _decider(catalog, who, request_id, request)
        grant = sharing_of(request).grants.approve(request_id, who, info)
        record(request, who, "grant_approve", req.dataset, columns=list(grant.columns), grant_id=grant.id,
               purpose=mask_text(grant.purpose), detail={"request_id": request_id})
        return RedirectResponse(f"/requests?decided={request_id}", status_code=303)

    @app.post("/requests/{request_id}/deny", include_in_schema=False)
    def deny(request: Request, request_id: int, form: FormData = CsrfForm) -> RedirectResponse:
        who: Principal = request.state.principal
        req, info = _decider(catalog, who, request_id, request)
        reason = str(form.get("reason", "")).strip()
        if not reason:
            raise BadRequest("a denial needs a reason the requester can read")
        sharing_of(request).grants.deny(request_id, who, info, reason)
        record(request, who, "grant_deny", req.dataset, detail={"request_id": request_id,
                                                                "reason": mask_text(reason)})
        return RedirectResponse(f"/requests?decided={request_id}", status_code=303)

    @app.get("/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit_page(request: Request, who: Principal = PagePrincipal) -> HTMLResponse:
        if who.role not in ("steward", "admin"):
            raise Forbidden(f"the audit record is for stewards and admins; you are {who.role}")
        department = None if who.is_admin else who.department
        entries = sharing_of(request).audit.entries(department=department, limit=AUDIT_PAGE_ROWS)
        return render(request, "audit.html", entries=entries, department=department)
