"""Two runs, two builds, or two publishes of one dataset at once: nothing doubled, no partial publish, version
numbers unique and shared serving the newest, one audit entry a version."""

from __future__ import annotations

import pytest

from tests.faults.concurrent import TWICE, twice
from tests.faults.harness import County, fault_trial


@pytest.mark.parametrize("fault", ["two publishes of people_roll"])
def test_the_same_work_twice_at_once_publishes_each_version_once(county: County, fault: str) -> None:
    verdict = fault_trial(county, twice(fault), expect="ok", stage=TWICE[fault][0])
    assert verdict.ok, verdict.notes
