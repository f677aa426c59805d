"""Fault soak: `python -m bench faults [--quick]` — every fault of tests/faults at each point, repeated, one table.

Columns: fault, points injected, trials, rows lost, rows doubled, partial publishes seen (for damaged lake files:
damage `countyhub lake verify` missed), published versions without exactly one audit entry, recovered automatically.
Exit 1 if any invariant broke. Each fault runs on its county: the two SQLite departments; four departments on
PostgreSQL, MariaDB, an API and SQLite (the shared local servers); the lake's catalog in a private PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from tests.faults.catalog_restart import RESTART_POINTS, can_run_postgres, pg_catalog_county, restart_during_run
from tests.faults.concurrent import TWICE, twice
from tests.faults.disk import can_mount, load_on_a_full_disk, small_lake_folder, space_returns
from tests.faults.harness import County, fault_trial
from tests.faults.invariants import Verdict
from tests.faults.kills import KILL_POINTS, kill_at
from tests.faults.lake_files import damage_trial
from tests.faults.servers import ServerCounty, only_departments_failed, server_county, servers_reachable, sources_fail

Trials = list[tuple[str, Callable[[County], Verdict]]]


@dataclass
class Row:
    fault: str
    points: set[str] = field(default_factory=set)
    trials: int = 0
    lost: int = 0
    doubled: int = 0
    partial: int = 0
    unaudited: int = 0
    recovered: bool = True
    restore_needed: bool = False
    notes: list[str] = field(default_factory=list)

    def add(self, point: str, verdict: Verdict) -> None:
        self.points.add(point)
        self.trials += 1
        self.lost, self.doubled, self.partial = (self.lost + verdict.lost, self.doubled + verdict.doubled,
                                                 self.partial + verdict.partial)
        self.unaudited += verdict.unaudited
        self.recovered = self.recovered and (verdict.recovered or self.restore_needed)
        self.notes += [f"{point}: {n}" for n in verdict.notes][:3]

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.partial or self.unaudited) and self.recovered


def _kills(repeat_load: int, repeat_build: int) -> list[tuple[str, Callable[[County], Verdict]]]:
    trials = []
    for point, stage in KILL_POINTS.items():
        repeat = repeat_load if stage == "load" else repeat_build
        trials += [(point, lambda c, p=point, s=stage: fault_trial(c, kill_at(p), stage=s))] * repeat
    return trials


def _damage(offsets: list[int | None]) -> list[tuple[str, Callable[[County], Verdict]]]:
    return [(f"{table} {'deleted' if o is None else 'byte flipped'}",
             lambda c, t=table, o=o: damage_trial(c, t, o)[0])
            for table in ("raw_aaa.persons", "shared.people_roll") for o in offsets]


def _disk(repeat: int) -> list[tuple[str, Callable[[County], Verdict]]]:
    if not can_mount():
        return []
    trial = (lambda c: fault_trial(c, load_on_a_full_disk, expect="error", stage="load", around=small_lake_folder,
                                   between=lambda c: space_returns(c.home / "lake" / "data")))
    return [("load into a full lake folder", trial)] * repeat


def _twice(repeat: int, faults: tuple[str, ...] = tuple(TWICE)) -> Trials:
    return [(f, lambda c, f=f: fault_trial(c, twice(f), expect="ok", stage=TWICE[f][0])) for f in faults] * repeat


def _sources(quick: bool) -> Trials:
    """Each source cut alone at a few rows (of 70) or pages (of 3); the API also recovering within its retries."""
    def cut(system: str, key: int) -> tuple[str, Callable[[ServerCounty], Verdict]]:
        code = {"postgres": "ppp", "mariadb": "mmm"}[system]
        return (f"{system} read cut at row {key}", lambda c: fault_trial(
            c, sources_fail([(getattr(c, system), key)]), expect="error", stage="run",
            check=only_departments_failed((code,), c.layout)))

    def api(page: int, times: int) -> tuple[str, Callable[[ServerCounty], Verdict]]:
        failed = ("hhh",) if times < 0 else ()
        return (f"api 500s on page {page} {'until it recovers' if times < 0 else f'{times} times'}", lambda c: fault_trial(
            c, sources_fail(outage=(c.api, page, times)), expect="error" if failed else "ok", stage="run",
            between=c.api.recover, check=only_departments_failed(failed, c.layout)))

    if quick:
        return [("all three cut at once", lambda c: fault_trial(
            c, sources_fail([(c.postgres, 40), (c.mariadb, 40)], outage=(c.api, 2, -1)), expect="error", stage="run",
            between=c.api.recover, check=only_departments_failed(("ppp", "mmm", "hhh"), c.layout)))]
    return ([cut(s, k) for s in ("postgres", "mariadb") for k in (5, 40, 65)]
            + [api(p, -1) for p in (1, 2, 3)] + [api(p, 2) for p in (1, 3)])


def _restarts(repeat: int) -> Trials:
    return [(p, lambda c, p=p: fault_trial(c, restart_during_run(p), expect="any", stage="run"))
            for p in RESTART_POINTS] * repeat


# fault -> the county its trials run on
COUNTIES = {"department source cut mid-read (PostgreSQL, MariaDB, API 500s)": "servers",
            "lake's PostgreSQL catalog restarted during a run": "pg-catalog"}


def plan(quick: bool) -> dict[str, Trials]:
    if quick:
        return {"SIGKILL of countyhub": _kills(1, 0)[:2] + [t for t in _kills(0, 1) if t[0] == "publish.before_commit"],
                "lake file deleted or damaged": _damage([None, 151]),
                "lake folder out of space": _disk(1),
                "the same work twice at once": _twice(1, ("two publishes of people_roll",)),
                "department source cut mid-read (PostgreSQL, MariaDB, API 500s)": _sources(True),
                "lake's PostgreSQL catalog restarted during a run": _restarts(1)[1:]}
    return {"SIGKILL of countyhub": _kills(28, 4),
            "lake file deleted or damaged": _damage([None, *range(37, 37 * 51, 37)]),
            "lake folder out of space": _disk(10),
            "the same work twice at once": _twice(2),
            "department source cut mid-read (PostgreSQL, MariaDB, API 500s)": _sources(False),
            "lake's PostgreSQL catalog restarted during a run": _restarts(2)}


def _county(kind: str, root: Path, stack: ExitStack, counties: dict[str, County]) -> County | str:
    """The county a fault runs on (made once), or why it cannot run here."""
    if kind not in counties:
        if kind == "servers" and not servers_reachable():
            return "the local PostgreSQL and MariaDB are not reachable"
        if kind == "pg-catalog" and not can_run_postgres():
            return "no PostgreSQL 15 binaries or postgres user to run a private server"
        counties[kind] = (County(root / kind) if kind == "sqlite" else
                          stack.enter_context(server_county(root / kind)) if kind == "servers" else
                          stack.enter_context(pg_catalog_county(root / kind)))
    return counties[kind]


def main(flags: list[str]) -> int:
    quick = "--quick" in flags
    started, rows, skipped, failed = time.perf_counter(), [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as root, ExitStack() as stack:
        counties: dict[str, County] = {}
        for fault, trials in plan(quick).items():
            try:
                county = _county(COUNTIES.get(fault, "sqlite"), Path(root), stack, counties)
            except (AssertionError, OSError, subprocess.CalledProcessError, SQLAlchemyError) as exc:
                # Its county could not even be seeded (its first run failed, a server would not start): say why,
                # fail the soak, go on with the next fault.
                failed.append(f"{fault}: NOT RUN, seeding its county failed: {' '.join(str(exc).split())[-400:]}")
                continue
            if isinstance(county, str):
                skipped.append(f"{fault}: not run: {county}")
                continue
            row = Row(fault, restore_needed=fault.startswith("lake file"))
            for point, trial in trials:
                row.add(point, trial(county))
                print(f"  {fault}: {point}: {row.trials}/{len(trials)}", file=sys.stderr, flush=True)
            print(f"  {_line(row)}", file=sys.stderr, flush=True)  # a row kept even if a later fault's setup dies
            rows.append(row)
    print(f"\nfault soak ({'quick' if quick else 'full'}): {sum(r.trials for r in rows)} trials in "
          f"{time.perf_counter() - started:.0f} s")
    print("| fault | points injected | trials | rows lost | rows doubled | partial publishes seen | "
          "versions without one audit entry | recovered automatically |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        print(_line(r))
    for r in rows:
        for note in r.notes:
            print(f"  {r.fault}: {note}")
    for line in skipped + failed:
        print(f"  {line}")
    return 0 if all(r.ok for r in rows) and not failed else 1


def _line(r: Row) -> str:
    recovered = ("no: detected and named; restore the file from a backup" if r.restore_needed
                 else "yes" if r.recovered else "NO")
    return (f"| {r.fault} | {len(r.points)} | {r.trials} | {r.lost} | {r.doubled} | {r.partial} | {r.unaudited} | "
            f"{recovered} |")
