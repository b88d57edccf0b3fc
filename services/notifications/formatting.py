"""How amounts and moments read in each language: pure functions, used by the templates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.notifications.domain.model import Language

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_DUTCH_DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
_DUTCH_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
_ENGLISH_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def euro(cents: int, language: Language = Language.DUTCH) -> str:
    """Euro cents as people read them: '€ 1.250,00' in Dutch, '€1,250.00' in English."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}"
    if language is Language.DUTCH:
        return f"€ {sign}{grouped.replace(',', '.')},{rest:02d}"
    return f"{sign}€{grouped}.{rest:02d}"


def local_datetime(moment: datetime, language: Language = Language.DUTCH) -> str:
    """A moment in Europe/Amsterdam time, e.g. 'vrijdag 5 december 2025 om 17.00 uur'."""
    if moment.tzinfo is None:
        raise ValueError("a moment to show must carry its UTC offset")
    local = moment.astimezone(AMSTERDAM)
    if language is Language.DUTCH:
        day, month = _DUTCH_DAYS[local.weekday()], _DUTCH_MONTHS[local.month - 1]
        return f"{day} {local.day} {month} {local.year} om {local:%H.%M} uur"
    day, month = _ENGLISH_DAYS[local.weekday()], _ENGLISH_MONTHS[local.month - 1]
    return f"{day} {local.day} {month} {local.year} at {local:%H:%M} (Amsterdam time)"


def local_date(day: date, language: Language = Language.DUTCH) -> str:
    """A calendar date, e.g. 'vrijdag 5 december 2025' or 'Friday 5 December 2025'."""
    if language is Language.DUTCH:
        name, month = _DUTCH_DAYS[day.weekday()], _DUTCH_MONTHS[day.month - 1]
    else:
        name, month = _ENGLISH_DAYS[day.weekday()], _ENGLISH_MONTHS[day.month - 1]
    return f"{name} {day.day} {month} {day.year}"
