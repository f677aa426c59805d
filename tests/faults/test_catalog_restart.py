"""The lake's PostgreSQL catalog restarted (fast) while dbt builds: the run fails in one line or carries on, nothing
partial is served, and the next run recovers. A private PostgreSQL 15, never the shared server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.catalog_restart import can_run_postgres, pg_catalog_county, restart_during_run
from tests.faults.harness import fault_trial

pytestmark = pytest.mark.skipif(not can_run_postgres(), reason="needs PostgreSQL 15's binaries and a postgres user")


def test_the_catalog_restarted_mid_build_loses_nothing_and_the_next_run_recovers(tmp_path: Path) -> None:
    with pg_catalog_county(tmp_path) as county:
        verdict = fault_trial(county, restart_during_run("dbt building a table"), expect="any", stage="run")
    assert verdict.ok, verdict.notes
