"""SIGKILL in the middle of a load, the dbt build, the gate, a publish, a catalog update and an audit append:
nothing lost, nothing doubled, no partial publish, the old version served, and the next run catches up."""

from __future__ import annotations

import pytest

from tests.faults.harness import County, fault_trial
from tests.faults.kills import KILL_POINTS, kill_at

# The quick set: one point per stage boundary the whole flow crosses (the bench runs every point, repeated).
QUICK = ["load.after_commit", "publish.before_commit"]


@pytest.mark.parametrize("point", QUICK)
def test_a_kill_loses_nothing_and_the_next_run_recovers(county: County, point: str) -> None:
    verdict = fault_trial(county, kill_at(point), stage=KILL_POINTS[point])
    assert verdict.ok, verdict.notes
    assert (verdict.lost, verdict.doubled, verdict.partial) == (0, 0, 0)
