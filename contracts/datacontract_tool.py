"""datacontract-cli (lint) in its own venv under .countyhub-tools/: it pins typer<0.28, countyhub pins 0.29.2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

VERSION = "1.2.8"


def executable(tools: Path) -> Path:
    """Where the CLI lives under the tools folder (settings.tools_dir)."""
    return tools / "datacontract" / "bin" / "datacontract"


def ensure(tools: Path, install: bool = True) -> Path | None:
    """The datacontract CLI, installing datacontract-cli==VERSION into its own venv first if asked and missing."""
    exe = executable(tools)
    if exe.exists() or not install:
        return exe if exe.exists() else None
    venv = exe.parent.parent
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"datacontract-cli=={VERSION}"], check=True)
    return exe


def lint(path: Path, tools: Path, install: bool = True) -> tuple[bool, str]:
    """Run `datacontract lint <path>`: (passed, its output)."""
    exe = ensure(tools, install)
    if exe is None:
        return False, f"datacontract-cli is not installed at {executable(tools)} (run `countyhub contracts lint --install`)"
    done = subprocess.run([str(exe), "lint", str(path)], check=False, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "160"})
    return done.returncode == 0, done.stdout + done.stderr
