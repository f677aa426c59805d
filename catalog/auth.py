"""Who is calling: the bearer token (API) or the signed-in session (pages), resolved on the server for every request."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from countyhub.sharing.model import Principal, SharingError, Unauthorized
from countyhub.sharing.service import Sharing


def sharing_of(request: Request) -> Sharing:
    return request.app.state.sharing


def principal(request: Request) -> Principal:
    """FastAPI dependency: the caller, or 401. Every API route and page depends on it (or on a stricter one)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("sign in: send Authorization: Bearer <token> (`countyhub users add` prints one)")
    return sharing_of(request).users.resolve(token.strip())


def add_error_handlers(app: FastAPI) -> None:
    """A refusal is its status with a one-line reason, never a traceback or the caller's input echoed."""

    @app.exception_handler(SharingError)
    def refused(request: Request, exc: SharingError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)
