"""Who is calling: the bearer token (API) or the signed-in session (pages), resolved on the server for every request."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import FormData

from countyhub.catalog.sessions import COOKIE, Session, same
from countyhub.catalog.views import render
from countyhub.sharing.model import AuditEntry, Forbidden, Grant, Principal, SharingError, TooManyRequests, Unauthorized
from countyhub.sharing.service import Sharing

# auto_error=False: a missing token is our 401 with WWW-Authenticate, not FastAPI's 403. Declaring the scheme puts
# it in the OpenAPI document, so clients (and schemathesis) know every operation takes `Authorization: Bearer`.
bearer = HTTPBearer(auto_error=False, scheme_name="token",
                    description="The API token `countyhub users add` printed: `Authorization: Bearer chub_…`")
CSRF_FAILED = "CSRF check failed"
_Bearer = Depends(bearer)


class SignInRequired(Exception):
    """A page asked for without a session: the browser is sent to /login?next=<where it was going>."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def sharing_of(request: Request) -> Sharing:
    return request.app.state.sharing


def _resolve(request: Request, token: str) -> Principal:
    if not token.strip():
        raise Unauthorized("sign in: send Authorization: Bearer <token> (`countyhub users add` prints one)")
    who = sharing_of(request).users.resolve(token.strip())
    request.state.principal = who
    return who


def principal(request: Request, creds: HTTPAuthorizationCredentials | None = _Bearer) -> Principal:
    """FastAPI dependency: the caller, or 401. Every API route depends on it (or on a stricter one)."""
    return _resolve(request, creds.credentials if creds and creds.scheme.lower() == "bearer" else "")


def ckan_principal(request: Request, creds: HTTPAuthorizationCredentials | None = _Bearer) -> Principal:
    """CKAN clients (ckanapi) send the bare API key as `Authorization: <key>` or `X-CKAN-API-Key`; Bearer works too."""
    header = request.headers.get("authorization", "").strip()
    if creds and creds.scheme.lower() == "bearer":
        token = creds.credentials
    elif header and " " not in header:
        token = header
    else:
        token = request.headers.get("x-ckan-api-key", "")
    return _resolve(request, token)


def session_of(request: Request) -> Session | None:
    """The page session of this request (looked up once, kept on request.state)."""
    if not hasattr(request.state, "session"):
        request.state.session = request.app.state.sessions.resolve(request.cookies.get(COOKIE))
    return request.state.session


def page_principal(request: Request, creds: HTTPAuthorizationCredentials | None = _Bearer) -> Principal:
    """Pages: the session's principal; a bearer token also works (a browser never sends one by itself, so it
    cannot be ridden cross-site); otherwise a redirect to the sign-in page."""
    session = session_of(request)
    if session is not None:
        request.state.principal = session.principal
        return session.principal
    if creds and creds.scheme.lower() == "bearer":
        return _resolve(request, creds.credentials)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise SignInRequired(target)


async def csrf_form(request: Request) -> FormData:
    """A state-changing form post: signed in with a session, and its CSRF token matches the session's."""
    session = session_of(request)
    if session is None and not request.headers.get("authorization"):
        raise SignInRequired(request.url.path)  # not signed in: to the sign-in page, before reading the form
    form = await request.form()
    if session is None or not same(session.csrf, str(form.get("csrf", ""))):
        raise Forbidden(CSRF_FAILED)  # a bearer token alone has no session, hence no CSRF token: forms need sign-in
    request.state.principal = session.principal
    return form


def safe_next(value: str | None) -> str:
    """Only a path on this site (never //host or a scheme): the sign-in redirect is not an open redirect."""
    value = value or "/"
    if not value.startswith("/") or value.startswith("//") or "\\" in value or any(ord(c) < 32 for c in value):
        return "/"
    return value


def grant_for(request: Request, who: Principal, name: str) -> Grant | None:
    """The caller's department's active grant on a dataset, or None: the one place the web layer looks grants up."""
    return sharing_of(request).grants.active_grant(who.department, name)


def record(request: Request, who: Principal, action: str, dataset: str = "", **fields: Any) -> None:
    """Append one audit entry for the caller (queued; the audit log batches its writes)."""
    sharing_of(request).audit.append(AuditEntry(action=action, actor=who.name, department=who.department,
                                                dataset=dataset, **fields))


PagePrincipal = Depends(page_principal)
CsrfForm = Depends(csrf_form)


def is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/catalog."))


def add_error_handlers(app: FastAPI) -> None:
    """A refusal is its status with a one-line reason, never a traceback or the caller's input echoed; pages get
    the same reason as a small page, and a page without a session sends the browser to sign in."""

    @app.exception_handler(SharingError)
    def refused(request: Request, exc: SharingError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        if is_api(request):
            return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)
        return render(request, "error.html", status_code=exc.status, message=exc.message, status=exc.status)

    @app.exception_handler(SignInRequired)
    def sign_in(request: Request, exc: SignInRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(safe_next(exc.next_url), safe='')}", status_code=303)


# A request or grant id in a path: a positive 32-bit number, so an absurd one is a 422, never a database error.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
