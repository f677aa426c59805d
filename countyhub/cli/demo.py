"""The main job: seed the demo county, serve its enterprise API locally, run the whole flow once."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

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


def run_demo(runtime: Runtime, persons: int = 5000, console: Console | None = None) -> FlowReport:
    """Generate the demo sources (fixed seed) and run the flow; a re-run replaces, never duplicates."""
    from countyhub.demo import generate

    console = console or Console()
    home = runtime.settings.home
    manifest = generate(home, persons=persons)
    console.print(f"demo county generated in {home / 'demo'}: "
                  + ", ".join(f"{k} {v}" for k, v in manifest.counts.items()))
    with demo_api(runtime) as demo, load_progress(console) as progress:
        return run_flow(demo, progress)
