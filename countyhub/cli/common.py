"""What every `countyhub` sub-command shares: the console, the --config option, the runtime and error exits."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from countyhub.core.settings import load_settings
from countyhub.flow.runtime import Runtime

console = Console()
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Config file (default: countyhub.toml or $COUNTYHUB_CONFIG).")]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a one-line error (file, line, field when known) and exit non-zero, without a traceback."""
    console.print(f"[red]error:[/red] {message}", soft_wrap=True)
    raise typer.Exit(code)


def runtime(config: Path | None = None) -> Runtime:
    """The runtime of one command: settings from the config file and COUNTYHUB_*, in this process's environment."""
    return Runtime(load_settings(config), os.environ)


def operator() -> str:
    """Who ran a local admin command, as the audit log names them (local file access = platform operator)."""
    return f"cli:{getpass.getuser()}"
