"""Sharing on the pages: request access from a dataset page, a steward's pending requests, the audit record.
The rules (who files, decides, sees; what is audited) are catalog/grant_actions.py's, shared with API and CLI."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from countyhub.catalog import grant_actions
from countyhub.catalog.auth import CSRF_FAILED, CsrfForm, PagePrincipal, RowId, session_of, sharing_of
from countyhub.catalog.sessions import same
from countyhub.catalog.store import Catalog
from countyhub.catalog.views import render
from countyhub.catalog.visibility import entry_access
from countyhub.sharing.model import BadRequest, Forbidden, NotFound, Principal

AUDIT_PAGE_ROWS = 200


def _days(value: Any) -> int:
    try:
        return int(str(value or "").strip())
    except ValueError:
        raise BadRequest("days is a whole number of days (1-366)") from None


def add_sharing_pages(app: FastAPI, catalog: Catalog) -> None:
    """POST /datasets/{name}/access-requests and /usage, GET /requests (+ approve/deny), GET /audit."""

    @app.post("/datasets/{name}/access-requests", include_in_schema=False)
    def request_access(request: Request, name: str, form: FormData = CsrfForm) -> RedirectResponse:
        who: Principal = request.state.principal
        entry = catalog.get_entry(name)
        if entry is None:
            raise NotFound(f"no dataset named {name!r}")
        entry_access(request, who, entry)  # 403 for an entry the caller may not see, before anything is filed
        req = grant_actions.file_request(sharing_of(request), catalog, who, name,
                                         [str(c) for c in form.getlist("columns")], str(form.get("purpose", "")).strip(),
                                         str(form.get("legal_basis", "")).strip(), _days(form.get("days")))
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
    def approve(request: Request, request_id: RowId, form: FormData = CsrfForm) -> RedirectResponse:
        grant_actions.approve_request(sharing_of(request), catalog, request.state.principal, request_id)
        return RedirectResponse(f"/requests?decided={request_id}", status_code=303)

    @app.post("/requests/{request_id}/deny", include_in_schema=False)
    def deny(request: Request, request_id: RowId, form: FormData = CsrfForm) -> RedirectResponse:
        reason = str(form.get("reason", "")).strip()
        if not reason:
            raise BadRequest("a denial needs a reason the requester can read")
        grant_actions.deny_request(sharing_of(request), catalog, request.state.principal, request_id, reason)
        return RedirectResponse(f"/requests?decided={request_id}", status_code=303)

    @app.get("/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit_page(request: Request, who: Principal = PagePrincipal) -> HTMLResponse:
        if who.role not in ("steward", "admin"):
            raise Forbidden(f"the audit record is for stewards and admins; you are {who.role}")
        department = None if who.is_admin else who.department
        entries = grant_actions.audit_entries(sharing_of(request), catalog, who, department, limit=AUDIT_PAGE_ROWS)
        return render(request, "audit.html", entries=entries, department=department)
