"""Sign-in for the catalog pages: paste the API token once, get an 8-hour session cookie; sign out ends it."""

from __future__ import annotations

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from countyhub.catalog.auth import CSRF_FAILED, CsrfForm, record, safe_next, session_of
from countyhub.catalog.sessions import COOKIE, LOGIN_COOKIE
from countyhub.catalog.views import render
from countyhub.sharing.model import Forbidden, Unauthorized


def _secure(request: Request) -> bool:
    return bool(request.app.state.secure_cookies) or request.url.scheme == "https"


def _login_form(request: Request, next_url: str, status_code: int = 200, error: str = "") -> HTMLResponse:
    """The sign-in page with a fresh double-submit CSRF token (cookie + hidden field; only this site can read the
    cookie to copy it into a form, so another site cannot sign a browser in as someone else)."""
    cookie, token = request.app.state.sessions.login_token()
    response = render(request, "login.html", status_code=status_code, next_url=safe_next(next_url),
                      login_csrf=token, error=error)
    response.set_cookie(LOGIN_COOKIE, cookie, max_age=3600, path="/login", httponly=True, samesite="lax",
                        secure=_secure(request))
    return response


def add_sign_in_routes(app: FastAPI) -> None:
    """GET/POST /login and POST /logout (public: they are how one signs in)."""

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/") -> HTMLResponse:
        session_of(request)  # to show who is signed in already, if anyone
        if request.state.session is not None:
            request.state.principal = request.state.session.principal
        return _login_form(request, next)

    @app.post("/login", include_in_schema=False)
    def login(request: Request, token: str = Form(""), csrf: str = Form(""),
              next: str = Form("/")) -> Response:
        sessions, throttle = request.app.state.sessions, request.app.state.sign_in_throttle
        if not sessions.login_token_ok(request.cookies.get(LOGIN_COOKIE), csrf):
            raise Forbidden(CSRF_FAILED)
        address = request.client.host if request.client else "unknown"
        wait = throttle.wait_seconds(address)
        if wait:
            response = _login_form(request, next, status_code=429,
                                   error=f"too many failed sign-ins from this address; try again in {wait // 60 + 1} "
                                         "minutes")
            response.headers["Retry-After"] = str(wait)
            return response
        try:
            who = request.app.state.sharing.users.resolve(token.strip())
        except Unauthorized as exc:
            throttle.failed(address)
            return _login_form(request, next, status_code=401, error=exc.message)  # never echoes the token
        throttle.succeeded(address)
        cookie, _ = sessions.start(who)
        request.state.principal = who
        record(request, who, "sign_in", detail={"via": "page"})
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(COOKIE, cookie, max_age=sessions.max_age, path="/", httponly=True, samesite="lax",
                            secure=_secure(request))
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, form: object = CsrfForm) -> RedirectResponse:
        request.app.state.sessions.end(request.cookies.get(COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response
