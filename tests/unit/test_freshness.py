"""Contract latency SLAs as durations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from countyhub.flow.freshness import sla


@pytest.mark.parametrize(("text", "expected"), [
    ("1d", timedelta(days=1)), ("24h", timedelta(hours=24)), ("2 days", timedelta(days=2)),
    ("1.5h", timedelta(minutes=90)), ("30 min", timedelta(minutes=30)), ("1 week", timedelta(days=7)),
    ("1D", timedelta(days=1)),
])
def test_latency_units(text: str, expected: timedelta) -> None:
    assert sla(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "1", "d", "3 fortnights"])
def test_a_latency_that_is_not_a_duration_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="latency"):
        sla(text)
