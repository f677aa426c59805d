"""schemathesis against the catalog's own OpenAPI document with a valid token: no generated input makes a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.unit.test_authorization_matrix import _world

pytestmark = pytest.mark.slow


def test_no_generated_input_makes_the_api_fail(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every operation, 15 generated calls each, as an analyst of another department holding a grant (the matrix's
    world: datasets of each sharing type, a lake, users). schemathesis' pytest plugin does not run under pytest 9,
    so its strategies are driven here with Hypothesis directly."""
    world = _world(tmp_path, monkeypatch)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", world["app"])
    headers = {"Authorization": f"Bearer {world['tokens']['other_granted']}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20  # the document really lists the API, not an empty shell

    for operation in operations:
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(operation.as_strategy())
        def call(case: Any) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")

        call()
    assert not failures, "\n".join(failures[:20])
