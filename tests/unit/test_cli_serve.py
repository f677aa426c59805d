"""A busy catalog port is a clear error, found before `countyhub demo` spends its minute on the flow."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from countyhub.cli.common import console
from countyhub.cli.main import app
from countyhub.core.settings import Settings


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.mark.parametrize("command", [["serve"], ["demo", "--persons", "50"]])
def test_a_busy_port_is_named_with_the_way_out(settings: Settings, busy_port: int, command: list[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 300)
    out = CliRunner().invoke(app, [*command, "--port", str(busy_port)])
    assert out.exit_code == 1, out.output
    assert f"cannot serve the catalog on 127.0.0.1:{busy_port}" in out.output and "--port N" in out.output
    assert not (settings.home / "lake").exists()  # the demo stopped before loading anything
