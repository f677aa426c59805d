"""The fault trials' county, seeded once per test session (one full run) and copied back before each trial."""

from __future__ import annotations

import pytest

from tests.faults.harness import County


@pytest.fixture(scope="session")
def county(tmp_path_factory: pytest.TempPathFactory) -> County:
    return County(tmp_path_factory.mktemp("faults"))
