"""cgj case lifecycle (上报 → 派遣 →处置 → 结案): dispatch and disposal times, handling department, deadline."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from countyhub.demo.draws import choice, pick
from countyhub.demo.timeline import AS_OF, stamp

# Hours the handling department has from dispatch to disposal, by category (the county's 处置时限).
DEADLINE_HOURS = {"占道经营": 4, "乱堆乱放": 24, "设施损坏": 48, "违章搭建": 168}
DEPARTMENTS_BY_CATEGORY = {
    "占道经营": ("县城管局", "县市场监管局"),
    "乱堆乱放": ("乡镇人民政府", "县城管局"),
    "设施损坏": ("县住建局", "县城管局"),
    "违章搭建": ("县住建局", "乡镇人民政府"),
}
# (step an open case has reached, weight): reported only, dispatched, disposed awaiting closure.
OPEN_STEPS = (("reported", 30), ("dispatched", 40), ("disposed", 30))
CASE_COLUMNS = """dispatched_at TEXT, disposed_at TEXT, handling_department TEXT, deadline_hours INTEGER"""


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)  # the DATETIME_FORMAT text, parsed without strptime's cost


def steps(rng: random.Random, category: str, reported_at: str, closed_at: str | None) -> tuple:
    """(dispatched_at, disposed_at, handling_department, deadline_hours) of one case.

    A closed case went through every step before closed_at; an open one stopped at a weighted step.
    updated_at is left as the old system wrote it (reported or closed): a dispatch after it is the
    "late update" defect cursor readers meet in real systems.
    """
    deadline = DEADLINE_HOURS[category]
    reported = _at(reported_at)
    if closed_at is not None:
        end, step = _at(closed_at), "disposed"
    else:
        end = AS_OF
        step = pick(rng, OPEN_STEPS)
    if step == "reported":
        return None, None, None, deadline
    span = (end - reported).total_seconds()
    dispatched = reported + timedelta(seconds=int(span * rng.uniform(0.02, 0.3)))
    department = choice(rng, DEPARTMENTS_BY_CATEGORY[category])
    if step == "dispatched":
        return stamp(dispatched), None, department, deadline
    # Most disposals meet the deadline; the rest take up to the whole span (SLA breaches).
    rest = (end - dispatched).total_seconds()
    took = rng.uniform(0.1, 0.9) * min(rest, deadline * 3600) if rng.random() < 0.8 else rest * rng.uniform(0.5, 1)
    return stamp(dispatched), stamp(dispatched + timedelta(seconds=int(took))), department, deadline


def with_steps(rng: random.Random, cases: list[tuple]) -> list[tuple]:
    """The case rows with the lifecycle columns appended (category at 2, reported_at at 4, closed_at at 6)."""
    return [case + steps(rng, case[2], case[4], case[6]) for case in cases]
