"""The web app factory, an edge: `uvicorn --factory countyhub.cli.web:app` serves the catalog from the settings."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from fastapi import FastAPI

from countyhub.catalog.web import create_app
from countyhub.cli.common import runtime
from countyhub.core.secrets import resolve_secret
from countyhub.flow.runtime import Runtime

SESSION_KEY_ENV = "COUNTYHUB_SESSION_KEY"


def _key_file(path: Path) -> bytes:
    """The key in `path`, created readable by its owner only on first use. Created under a temporary name and
    hard-linked into place, so two workers starting at once end up with the same key, never half a file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another worker won: use its key
        finally:
            tmp.unlink()
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise ValueError(f"{path}: the session key is too short (delete the file to have a new one made)")
    return key.encode()


def session_key(rt: Runtime) -> bytes:
    """The key signing catalog session cookies: COUNTYHUB_SESSION_KEY (a secret: environment or Airflow
    connection), else <home>/secrets/session.key. Changing it signs everyone out."""
    value = resolve_secret(SESSION_KEY_ENV, rt.environ)
    return value.encode() if value else _key_file(rt.settings.home / "secrets" / "session.key")


def build_app(rt: Runtime) -> FastAPI:
    """The catalog site of one runtime: its catalog, its sharing (users, grants, audit), its session key."""
    return create_app(rt.catalog, rt.sharing, rt.settings.home / "data_docs", session_key=session_key(rt))


def app() -> FastAPI:
    """The catalog site over the configured catalog store, with <home>/data_docs served beside it."""
    return build_app(runtime())
