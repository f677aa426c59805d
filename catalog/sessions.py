"""Signed-in sessions for the catalog pages: a signed cookie naming a server-side session row, and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.engine import Engine

from countyhub.core.dbschema import create_tables
from countyhub.sharing import tables as sharing_tables
from countyhub.sharing.model import Principal

COOKIE = "countyhub_session"
LOGIN_COOKIE = "countyhub_login_csrf"  # the double-submit token of the sign-in form (there is no session yet)
MAX_AGE = 8 * 3600  # a working day; absolute, not sliding: a forgotten browser does not stay signed in for ever

metadata = MetaData()
# The cookie carries a random session id; the row (found by its SHA-256, so a database reader cannot replay a
# session) carries who signed in and the session's CSRF token. Ending the row ends the session everywhere.
web_sessions = Table(
    "catalog_web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False),  # 0 for a principal from an identity provider
    Column("name", String(128), nullable=False),
    Column("department", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("ended_at", DateTime),
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens; a missing one never matches."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str  # the synchronizer token every state-changing form of this session carries


class Sessions:
    """Start, find and end page sessions in the catalog database; the key signs cookies and login CSRF tokens."""

    def __init__(self, engine: Engine, key: bytes, max_age: int = MAX_AGE, clock: Callable[[], datetime] = _now):
        if len(key) < 32:
            raise ValueError("the session signing key must be at least 32 bytes")
        self.engine, self.max_age, self.clock = engine, max_age, clock
        self._cookie = URLSafeTimedSerializer(key, salt="countyhub.session")
        self._login = URLSafeTimedSerializer(key, salt="countyhub.login-csrf")
        create_tables(engine, metadata)

    def start(self, principal: Principal) -> tuple[str, Session]:
        """A new session for a principal who just proved a token (a new id each time: no session fixation)."""
        sid, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock()
        with self.engine.begin() as con:
            # Expired rows are pruned here, at a sign-in, so the table stays the size of a working day's sessions
            # without a job; the audit log (not this table) is the record of who signed in.
            con.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))
            con.execute(insert(web_sessions).values(
                id_hash=_hash(sid), user_id=principal.user_id, name=principal.name, department=principal.department,
                role=principal.role, csrf=csrf, created_at=now, expires_at=now + timedelta(seconds=self.max_age)))
        return self._cookie.dumps(sid), Session(principal, csrf)

    def _sid(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return str(self._cookie.loads(cookie, max_age=self.max_age))
        except BadSignature:  # also SignatureExpired
            return None

    def resolve(self, cookie: str | None) -> Session | None:
        """The live session the cookie names, or None (unsigned, expired, ended, or its user revoked)."""
        sid = self._sid(cookie)
        if sid is None:
            return None
        s, u = web_sessions.c, sharing_tables.users.c
        with self.engine.connect() as con:
            row = con.execute(select(web_sessions).where(s.id_hash == _hash(sid))).first()
            if row is None or row.ended_at is not None or row.expires_at <= self.clock():
                return None
            if row.user_id:  # a user of the embedded store: a revoked user's sessions end with its token
                user = con.execute(select(u.revoked_at).where(u.id == row.user_id)).first()
                if user is None or user.revoked_at is not None:
                    return None
        return Session(Principal(row.name, row.department, row.role, row.user_id), row.csrf)

    def end(self, cookie: str | None) -> None:
        sid = self._sid(cookie)
        if sid is not None:
            with self.engine.begin() as con:
                con.execute(update(web_sessions).where(web_sessions.c.id_hash == _hash(sid),
                                                       web_sessions.c.ended_at.is_(None)).values(ended_at=self.clock()))

    def login_token(self) -> tuple[str, str]:
        """(cookie value, form value) for the sign-in form: the form's token must come back with the signed cookie."""
        token = secrets.token_urlsafe(32)
        return self._login.dumps(token), token

    def login_token_ok(self, cookie: str | None, form_token: str | None) -> bool:
        try:
            expected = self._login.loads(cookie or "", max_age=3600)
        except BadSignature:
            return False
        return same(str(expected), form_token)


class SignInThrottle:
    """Failed sign-ins per client address: past `limit` within `window` seconds, that address waits.

    A token is 32 random bytes, so guessing is hopeless anyway; the throttle keeps a script from filling the log
    and the CPU (each wrong token costs an Argon2 check). Behind a reverse proxy every caller has the proxy's
    address: run uvicorn with --proxy-headers (and --forwarded-allow-ips) so the client's own address counts.
    """

    def __init__(self, limit: int = 10, window: float = 900.0, clock: Callable[[], float] | None = None) -> None:
        self.limit, self.window, self.clock = limit, window, clock or time.monotonic
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, address: str) -> int:
        """0 when the address may try; otherwise the seconds until its oldest counted failure ages out."""
        now = self.clock()
        with self._lock:
            recent = [t for t in self._failures.get(address, []) if now - t < self.window]
            if recent:
                self._failures[address] = recent
            else:
                self._failures.pop(address, None)
            return int(self.window - (now - recent[0])) + 1 if len(recent) >= self.limit else 0

    def failed(self, address: str) -> None:
        with self._lock:
            if len(self._failures) > 10_000:  # many addresses: forget the quiet ones first
                self._failures = dict(list(self._failures.items())[-5_000:])
            self._failures.setdefault(address, []).append(self.clock())

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)
