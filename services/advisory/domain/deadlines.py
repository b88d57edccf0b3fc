"""Advice deadlines: counted in Europe/Amsterdam, in working days where the council does so.

A deadline falls at the end of its last day (23:59:59 local time); weekends and Dutch public
holidays do not count as working days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays.country_holidays("NL", years=day.year)


def advice_deadline(start: datetime, days: int, *, working_days: bool) -> datetime:
    """The moment advice is due, ``days`` (working) days after ``start``, as UTC."""
    day = start.astimezone(AMSTERDAM).date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if not working_days or is_working_day(day):
            remaining -= 1
    end_of_day = datetime.combine(day, time(23, 59, 59), tzinfo=AMSTERDAM)
    return end_of_day.astimezone(UTC)
