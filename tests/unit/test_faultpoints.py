"""Fault points do nothing unless armed; armed, the n-th pass kills the process with SIGKILL (no cleanup runs)."""

from __future__ import annotations

import signal
import subprocess
import sys

CHILD = """
import atexit, sys
from countyhub.core import faultpoints
atexit.register(lambda: print("atexit ran", flush=True))
faultpoints.arm(sys.argv[1])
for n in range(3):
    faultpoints.reached("publish.before_commit")
    print("passed", n + 1, flush=True)
"""


def _run(spec: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, spec], check=False, capture_output=True, text=True, timeout=60)


def test_an_unarmed_point_does_nothing() -> None:
    done = _run("")
    assert done.returncode == 0 and done.stdout.split("\n")[:3] == ["passed 1", "passed 2", "passed 3"]
    assert _run("load.before_commit").returncode == 0  # another point armed: this one still passes


def test_an_armed_point_kills_on_its_nth_pass_without_cleanup() -> None:
    killed = _run("load.before_commit, publish.before_commit#2")
    assert killed.returncode == -signal.SIGKILL
    assert killed.stdout == "passed 1\n"  # no second pass, and no atexit handler ran
