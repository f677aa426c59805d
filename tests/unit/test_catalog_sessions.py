"""Page sessions: cookie flags, revocation and expiry end them, the signing key file is the owner's only."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from countyhub.catalog.sessions import COOKIE, Sessions
from countyhub.cli.web import session_key
from countyhub.flow.runtime import Runtime
from countyhub.sharing.principals import UserStore
from tests.fixtures.sharing_web import csrf_of, governed_app
from tests.unit.test_catalog import catalog  # noqa: F401 - the fixture


def test_sign_in_sets_a_hardened_cookie_and_revocation_ends_the_session(catalog, monkeypatch) -> None:  # noqa: F811
    from fastapi.testclient import TestClient

    app, tokens = governed_app(monkeypatch, catalog)
    client = TestClient(app, follow_redirects=False)
    form = client.get("/login")
    assert "httponly" in form.headers["set-cookie"].lower()
    done = client.post("/login", data={"token": tokens["analyst"], "csrf": csrf_of(form.text), "next": "/quality"})
    assert done.status_code == 303 and done.headers["location"] == "/quality"
    cookie = done.headers["set-cookie"].lower()
    assert cookie.startswith(COOKIE) and "httponly" in cookie and "samesite=lax" in cookie and "max-age=28800" in cookie
    assert "secure" not in cookie  # plain http here; https requests (or secure_cookies=True) get Secure
    assert tokens["analyst"] not in client.get("/").text  # the token is never echoed back
    assert client.get("/").status_code == 200
    app.state.sharing.users.revoke("analyst_mzj")
    assert client.get("/").status_code == 303  # the revoked user's session ended with the token


def test_sessions_expire_and_forged_cookies_are_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    who, _ = UserStore(engine).add("ana", "mzj", "analyst")
    now = [datetime(2025, 3, 3, 9, 0)]
    sessions = Sessions(engine, b"k" * 32, clock=lambda: now[0])
    cookie, session = sessions.start(who)
    assert sessions.resolve(cookie).principal == who and len(session.csrf) >= 32
    assert sessions.resolve(cookie[:-2] + "xx") is None  # tampered signature
    assert Sessions(engine, b"o" * 32).resolve(cookie) is None  # signed with another key
    now[0] += timedelta(hours=8, seconds=1)
    assert sessions.resolve(cookie) is None  # past the 8 hours (the server row says so, whatever the cookie)
    with pytest.raises(ValueError, match="32 bytes"):
        Sessions(engine, b"short")


def test_the_session_key_file_is_created_for_its_owner_only(runtime: Runtime) -> None:
    key = session_key(runtime)
    path = runtime.settings.home / "secrets" / "session.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key) == 64
    assert session_key(runtime) == key  # the same key on the next start: sessions survive a restart
    assert session_key(runtime.with_environ(COUNTYHUB_SESSION_KEY="e" * 40)) == b"e" * 40


def test_expired_sessions_are_pruned_at_the_next_sign_in(tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from countyhub.catalog.sessions import web_sessions

    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    who, _ = UserStore(engine).add("ana", "mzj", "analyst")
    now = [datetime(2025, 3, 3, 9, 0)]
    sessions = Sessions(engine, b"k" * 32, clock=lambda: now[0])
    sessions.start(who), sessions.start(who)
    now[0] += timedelta(hours=4)
    kept, _ = sessions.start(who)  # the first two are 4 h old: still live
    count = select(func.count()).select_from(web_sessions)
    with engine.connect() as con:
        assert con.execute(count).scalar() == 3
    now[0] += timedelta(hours=5)  # the first two expired an hour ago; the third has 3 h left
    sessions.start(who)
    with engine.connect() as con:
        assert con.execute(count).scalar() == 2
    assert sessions.resolve(kept) is not None


def test_repeated_failed_sign_ins_from_one_address_wait(catalog, monkeypatch) -> None:  # noqa: F811
    from fastapi.testclient import TestClient

    from countyhub.catalog.sessions import SignInThrottle

    app, tokens = governed_app(monkeypatch, catalog)
    clock = [1000.0]
    app.state.sign_in_throttle = SignInThrottle(limit=3, window=600, clock=lambda: clock[0])
    client = TestClient(app, follow_redirects=False)

    def sign_in(token: str):
        form = client.get("/login")
        return client.post("/login", data={"token": token, "csrf": csrf_of(form.text), "next": "/"})

    bad = "chub_000000000000_" + "x" * 43
    assert [sign_in(bad).status_code for _ in range(3)] == [401, 401, 401]
    refused = sign_in(tokens["analyst"])  # even the right token waits now
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) == 601
    assert "too many failed sign-ins" in refused.text and bad not in refused.text
    clock[0] += 601
    assert sign_in(tokens["analyst"]).status_code == 303
    client.cookies.clear()
    assert [sign_in(bad).status_code for _ in range(3)] == [401, 401, 401]  # a success reset the count
