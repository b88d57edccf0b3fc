"""Earmarks: part of a budget set aside for a theme (e.g. "groen": €10,000 of €50,000).

An earmark is money moved on the ledger from the budget's AVAILABLE account to its EARMARKED
account, each entry naming the theme. Initiatives of the theme are reserved from it first;
money that is earmarked is not available to other themes until the earmark gives it back.
The earmarks can never add up to more than the budget: they are taken from what is available.
Where an earmark stands is derived from the ledger entries that name it, never stored.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.budgets.domain.exceptions import InvalidField
from services.budgets.domain.model import (
    Account,
    Balances,
    Budget,
    EntryKind,
    LedgerEntry,
    Movement,
    ThemeEarmark,
    euros,
)

# A theme as initiatives name it ("groen", "jeugd", "zorg-en-welzijn"). No control
# characters, no leading = + - @ that would turn the open-data CSV into formulas, and no
# slash, as the theme is part of the earmark's URL.
THEME_PATTERN = r"^[^\x00-\x1f=+\-@/][^\x00-\x1f/]*$"
THEME_RULE = "2 to 60 characters, no slash, not starting with = + - or @"
Theme = Annotated[str, Field(min_length=2, max_length=60, pattern=THEME_PATTERN)]


def theme_key(theme: str) -> str:
    """How a theme is matched: "Groen " and "groen" are the same earmark."""
    return " ".join(theme.split()).casefold()


def checked_theme(theme: str, field: str) -> str:
    """The theme as matched, refused if what is left after normalising is no theme."""
    key = theme_key(theme)
    if len(key) < 2 or not re.fullmatch(THEME_PATTERN, key):
        raise InvalidField(field, f"{theme!r} is not a theme: {THEME_RULE}")
    return key


class InvalidEarmark(InvalidField):
    """An earmark the budget's rules refuse."""


class EarmarkPosition(BaseModel):
    """Where one theme's earmark stands, derived from the ledger entries that name it."""

    model_config = ConfigDict(frozen=True)

    theme: str = Field(description="The theme the money is set aside for.")
    earmarked_cents: int = Field(description="Set aside for the theme, net of what was given back.")
    committed_cents: int = Field(
        description="Reserved for initiatives of the theme and not paid yet (also any part "
        "beyond the earmark)."
    )
    disbursed_cents: int = Field(description="Paid out to initiatives of the theme.")
    spent_cents: int = Field(description="Paid out and accounted for with actual costs.")
    remaining_cents: int = Field(description="Still in the earmark: free to reserve for the theme.")

    @classmethod
    def derive(cls, theme: str, movements: Iterable[Movement]) -> EarmarkPosition:
        earmarked = 0
        accounts: dict[Account, int] = defaultdict(int)
        for movement in movements:
            accounts[movement.debit_account] -= movement.amount_cents
            accounts[movement.credit_account] += movement.amount_cents
            if movement.kind is EntryKind.EARMARKED:
                earmarked += movement.amount_cents
            elif movement.kind is EntryKind.EARMARK_RELEASED:
                earmarked -= movement.amount_cents
        return cls(
            theme=theme,
            earmarked_cents=earmarked,
            committed_cents=accounts[Account.RESERVED],
            disbursed_cents=accounts[Account.DISBURSED] + accounts[Account.SPENT],
            spent_cents=accounts[Account.SPENT],
            remaining_cents=accounts[Account.EARMARKED],
        )

    @property
    def drawn_cents(self) -> int:
        """What initiatives of the theme hold of the earmark (reserved or paid from it)."""
        return self.earmarked_cents - self.remaining_cents

    def as_theme_earmark(self) -> ThemeEarmark:
        return ThemeEarmark(self.theme, self.remaining_cents)


def positions(entries: Iterable[LedgerEntry]) -> dict[str, EarmarkPosition]:
    """Every earmark of one budget's entries, by theme."""
    by_theme: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        if entry.earmark is not None:
            by_theme[entry.earmark].append(entry)
    return {theme: EarmarkPosition.derive(theme, moved) for theme, moved in by_theme.items()}


def set_earmark(
    budget: Budget,
    balances: Balances,
    current: EarmarkPosition | None,
    *,
    theme: str,
    amount_cents: int,
    now: datetime,
    recorded_by: str | None,
    note: str = "",
) -> LedgerEntry | None:
    """The entry that makes the theme's earmark ``amount_cents``; ``None`` if it already is.

    Raising it takes money that is available (not reserved, not earmarked for another theme);
    lowering it gives back only what initiatives of the theme have not drawn from it.
    ``balances`` and ``current`` must be current: the caller holds the budget's lock.
    """
    if amount_cents < 0:
        raise InvalidEarmark("amount_cents", "an earmark cannot be negative")
    earmarked = current.earmarked_cents if current else 0
    change = amount_cents - earmarked
    if change == 0:
        return None
    if change > 0 and change > balances.available_cents:
        raise InvalidEarmark(
            "amount_cents",
            f"earmarking {euros(amount_cents)} for {theme} needs {euros(change)} more, but "
            f"{budget.describe()} has only {euros(max(0, balances.available_cents))} that is "
            "neither reserved nor earmarked for another theme",
        )
    if change < 0 and current is not None and -change > current.remaining_cents:
        raise InvalidEarmark(
            "amount_cents",
            f"the {theme} earmark cannot go below {euros(current.drawn_cents)}: initiatives "
            "of the theme have drawn that much from it",
        )
    kind = EntryKind.EARMARKED if change > 0 else EntryKind.EARMARK_RELEASED
    return LedgerEntry.record(
        kind,
        budget=budget,
        amount_cents=abs(change),
        at=now,
        note=note or f"earmark for {theme} set to {euros(amount_cents)}",
        earmark=theme,
        recorded_by=recorded_by,
    )
