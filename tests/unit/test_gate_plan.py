"""A gate task's share of its build's plan: taken on the first try only, and whole through Airflow's XCom JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from countyhub.flow.run import PlannedGate, planned_gate
from countyhub.lakehouse.meta_gates import Publication

SERVED = Publication(dataset="household", version=3, snapshot_id=41, rows=1200,
                     published_at=datetime(2026, 12, 1, 8, 30, tzinfo=UTC), gate_run_id="g-1",
                     contract_version="1.2.0", content_hash="ab" * 32, rows_added=4, rows_removed=1)


def _build(**planned: PlannedGate) -> dict:
    """build_models' return value as the gate task receives it: through JSON."""
    return json.loads(json.dumps({"built": [], "held_back": {},
                                  "planned": {d: p.to_json() for d, p in planned.items()}}))


def test_the_first_try_takes_its_line_of_the_plan_with_the_served_version_whole() -> None:
    build = _build(household=PlannedGate("d1", SERVED), urban_cases=PlannedGate("d2", None))
    assert planned_gate(build, "household", try_number=1) == PlannedGate("d1", SERVED)
    assert planned_gate(build, "urban_cases", try_number=1) == PlannedGate("d2", None)


def test_a_retry_a_dataset_left_out_and_a_build_from_before_plans_look_at_the_lake() -> None:
    build = _build(household=PlannedGate("d1", SERVED))
    assert planned_gate(build, "household", try_number=2) is None
    assert planned_gate(build, "property_housing", try_number=1) is None  # held back: not planned
    assert planned_gate({"built": [], "held_back": {}}, "household", try_number=1) is None
