"""Fault soak: `python -m bench faults [--quick]` — every fault of tests/faults at each point, repeated, one table.

Columns: fault, points injected, trials, rows lost, rows doubled, partial publishes seen (for damaged lake files:
damage `countyhub lake verify` missed), recovered automatically. Exit 1 if any invariant broke.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.faults.disk import can_mount, load_on_a_full_disk, small_lake_folder, space_returns
from tests.faults.harness import County, fault_trial
from tests.faults.invariants import Verdict
from tests.faults.kills import KILL_POINTS, kill_at
from tests.faults.lake_files import damage_trial


@dataclass
class Row:
    fault: str
    points: set[str] = field(default_factory=set)
    trials: int = 0
    lost: int = 0
    doubled: int = 0
    partial: int = 0
    recovered: bool = True
    restore_needed: bool = False
    notes: list[str] = field(default_factory=list)

    def add(self, point: str, verdict: Verdict) -> None:
        self.points.add(point)
        self.trials += 1
        self.lost, self.doubled, self.partial = (self.lost + verdict.lost, self.doubled + verdict.doubled,
                                                 self.partial + verdict.partial)
        self.recovered = self.recovered and (verdict.recovered or self.restore_needed)
        self.notes += [f"{point}: {n}" for n in verdict.notes][:3]

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.partial) and self.recovered


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


def plan(quick: bool) -> dict[str, list[tuple[str, Callable[[County], Verdict]]]]:
    if quick:
        return {"SIGKILL of countyhub": _kills(1, 0)[:2] + [t for t in _kills(0, 1) if t[0] == "publish.before_commit"],
                "lake file deleted or damaged": _damage([None, 151]),
                "lake folder out of space": _disk(1)}
    return {"SIGKILL of countyhub": _kills(28, 4),
            "lake file deleted or damaged": _damage([None, *range(37, 37 * 51, 37)]),
            "lake folder out of space": _disk(10)}


def main(flags: list[str]) -> int:
    quick = "--quick" in flags
    started, rows = time.perf_counter(), []
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as root:
        county = County(Path(root))
        for fault, trials in plan(quick).items():
            row = Row(fault, restore_needed=fault.startswith("lake file"))
            for point, trial in trials:
                row.add(point, trial(county))
                print(f"  {fault}: {point}: {row.trials}/{len(trials)}", file=sys.stderr, flush=True)
            rows.append(row)
    print(f"\nfault soak ({'quick' if quick else 'full'}): {sum(r.trials for r in rows)} trials in "
          f"{time.perf_counter() - started:.0f} s")
    print("| fault | points injected | trials | rows lost | rows doubled | partial publishes seen | "
          "recovered automatically |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        recovered = ("no: detected and named; restore the file from a backup" if r.restore_needed
                     else "yes" if r.recovered else "NO")
        print(f"| {r.fault} | {len(r.points)} | {r.trials} | {r.lost} | {r.doubled} | {r.partial} | {recovered} |")
    for r in rows:
        for note in r.notes:
            print(f"  {r.fault}: {note}")
    return 0 if all(r.ok for r in rows) else 1
