"""Initiative deadlines: counted in Europe/Amsterdam, in working days where the type says so.

A deadline falls at the end of its last day (23:59:59 local time); weekends and Dutch public
holidays do not count as working days. Mirrors the advisory service's rule on purpose:
services share contracts, not code.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in dutch_public_holidays(day.year)


@functools.cache
def dutch_public_holidays(year: int) -> frozenset[date]:
    """Built once per year: the calendar is asked for every day a deadline counts."""
    return frozenset(holidays.country_holidays("NL", years=year))


def deadline_after(start: datetime, days: int, *, working_days: bool) -> datetime:
    """The end of the ``days``-th (working) day after ``start``, as UTC."""
    day = start.astimezone(AMSTERDAM).date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if not working_days or is_working_day(day):
            remaining -= 1
    return end_of_day(day)


def end_of_day(day: date) -> datetime:
    """23:59:59 Europe/Amsterdam on ``day``, as UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=AMSTERDAM).astimezone(UTC)
