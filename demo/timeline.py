"""The demo county's fixed clock: every date is drawn relative to AS_OF, never to the real today."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from countyhub.demo.draws import randint

# The subsidy roll is the 2026-11 export, so the source systems are snapshotted shortly after it.
AS_OF = datetime(2026, 11, 20, 18, 0, 0)
ROLL_MONTH = "2026-11"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# next_day() changes about this share of each system's rows per simulated day.
CHANGE_SHARE = 0.01


def random_date(rng: random.Random, start: date, end: date) -> date:
    """A day in [start, end]."""
    return date.fromordinal(randint(rng, start.toordinal(), end.toordinal()))


def random_datetime(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A whole second in [start, end]."""
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=randint(rng, 0, max(span, 0)))


def stamp(moment: datetime) -> str:
    # isoformat gives what strftime(DATETIME_FORMAT) gives for these naive whole-second times, several times faster.
    return moment.isoformat(" ", "seconds")


def years_before(day: date, years: int) -> date:
    """Same month/day `years` earlier (29 Feb falls back to 28 Feb)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def day_clock(day: int) -> tuple[datetime, datetime]:
    """The simulated day `day` after AS_OF: (its start, its end); changes are stamped inside it."""
    end = AS_OF + timedelta(days=day)
    return end - timedelta(days=1), end


def moment(rng: random.Random, day: int) -> str:
    start, _ = day_clock(day)
    return stamp(start + timedelta(seconds=rng.randrange(1, 86400)))


def share(rng: random.Random, total: int, rate: float = CHANGE_SHARE) -> int:
    """How many of `total` rows change today: `rate` of them, at least one when there are any."""
    return min(total, max(1, round(total * rate * rng.uniform(0.8, 1.2)))) if total else 0
