"""`countyhub demo --scale/--next-day`: expected mistakes get one clear line, no traceback, and run nothing."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from countyhub.cli.main import app
from countyhub.core.settings import Settings


@pytest.mark.parametrize("args,message", [
    (["--next-day"], "no demo county under "),
    (["--scale", "town"], "--scale town: not a scale; use one of demo, county"),
    (["--next-day", "--persons", "10"], "--persons applies only when generating one"),
])
def test_demo_refuses_what_it_cannot_do(settings: Settings, args: list[str], message: str) -> None:
    out = CliRunner().invoke(app, ["demo", "--no-serve", *args])
    assert out.exit_code == 1, out.output
    assert message in " ".join(out.output.split()) and "Traceback" not in out.output
    assert not (settings.home / "lake").exists()  # nothing ran
