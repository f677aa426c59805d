"""One seeded county home copied per trial, `countyhub` run in a child process with a fault, and the verdict."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from countyhub.core.faultpoints import ENV as FAULT_ENV
from countyhub.core.settings import PROJECT_DIR
from tests.faults.county import TWO_SQLITE, Layout, add_source_rows, write_county
from tests.faults.invariants import (
    LakeState,
    Verdict,
    judge_audit,
    judge_fault,
    judge_recovery,
    read_lake,
    read_source,
)

COUNTYHUB = [sys.executable, "-m", "countyhub.cli.main"]
NEW_ROWS = 20  # rows each department's system gains before a trial's faulted run


@dataclass
class Outcome:
    """A finished `countyhub` child: exit code (-9: killed) and everything it printed."""

    code: int
    output: str

    @property
    def one_line_error(self) -> bool:
        """Failed with an `error:` or `failed to load` line and no traceback: what an operator should see."""
        return self.code not in (0, -9) and "Traceback" not in self.output and "a bug in" not in self.output and (
            "error:" in self.output or "failed to load" in self.output)


class County:
    """The fault trials' county: seeded once (one full run), then copied back before every trial."""

    lake_metadata: str | None = None  # DuckLake metadata elsewhere than the home's SQLite file

    def __init__(self, root: Path, rows: int = 50, layout: Layout = TWO_SQLITE,
                 mirror: Callable[[Path], None] | None = None, environ: dict[str, str] | None = None) -> None:
        """`layout`: the departments and datasets; `mirror(home)` copies the departments' SQLite files to their
        server sources (tests/faults/servers.py) whenever those files change; `environ`: more variables."""
        self.root, self.seed, self.layout, self.mirror = root, root / "seed-home", layout, mirror
        self.environ = {**os.environ, **write_county(root, PROJECT_DIR, layout), **(environ or {}),
                        "COUNTYHUB_DEBUG": ""}
        self.environ.pop(FAULT_ENV, None)
        self.home = Path(self.environ["COUNTYHUB_HOME"])
        if not self.seed.exists():
            self.add_rows(rows)
            first = self.countyhub("run")
            assert first.code == 0, f"the county's first run failed:\n{first.output}"
            shutil.copytree(self.home, self.seed, symlinks=True)

    def fresh(self) -> LakeState:
        """The home as seeded (same paths, so the lake is not 'moved'); returns what its lake holds."""
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.copytree(self.seed, self.home, symlinks=True)
        if self.mirror:
            self.mirror(self.home)
        return self.read_lake()

    def read_lake(self) -> LakeState:
        return read_lake(self.home, self.lake_metadata, self.layout)

    def add_rows(self, count: int) -> None:
        """New rows (and a changed one) in every department's system."""
        add_source_rows(self.home, count, self.layout.departments)
        if self.mirror:
            self.mirror(self.home)

    def countyhub(self, *args: str, fault: str = "", extra: dict[str, str] | None = None,
                  kill_when: Callable[[], bool] | None = None, timeout: float = 600) -> Outcome:
        """Run `countyhub args` in its own process group; `fault` arms a fault point, `kill_when` is polled and
        SIGKILLs the whole group (dbt included) once it holds."""
        child = self.start(*args, fault=fault, extra=extra)
        if kill_when is not None:
            deadline = time.monotonic() + timeout
            while child.poll() is None and not kill_when() and time.monotonic() < deadline:
                time.sleep(0.02)
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
        return finish(child, timeout)

    def start(self, *args: str, fault: str = "", extra: dict[str, str] | None = None,
              command: list[str] | None = None) -> subprocess.Popen:
        """`countyhub args` (or `command`) started in its own process group, not waited for."""
        environ = {**self.environ, **(extra or {}), **({FAULT_ENV: fault} if fault else {})}
        return subprocess.Popen([*(command or COUNTYHUB), *args], env=environ, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True, cwd=self.root)


def finish(child: subprocess.Popen, timeout: float = 600) -> Outcome:
    """Wait for a started child (killing its group past `timeout`); its exit code and output."""
    try:
        output, _ = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        output, _ = child.communicate()
    return Outcome(child.returncode, output)


def ingest_now(county: County) -> None:
    """Load every department in this process (no fault): a build trial starts from raw tables with new rows."""
    from countyhub.core.settings import load_settings
    from countyhub.flow.run import ingest_all
    from countyhub.flow.runtime import Runtime

    ingest_all(Runtime(load_settings(environ=county.environ), county.environ))


# More judgement of a faulted run: its outcome, the lake before, the sources, the lake after, the verdict to add to.
Check = Callable[[Outcome, LakeState, dict[str, list], LakeState, Verdict], None]

# What each stage's trial runs (faulted, then again to recover), and what it must have published afterwards.
STAGES = {
    "load": (("load", "aaa"), ("aaa",), False),
    "build": (("build",), None, True),  # None: every department of the county
    "run": (("run",), None, True),
}


def fault_trial(county: County, inject: Callable[[County], Outcome], expect: str = "killed", stage: str = "run",
                around: Callable[[County], AbstractContextManager] | None = None,
                between: Callable[[County], None] | None = None, check: Check | None = None) -> Verdict:
    """Copy the seeded home, give the sources new rows, inject a fault, judge; run the stage again, judge.

    `expect` is what the faulted run must end in: "killed" (SIGKILL at the point), "error" (one clear line), "ok"
    (it must succeed: two runs at once) or "any" of the last two (a server restarted: failing or retrying are both
    right).
    `stage` (STAGES): a "build" trial loads the new rows first, unfaulted. `around` is entered once the home is
    copied (a small disk mounted over its lake folder) and left after the verdict; `between` runs after the fault
    and before the recovery run (space comes back, a server restarts); `check` judges the faulted run further.
    """
    command, departments, published = STAGES[stage]
    verdict = Verdict()
    before = county.fresh()
    with around(county) if around else nullcontext():
        county.add_rows(NEW_ROWS)
        source = read_source(county.home, county.layout)
        if stage == "build":
            ingest_now(county)
        faulted = inject(county)
        if expect == "killed" and faulted.code != -signal.SIGKILL:
            verdict.notes.append(f"the fault point was not reached (exit {faulted.code}): {faulted.output[-300:]}")
            verdict.recovered = False
        if expect == "any" and faulted.code != 0 and not faulted.one_line_error:
            verdict.notes.append(f"neither success nor one clear error (exit {faulted.code}): {faulted.output[-600:]}")
            verdict.recovered = False
        if expect == "ok" and faulted.code != 0:
            verdict.notes.append(f"the run failed (exit {faulted.code}): {faulted.output[-600:]}")
            verdict.recovered = False
        if expect == "error" and not faulted.one_line_error:
            verdict.notes.append(f"no clear one-line error (exit {faulted.code}): {faulted.output[-600:]}")
            verdict.recovered = False
        faulted_lake = county.read_lake()
        judge_fault(before, source, faulted_lake, verdict, departments, county.layout)
        if check:
            check(faulted, before, source, faulted_lake, verdict)
        if between:
            between(county)
        again = county.countyhub(*command)
        if again.code != 0:
            verdict.recovered = False
            verdict.notes.append(f"the next run failed (exit {again.code}): {again.output[-600:]}")
        recovered = county.read_lake()
        judge_recovery(before, source, recovered, verdict, departments, published, county.layout)
        judge_audit(county.home, recovered, verdict)
    return verdict
