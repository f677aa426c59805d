"""The demo's users: an analyst, a steward and an app per department and one admin, tokens in a private file, kept on re-runs."""

from __future__ import annotations

import stat

from countyhub.cli.demo import demo_users
from countyhub.flow.runtime import Runtime

# The demo county's nine department files (eight source departments and dsj, which runs the platform).
CODES = ("cgj", "dsj", "gaj", "jyj", "mzj", "rsj", "scjgj", "wjj", "zjj")
EXPECTED = {(f"{role}_{code}", code, role) for code in CODES for role in ("analyst", "steward", "app")} | {
    ("admin", "dsj", "admin")}


def test_demo_users_get_private_tokens_that_work_and_a_rerun_keeps_them(runtime: Runtime) -> None:
    path = demo_users(runtime)
    assert path == runtime.settings.home / "demo" / "tokens.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = [line.split() for line in path.read_text().splitlines()]
    assert {tuple(parts[:3]) for parts in lines} == EXPECTED and len(lines) == 28
    for name, department, role, token in lines:
        user = runtime.sharing.users.resolve(token)
        assert (user.name, user.department, user.role) == (name, department, role)
    before = path.read_text()
    assert demo_users(runtime).read_text() == before
    assert len(runtime.sharing.users.list()) == 28
    assert [e.action for e in runtime.sharing.audit.entries()].count("user_add") == 28
    runtime.sharing.audit.close()
