"""Working days by the Chinese calendar (public holidays and make-up working days), for the 10-working-day flag."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar

# Requests are filed and answered in county offices: a day is a Beijing-time day, the clock is naive UTC.
_BEIJING = timedelta(hours=8)


def beijing_date(utc: datetime) -> date:
    return (utc + _BEIJING).date()


def is_workday(day: date) -> bool:
    """A working day per the State Council's holiday notice (make-up Saturdays/Sundays count, holidays do not).

    chinese_calendar only knows the years whose notice it ships (it raises NotImplementedError for others, e.g.
    next year before the notice is out): those days fall back to Monday to Friday, which is what the notice
    says for every day it does not name.
    """
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def deadline(filed: date, working_days: int) -> date:
    """The `working_days`-th working day after the filing day (the day a reply is last due)."""
    day, left = filed, working_days
    while left > 0:
        day += timedelta(days=1)
        left -= is_workday(day)
    return day


def is_overdue(filed_at: datetime, now: datetime, working_days: int) -> bool:
    """True once the whole deadline day has passed without an answer (both times naive UTC)."""
    return beijing_date(now) > deadline(beijing_date(filed_at), working_days)
