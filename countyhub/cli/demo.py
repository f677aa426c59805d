"""The main job: seed the demo county, serve its enterprise API locally, run the whole flow once."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from countyhub.cli.progress import load_progress
from countyhub.core.settings import Settings
from countyhub.flow.run import FlowReport, run_flow


@contextmanager
def demo_api(settings: Settings) -> Iterator[str]:
    """Serve the market-regulation enterprise API of the demo and point the scjgj source at it."""
    from countyhub.demo import EnterpriseApi

    # A fresh token per run: the demo API checks it like a real one, and it never sits in a file.
    token = secrets.token_urlsafe(16)
    with EnterpriseApi(settings.home / "demo" / "scjgj_enterprises.json", port=0, token=token) as api:
        os.environ["SCJGJ_API_URL"], os.environ["SCJGJ_API_TOKEN"] = api.url, token
        yield api.url


def run_demo(settings: Settings, persons: int = 5000, console: Console | None = None) -> FlowReport:
    """Generate the demo sources (fixed seed) and run the flow; a re-run replaces, never duplicates."""
    from countyhub.demo import generate

    console = console or Console()
    manifest = generate(settings.home, persons=persons)
    console.print(f"demo county generated in {settings.home / 'demo'}: "
                  + ", ".join(f"{k} {v}" for k, v in manifest.counts.items()))
    with demo_api(settings), load_progress(console) as progress:
        return run_flow(settings, progress)
