"""Advice deadlines: counted in Europe/Amsterdam, in working days where the council does so.

A deadline falls at the end of its last day (23:59:59 local time); weekends and Dutch public
holidays do not count as working days. Reminders go out at 09:00 local time a number of
calendar days before the deadline's day.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
REMINDER_TIME = time(9, 0)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in dutch_public_holidays(day.year)


@functools.cache
def dutch_public_holidays(year: int) -> frozenset[date]:
    """Built once per year: the calendar is asked for every day a deadline counts."""
    return frozenset(holidays.country_holidays("NL", years=year))


def local_date(moment: datetime) -> date:
    """The calendar day in Amsterdam of a moment."""
    return moment.astimezone(AMSTERDAM).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 Amsterdam time on ``day``, as UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=AMSTERDAM).astimezone(UTC)


def advice_deadline(start: datetime, days: int, *, working_days: bool) -> datetime:
    """The moment advice is due, ``days`` (working) days after ``start``, as UTC."""
    day = local_date(start)
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if not working_days or is_working_day(day):
            remaining -= 1
    return end_of_day(day)


def reminder_moments(
    deadline: datetime, days_before: list[int], *, after: datetime
) -> list[tuple[int, datetime]]:
    """When to remind a council: (days before, moment) for each moment still after ``after``."""
    deadline_day = local_date(deadline)
    moments = []
    for days in sorted(set(days_before), reverse=True):
        moment = datetime.combine(
            deadline_day - timedelta(days=days), REMINDER_TIME, tzinfo=AMSTERDAM
        ).astimezone(UTC)
        if after < moment < deadline:
            moments.append((days, moment))
    return moments


def term_ends_at(last_day: date) -> datetime:
    """The moment a term whose last day is ``last_day`` is over: the next local midnight."""
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=AMSTERDAM).astimezone(UTC)
