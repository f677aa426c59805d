"""The lake folder out of space: the load fails in one clear line, leaves nothing partial, and the next load after
space returns catches up. A real size-limited folder (tmpfs), so skipped where mounting is not allowed."""

from __future__ import annotations

import pytest

from tests.faults.disk import can_mount, load_on_a_full_disk, small_lake_folder, space_returns
from tests.faults.harness import County, fault_trial

pytestmark = pytest.mark.skipif(not can_mount(), reason="mounting a small tmpfs needs root")


def test_a_load_into_a_full_lake_folder_fails_cleanly_and_recovers(county: County) -> None:
    verdict = fault_trial(county, load_on_a_full_disk, expect="error", stage="load", around=small_lake_folder,
                          between=lambda c: space_returns(c.home / "lake" / "data"))
    assert verdict.ok, verdict.notes
