"""Principals: users in the catalog database with hashed API tokens, and the lookup a county identity provider can replace."""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import UTC, datetime
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from countyhub.core.vocab import ROLES
from countyhub.sharing import tables as t
from countyhub.sharing.model import BadRequest, NotFound, Principal, Unauthorized

TOKEN_PREFIX = "chub"
# OWASP's minimum Argon2id settings: a token is 32 random bytes, so the hash guards a stolen table, not a guess.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


class PrincipalResolver(Protocol):
    """Turns a bearer token (or an identity provider's access token) into a Principal, or raises Unauthorized.

    The embedded default is `UserStore`; an OpenID Connect resolver would verify the provider's JWT and map
    its claims (department, role) to a Principal (docs/governance-quality-and-access.md says how).
    """

    def resolve(self, token: str) -> Principal: ...


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _split(token: str) -> str | None:
    """The token's public id (`chub_<id>_<secret>`), or None for anything not shaped like one."""
    parts = token.split("_", 2)  # the secret half may itself hold "_"
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or len(parts[2]) < 20:
        return None
    return parts[1]


class UserStore:
    """Users of the embedded default, one department and role each; a token is shown once and kept only hashed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        t.upgrade(engine)
        # sha256(token) -> user id, so a verified token is not re-hashed with Argon2 on every call; revocation
        # still takes effect at once because every call reads the user's row.
        self._verified: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, name: str, department: str, role: str) -> tuple[Principal, str]:
        """Create a user; returns it and its API token (the only time the token exists in clear)."""
        if role not in ROLES:
            raise BadRequest(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        if not name or len(name) > 128 or any(c.isspace() for c in name):
            raise BadRequest("a user name is 1-128 characters without spaces")
        token_id = secrets.token_hex(6)
        token = f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
        row = {"name": name, "department": department, "role": role, "token_id": token_id,
               "token_hash": _HASHER.hash(token), "created_at": _now()}
        try:
            with self.engine.begin() as con:
                user_id = con.execute(insert(t.users).values(**row)).inserted_primary_key[0]
                t.bump(con)
        except IntegrityError:
            raise BadRequest(f"a user named {name!r} exists (a revoked name stays taken: the audit log names it)") from None
        return Principal(name, department, role, user_id), token  # type: ignore[arg-type]

    def resolve(self, token: str) -> Principal:
        """The active user holding `token`; Unauthorized for a malformed, unknown, wrong or revoked token."""
        token_id = _split(token or "")
        if token_id is None:
            raise Unauthorized("no valid API token (send Authorization: Bearer <token>)")
        with self.engine.connect() as con:
            row = con.execute(select(t.users).where(t.users.c.token_id == token_id)).first()
        if row is None or row.revoked_at is not None:
            raise Unauthorized("the API token is unknown or revoked")
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            known = self._verified.get(digest) == row.id
        if not known:
            try:
                _HASHER.verify(row.token_hash, token)
            except (VerificationError, InvalidHashError):
                raise Unauthorized("the API token is unknown or revoked") from None
            with self._lock:
                self._verified[digest] = row.id
        return Principal(row.name, row.department, row.role, row.id)

    def list(self) -> list[dict[str, object]]:
        """Every user with department, role, created and revoked times (never a token or hash)."""
        with self.engine.connect() as con:
            rows = con.execute(select(t.users.c.name, t.users.c.department, t.users.c.role, t.users.c.created_at,
                                      t.users.c.revoked_at).order_by(t.users.c.name)).all()
        return [dict(r._mapping) for r in rows]

    def revoke(self, name: str) -> None:
        """The user's token stops working at once."""
        with self.engine.begin() as con:
            done = con.execute(update(t.users).where(t.users.c.name == name, t.users.c.revoked_at.is_(None))
                               .values(revoked_at=_now())).rowcount
            t.bump(con)
        if not done:
            raise NotFound(f"no active user named {name!r}")
