"""The main job: seed the demo county, serve its enterprise API locally, run the whole flow once."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console

from countyhub.cli.demo_services import example_calls, grant_demo_services, read_tokens
from countyhub.cli.progress import load_progress
from countyhub.flow.run import FlowReport, run_flow
from countyhub.flow.runtime import Runtime


@contextmanager
def demo_api(runtime: Runtime) -> Iterator[Runtime]:
    """Serve the market-regulation enterprise API of the demo; the runtime it yields points the scjgj source at it.

    The address and token reach the department file's `${SCJGJ_API_URL}` and `token_env: SCJGJ_API_TOKEN`
    through the runtime's environment, never through this process's own.
    """
    from countyhub.demo import EnterpriseApi

    # A fresh token per run: the demo API checks it like a real one, and it never sits in a file.
    token = secrets.token_urlsafe(16)
    with EnterpriseApi(runtime.settings.home / "demo" / "scjgj_enterprises.json", port=0, token=token) as api:
        yield runtime.with_environ(SCJGJ_API_URL=api.url, SCJGJ_API_TOKEN=token)


class NoDemoCounty(RuntimeError):
    """--next-day asked for a county that was never generated under this home."""


def run_demo(runtime: Runtime, persons: int | None = None, console: Console | None = None, scale: str = "demo",
             next_day: bool = False) -> FlowReport:
    """Generate the demo sources (fixed seed) at `scale` — or, with `next_day`, advance the generated ones by one
    simulated day — and run the flow; a re-run replaces, never duplicates."""
    from countyhub.demo import generate, load_manifest
    from countyhub.demo import next_day as advance

    console = console or Console()
    home = runtime.settings.home
    if next_day:
        try:
            load_manifest(home)
        except FileNotFoundError:
            raise NoDemoCounty(f"no demo county under {home / 'demo'} to advance: run `countyhub demo` (or "
                               "`countyhub demo --scale county`) first") from None
        manifest = advance(home)
        console.print(f"demo county ({manifest.scale}) advanced to day {manifest.day} in {home / 'demo'}")
    else:
        manifest = generate(home, persons=persons, scale=scale)
        console.print(f"demo county ({manifest.scale}) generated in {home / 'demo'}: "
                      + ", ".join(f"{k} {v}" for k, v in manifest.counts.items()))
    with demo_api(runtime) as demo, load_progress(console) as progress:
        report = run_flow(demo, progress)
    tokens = demo_users(runtime)
    grant_demo_services(runtime, tokens)
    console.print(f"demo users (an analyst, a steward and an app per department, one admin): their tokens are in "
                  f"{tokens}; "
                  f"""try one: curl -H "Authorization: Bearer $(awk '$1=="analyst_mzj"{{print $4}}' {tokens})" """
                  f"http://{runtime.settings.catalog_host}:{runtime.settings.catalog_port}/api/grants", soft_wrap=True)
    console.print("data services, called as the civil affairs bureau's system (app_mzj, granted the resident "
                  "verifications):")
    for line in example_calls(runtime, tokens):
        console.print(f"  {line}", soft_wrap=True, markup=False, highlight=False)
    return report


def _wanted_users(runtime: Runtime) -> list[tuple[str, str, str]]:
    from countyhub.core.departments import load_departments

    codes = [d.code for d in load_departments(runtime.settings.departments_dir)]
    admin_home = "dsj" if "dsj" in codes else codes[0]  # the big-data bureau runs the platform in the demo county
    return [(f"{role}_{code}", code, role) for code in codes for role in ("analyst", "steward", "app")] + [
        ("admin", admin_home, "admin")]


def demo_users(runtime: Runtime) -> Path:
    """Create the demo's users that are missing and write `<home>/demo/tokens.txt` (mode 0600, "name department
    role token" lines). The file is the source: a re-run keeps its users and tokens and adds only new ones."""
    from countyhub.sharing.model import AuditEntry, SharingError

    path = runtime.settings.home / "demo" / "tokens.txt"
    kept = {name: " ".join((name, *rest)) for name, rest in read_tokens(path).items()}
    sharing = runtime.sharing
    existing = {str(u["name"]) for u in sharing.users.list()}
    kept = {name: line for name, line in kept.items() if name in existing}  # a reset catalog forgot these users
    for name, department, role in _wanted_users(runtime):
        if name in kept or name in existing:  # a user whose token is lost stays out: names are never reused
            continue
        try:
            user, token = sharing.users.add(name, department, role)
        except SharingError:
            continue
        kept[name] = f"{name} {department} {role} {token}"
        sharing.audit.append(AuditEntry(action="user_add", actor="demo", department="platform",
                                        detail={"user": user.name, "department": department, "role": role}))
    sharing.audit.flush()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written through a 0600 descriptor: the tokens are never readable by others, not even for a moment.
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("".join(f"{line}\n" for line in kept.values()))
    os.chmod(path.with_suffix(".tmp"), 0o600)
    os.replace(path.with_suffix(".tmp"), path)
    return path
