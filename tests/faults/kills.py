"""SIGKILL of countyhub at each named point of the flow (countyhub/core/faultpoints.py), and mid dbt build."""

from __future__ import annotations

from collections.abc import Callable

from tests.faults.harness import County, Outcome

# point -> the stage whose trial reaches it; "#2": the second time (the second department's load, dataset, ...).
KILL_POINTS = {
    "load.before_commit": "load",
    "load.after_commit": "load",
    "dbt.table_model": "build",  # not a faultpoint: dbt runs in its own process; see kill_at
    "gate.checked": "build",
    "gate.checked#2": "build",
    "publish.before_commit": "build",
    "publish.after_commit": "build",
    "publish.before_commit#2": "build",
    "catalog.register#2": "build",
    "audit.append": "build",
}


def dbt_building_a_table(county: County) -> Callable[[], bool]:
    """True once dbt's log (past what it held before) says a mart table started building in `audit`."""
    log = county.home / "dbt" / "logs" / "dbt.log"
    start = log.stat().st_size if log.exists() else 0

    def building() -> bool:
        if not log.exists():
            return False
        with log.open("rb") as fh:
            fh.seek(start)
            return b"START sql table model audit." in fh.read()
    return building


def kill_at(point: str) -> Callable[[County], Outcome]:
    """The injection of one kill point: the stage's command, killed there."""
    command = ("load", "aaa") if KILL_POINTS[point] == "load" else ("build",)
    if point == "dbt.table_model":  # dbt's own process: watch its log, then kill the whole group, dbt with it
        return lambda county: county.countyhub(*command, kill_when=dbt_building_a_table(county))
    return lambda county: county.countyhub(*command, fault=point)
