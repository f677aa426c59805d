"""Rate limits and daily quotas of data service calls, per caller and service, in this process's memory."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from countyhub.sharing.model import TooManyRequests


def _today() -> date:
    return datetime.now(UTC).date()


class Limits:
    """A token bucket per (caller, service) holding one second of calls, and a count per caller, service and day.

    The counts live in this process: with several server processes, each enforces the limits on its own (a
    caller can reach N× the rate across N processes; docs/governance-quality-and-access.md says so).
    """

    def __init__(self, rate: float = 100.0, daily_quota: int = 1_000_000, clock: Callable[[], float] = time.monotonic,
                 today: Callable[[], date] = _today) -> None:
        self.rate, self.daily_quota, self.clock, self.today = rate, daily_quota, clock, today
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # -> (tokens, at)
        self._days: dict[tuple[str, str], tuple[date, int]] = {}
        self._lock = threading.Lock()

    def take(self, caller: str, service: str, rate: float | None = None, quota: int | None = None) -> None:
        """Count one call, or raise TooManyRequests with the seconds to wait."""
        rate, quota = rate or self.rate, quota or self.daily_quota
        key, now, day = (caller, service), self.clock(), self.today()
        with self._lock:
            seen_day, used = self._days.get(key, (day, 0))
            if seen_day != day:
                used = 0
            if used >= quota:
                midnight = (datetime.combine(day, datetime.min.time(), UTC).timestamp() + 86_400
                            - datetime.now(UTC).timestamp())
                raise TooManyRequests(f"daily quota of {quota} calls to {service} used up; it resets at 00:00 UTC",
                                      max(1, math.ceil(midnight)))
            tokens, at = self._buckets.get(key, (max(rate, 1.0), now))
            tokens = min(max(rate, 1.0), tokens + (now - at) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise TooManyRequests(f"more than {rate:g} calls a second to {service}",
                                      max(1, math.ceil((1.0 - tokens) / rate)))
            self._buckets[key] = (tokens - 1.0, now)
            self._days[key] = (day, used + 1)
