"""Budgets, their append-only double-entry ledger, and the allocation of money to initiatives.

Every entry moves an amount from one of a budget's accounts to another, so the ledger always
balances: money only ever moves, it never appears or disappears. Balances are derived by
summing entries; no balance is ever stored or updated in place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.budgets.domain import events
from services.budgets.domain.exceptions import BudgetError

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FUND_SCOPE = "initiatives_fund"


class BudgetKind(StrEnum):
    NEIGHBOURHOOD_BUDGET = "neighbourhood_budget"
    INITIATIVES_FUND = "initiatives_fund"


class EntryKind(StrEnum):
    OPENED = "opened"
    RESERVED = "reserved"
    RELEASED = "released"
    DISBURSED = "disbursed"
    SPENDING_REPORTED = "spending_reported"
    CORRECTION = "correction"
    EARMARKED = "earmarked"  # money set aside for a theme
    EARMARK_RELEASED = "earmark_released"  # set-aside money given back to the budget


class ReleaseReason(StrEnum):
    """Why a reservation (or part of it) goes back to the budget."""

    WITHDRAWN = "withdrawn"  # the initiative stopped before it was carried out
    EXPIRED = "expired"  # the reservation was not used in time
    UNDERSPEND = "underspend"  # the initiative needed less than was reserved


class Account(StrEnum):
    """The accounts of one budget; every entry debits one and credits another."""

    FUNDING = "funding"  # where the money comes from: the council's appropriation
    AVAILABLE = "available"  # free to reserve, for any theme
    EARMARKED = "earmarked"  # set aside for one theme (the entry's earmark); free to reserve for it
    RESERVED = "reserved"  # promised to an initiative, not paid yet
    DISBURSED = "disbursed"  # paid out, not yet accounted for with actual costs
    SPENT = "spent"  # paid out and accounted for: actual costs reported per cost line


TRANSFERS: dict[EntryKind, tuple[Account, Account]] = {
    EntryKind.OPENED: (Account.FUNDING, Account.AVAILABLE),
    EntryKind.RESERVED: (Account.AVAILABLE, Account.RESERVED),
    EntryKind.RELEASED: (Account.RESERVED, Account.AVAILABLE),
    EntryKind.DISBURSED: (Account.RESERVED, Account.DISBURSED),
    EntryKind.SPENDING_REPORTED: (Account.DISBURSED, Account.SPENT),
    EntryKind.EARMARKED: (Account.AVAILABLE, Account.EARMARKED),
    EntryKind.EARMARK_RELEASED: (Account.EARMARKED, Account.AVAILABLE),
}
# An initiative of an earmarked theme is reserved from its earmark, and what it gives back
# goes back there: the same kinds of entry, with the earmark's account instead of AVAILABLE.
EARMARK_TRANSFERS: dict[EntryKind, tuple[Account, Account]] = {
    EntryKind.RESERVED: (Account.EARMARKED, Account.RESERVED),
    EntryKind.RELEASED: (Account.RESERVED, Account.EARMARKED),
}
# A correction either changes the budget's funding (FUNDING <-> AVAILABLE, either way) or
# reverses (part of) an earlier entry of one of these kinds; a reservation is given back by
# releasing it, never by correcting it, so that "reserved once" stays true.
CORRECTABLE = (
    EntryKind.OPENED,
    EntryKind.RELEASED,
    EntryKind.DISBURSED,
    EntryKind.SPENDING_REPORTED,
)
FUNDING_ACCOUNTS = frozenset({Account.FUNDING, Account.AVAILABLE})
CORRECTION_TRANSFERS = frozenset(
    {(Account.FUNDING, Account.AVAILABLE), (Account.AVAILABLE, Account.FUNDING)}
    | {(TRANSFERS[kind][1], TRANSFERS[kind][0]) for kind in CORRECTABLE}
    | {(Account.EARMARKED, Account.RESERVED)}  # a release to an earmark, reversed
)


def budget_year(moment: datetime) -> int:
    """The budget year a moment falls in: the calendar year in Europe/Amsterdam."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(AMSTERDAM).year


def neighbourhood_scope(neighbourhood: str, year: int) -> str:
    return f"{neighbourhood}/{year}"


def euros(cents: int) -> str:
    return f"€{cents // 100:,}.{cents % 100:02d}"


class Movement(BaseModel):
    """An amount moved from one account of a budget to another (or the sum of several)."""

    model_config = ConfigDict(frozen=True)

    kind: EntryKind
    debit_account: Account = Field(description="The account the money leaves.")
    credit_account: Account = Field(description="The account the money arrives in.")
    amount_cents: int = Field(gt=0, description="Always positive; the accounts say which way.")

    @model_validator(mode="after")
    def _accounts_fit_the_kind(self) -> Movement:
        accounts = (self.debit_account, self.credit_account)
        if self.kind is EntryKind.CORRECTION:
            if accounts not in CORRECTION_TRANSFERS:
                raise ValueError(
                    "a correction changes the funding or reverses a release, disbursement "
                    "or spending report"
                )
        elif accounts != TRANSFERS[self.kind] and accounts != EARMARK_TRANSFERS.get(self.kind):
            expected = " -> ".join(TRANSFERS[self.kind])
            raise ValueError(f"a {self.kind} entry moves money {expected}")
        return self


class LedgerEntry(Movement):
    """One line of a budget's ledger. Entries are appended, never changed or removed."""

    id: int | None = Field(default=None, description="Position in the ledger, once stored.")
    budget_id: str
    municipality: str
    initiative_id: str | None = Field(default=None, description="The initiative it concerns.")
    at: datetime
    note: str = ""
    cost_line: str | None = Field(default=None, description="The cost line spending is booked on.")
    release_reason: ReleaseReason | None = Field(default=None, description="Why it was released.")
    corrects_entry_id: int | None = Field(default=None, description="The entry it corrects.")
    recorded_by: str | None = Field(default=None, description="Pseudonymous id of who booked it.")
    earmark: str | None = Field(
        default=None,
        description="The theme whose earmark the entry belongs to: set on the earmark's own "
        "entries and on every entry of an initiative reserved under it.",
    )

    @model_validator(mode="after")
    def _earmarked_money_names_its_theme(self) -> LedgerEntry:
        if Account.EARMARKED in (self.debit_account, self.credit_account) and not self.earmark:
            raise ValueError("money moved in or out of an earmark names the earmark's theme")
        return self

    @classmethod
    def record(
        cls,
        kind: EntryKind,
        *,
        budget: Budget,
        amount_cents: int,
        at: datetime,
        initiative_id: str | None = None,
        note: str = "",
        **details: Any,
    ) -> LedgerEntry:
        debit, credit = TRANSFERS[kind]
        return cls(
            kind=kind,
            debit_account=debit,
            credit_account=credit,
            amount_cents=amount_cents,
            budget_id=budget.id,
            municipality=budget.municipality,
            initiative_id=initiative_id,
            at=at,
            note=note,
            **details,
        )


class Balances(BaseModel):
    """A budget's position, derived from its ledger entries and nothing else."""

    model_config = ConfigDict(frozen=True)

    opened_cents: int = Field(description="Put into the budget when it was opened.")
    corrections_cents: int = Field(description="Net funding corrections (negative: taken out).")
    reserved_cents: int = Field(description="Reserved for initiatives, in total.")
    released_cents: int = Field(description="Reservations given back, in total.")
    disbursed_cents: int = Field(description="Paid out to initiatives, in total.")
    spent_cents: int = Field(description="Paid out and accounted for with actual costs.")
    committed_cents: int = Field(description="Reserved and neither released nor paid yet.")
    available_cents: int = Field(
        description="Free to reserve for any theme; money earmarked for a theme is not in it."
    )

    @classmethod
    def derive(cls, movements: Iterable[Movement]) -> Balances:
        by_kind: dict[EntryKind, int] = defaultdict(int)
        accounts: dict[Account, int] = defaultdict(int)
        funding_corrections = reversed_releases = 0
        for movement in movements:
            amount = movement.amount_cents
            accounts[movement.debit_account] -= amount
            accounts[movement.credit_account] += amount
            if movement.kind is not EntryKind.CORRECTION:
                by_kind[movement.kind] += amount
            elif movement.credit_account is Account.AVAILABLE:
                if movement.debit_account is Account.FUNDING:
                    funding_corrections += amount
            elif movement.debit_account is Account.AVAILABLE:
                if movement.credit_account is Account.FUNDING:
                    funding_corrections -= amount
                else:  # a release reversed: the money is reserved again
                    reversed_releases += amount
            elif movement.debit_account is Account.EARMARKED:  # a release to an earmark reversed
                reversed_releases += amount
        return cls(
            opened_cents=by_kind[EntryKind.OPENED],
            corrections_cents=funding_corrections,
            reserved_cents=by_kind[EntryKind.RESERVED],
            released_cents=by_kind[EntryKind.RELEASED] - reversed_releases,
            disbursed_cents=accounts[Account.DISBURSED] + accounts[Account.SPENT],
            spent_cents=accounts[Account.SPENT],
            committed_cents=accounts[Account.RESERVED],
            available_cents=accounts[Account.AVAILABLE],
        )

    @property
    def funded_cents(self) -> int:
        """All the money the budget holds: opened plus corrections."""
        return self.opened_cents + self.corrections_cents

    def accounts_never_negative(self) -> bool:
        return (
            min(self.available_cents, self.committed_cents, self.disbursed_cents, self.spent_cents)
            >= 0
            and self.disbursed_cents >= self.spent_cents
        )


class Budget(BaseModel):
    """A neighbourhood budget for one year, or a municipality's rolling initiatives fund."""

    id: str
    municipality: str
    kind: BudgetKind
    neighbourhood: str | None = Field(default=None, description="CBS neighbourhood code.")
    year: int | None = Field(
        default=None, description="Budget year; for the rolling fund only the year it opened."
    )
    max_per_initiative_cents: int | None = Field(
        default=None, description="The fund's ceiling per initiative; null for no ceiling."
    )
    opened_at: datetime
    opened_by: str

    @classmethod
    def open(
        cls,
        *,
        budget_id: str,
        municipality: str,
        kind: BudgetKind,
        opening_amount_cents: int,
        opened_by: str,
        now: datetime,
        neighbourhood: str | None = None,
        year: int | None = None,
        max_per_initiative_cents: int | None = None,
    ) -> tuple[Budget, LedgerEntry]:
        """A new budget and the ledger entry that puts its opening amount in."""
        if opening_amount_cents <= 0:
            raise BudgetError("a budget opens with a positive amount")
        if kind is BudgetKind.NEIGHBOURHOOD_BUDGET:
            if neighbourhood is None or year is None:
                raise BudgetError("a neighbourhood budget needs a neighbourhood and a year")
            if max_per_initiative_cents is not None:
                raise BudgetError("a ceiling per initiative belongs to the initiatives fund")
        elif neighbourhood is not None:
            raise BudgetError("the initiatives fund belongs to the municipality as a whole")
        if max_per_initiative_cents is not None and max_per_initiative_cents <= 0:
            raise BudgetError("a ceiling per initiative must be positive")
        budget = cls(
            id=budget_id,
            municipality=municipality,
            kind=kind,
            neighbourhood=neighbourhood,
            year=year,
            max_per_initiative_cents=max_per_initiative_cents,
            opened_at=now,
            opened_by=opened_by,
        )
        opening = LedgerEntry.record(
            EntryKind.OPENED,
            budget=budget,
            amount_cents=opening_amount_cents,
            at=now,
            note="opening amount",
        )
        return budget, opening

    @property
    def scope(self) -> str:
        """What the budget is for; a municipality has one budget per scope."""
        if self.kind is BudgetKind.INITIATIVES_FUND:
            return FUND_SCOPE
        assert self.neighbourhood is not None and self.year is not None
        return neighbourhood_scope(self.neighbourhood, self.year)

    def describe(self) -> str:
        if self.kind is BudgetKind.INITIATIVES_FUND:
            return "the initiatives fund"
        return f"the neighbourhood budget of {self.neighbourhood} for {self.year}"

    def available_to_initiative(self, balances: Balances, earmark_cents: int = 0) -> int:
        """What one initiative could get: what is available (to its theme's earmark too),
        up to the ceiling if any."""
        available = max(0, balances.available_cents) + max(0, earmark_cents)
        if self.max_per_initiative_cents is None:
            return available
        return min(available, self.max_per_initiative_cents)

    def can_cover(self, amount_cents: int, balances: Balances, earmark_cents: int = 0) -> bool:
        return amount_cents <= self.available_to_initiative(balances, earmark_cents)

    def refusal_reason(
        self,
        amount_cents: int,
        balances: Balances,
        earmark: ThemeEarmark | None = None,
    ) -> str | None:
        """Why ``amount_cents`` cannot be reserved for one initiative; ``None`` if it can."""
        ceiling = self.max_per_initiative_cents
        if ceiling is not None and amount_cents > ceiling:
            return (
                f"{self.describe()} reserves at most {euros(ceiling)} per initiative; "
                f"{euros(amount_cents)} was requested"
            )
        earmarked = earmark.remaining_cents if earmark else 0
        free = max(0, balances.available_cents) + earmarked
        if amount_cents > free:
            short = amount_cents - free
            of_it = (
                f" (of which {euros(earmarked)} earmarked for {earmark.theme})"
                if earmark and earmarked
                else ""
            )
            return (
                f"{self.describe()} has {euros(free)} available{of_it}, "
                f"{euros(short)} short of the {euros(amount_cents)} requested"
            )
        return None

    def reserve(
        self, *, initiative_id: str, amount_cents: int, balances: Balances, now: datetime
    ) -> LedgerEntry:
        """The entry reserving ``amount_cents``; never more than the budget can give.

        ``balances`` must be current: the caller holds the budget's lock while it derives
        them and appends the entry, so two reservations never both spend the same money.
        """
        reason = self.refusal_reason(amount_cents, balances)
        if reason is not None:
            raise BudgetError(reason)
        return LedgerEntry.record(
            EntryKind.RESERVED,
            budget=self,
            amount_cents=amount_cents,
            at=now,
            initiative_id=initiative_id,
            note="reserved for an approved initiative",
        )

    def reserve_for_theme(
        self,
        *,
        initiative_id: str,
        amount_cents: int,
        balances: Balances,
        earmark: ThemeEarmark | None,
        now: datetime,
    ) -> list[LedgerEntry]:
        """The entries reserving ``amount_cents`` for an initiative of an earmarked theme.

        The theme's earmark pays first; what it cannot cover comes from the money that is
        not earmarked. Every entry carries the earmark, so the theme's spending can be
        followed; the accounts say which part came from where.
        """
        if earmark is None:
            return [
                self.reserve(
                    initiative_id=initiative_id,
                    amount_cents=amount_cents,
                    balances=balances,
                    now=now,
                )
            ]
        reason = self.refusal_reason(amount_cents, balances, earmark)
        if reason is not None:
            raise BudgetError(reason)
        from_earmark = min(amount_cents, max(0, earmark.remaining_cents))
        parts = [
            (
                EARMARK_TRANSFERS[EntryKind.RESERVED],
                from_earmark,
                f"from the {earmark.theme} earmark",
            ),
            (TRANSFERS[EntryKind.RESERVED], amount_cents - from_earmark, "beyond the earmark"),
        ]
        return [
            LedgerEntry(
                kind=EntryKind.RESERVED,
                debit_account=debit,
                credit_account=credit,
                amount_cents=amount,
                budget_id=self.id,
                municipality=self.municipality,
                initiative_id=initiative_id,
                at=now,
                note=f"reserved for an approved initiative, {where}",
                earmark=earmark.theme,
            )
            for (debit, credit), amount, where in parts
            if amount > 0
        ]


@dataclass(frozen=True)
class ThemeEarmark:
    """A budget's earmark for one theme as it stands: what it still holds for the theme."""

    theme: str
    remaining_cents: int


@dataclass(frozen=True)
class FundPosition:
    """The municipality's initiatives fund as it stands, to tell whether it could step in."""

    fund: Budget
    balances: Balances

    def could_cover(self, amount_cents: int) -> bool:
        return self.fund.can_cover(amount_cents, self.balances)


class AllocationOutcome(StrEnum):
    ALLOCATED = "allocated"
    REFUSED = "refused"


class Allocation(BaseModel):
    """What the budgets service did with one approved initiative's request for money."""

    municipality: str
    initiative_id: str
    funding_source: BudgetKind
    neighbourhood: str | None = Field(
        default=None, description="The initiative's neighbourhood, also when the fund pays."
    )
    requested_cents: int
    outcome: AllocationOutcome
    budget_id: str | None = Field(description="The budget tried; null when none exists.")
    amount_cents: int = Field(description="Reserved; 0 when refused.")
    shortfall_cents: int = Field(description="What was missing; 0 when allocated.")
    reason: str
    decided_at: datetime = Field(description="When the initiative was approved.")
    recorded_at: datetime
    pending_events: list[events.DomainEvent] = Field(default_factory=list, exclude=True)

    @property
    def is_reserved(self) -> bool:
        return self.outcome is AllocationOutcome.ALLOCATED

    @classmethod
    def decide(
        cls,
        *,
        municipality: str,
        initiative_id: str,
        funding_source: BudgetKind,
        neighbourhood: str,
        requested_cents: int,
        decided_at: datetime,
        budget: Budget | None,
        balances: Balances,
        fund: FundPosition | None,
        now: datetime,
    ) -> tuple[Allocation, LedgerEntry | None]:
        """Reserve the requested amount from ``budget`` if it can give it, else refuse.

        ``budget`` is the one the funding source names (``None`` when it does not exist) and
        ``balances`` its current balances; ``fund`` is the initiatives fund, consulted only to
        tell a refused neighbourhood-budget request whether the fund could cover it instead.
        """
        allocation, entries = cls.decide_for_theme(
            municipality=municipality,
            initiative_id=initiative_id,
            funding_source=funding_source,
            neighbourhood=neighbourhood,
            requested_cents=requested_cents,
            decided_at=decided_at,
            budget=budget,
            balances=balances,
            fund=fund,
            earmark=None,
            now=now,
        )
        return allocation, entries[0] if entries else None

    @classmethod
    def decide_for_theme(
        cls,
        *,
        municipality: str,
        initiative_id: str,
        funding_source: BudgetKind,
        neighbourhood: str,
        requested_cents: int,
        decided_at: datetime,
        budget: Budget | None,
        balances: Balances,
        fund: FundPosition | None,
        earmark: ThemeEarmark | None,
        now: datetime,
    ) -> tuple[Allocation, list[LedgerEntry]]:
        """As ``decide``, for an initiative whose theme may have an earmark in ``budget``:
        the earmark pays first, then the money that is not earmarked."""
        facts = {
            "municipality": municipality,
            "initiative_id": initiative_id,
            "funding_source": funding_source,
            "neighbourhood": neighbourhood,
            "requested_cents": requested_cents,
            "decided_at": decided_at,
            "recorded_at": now,
        }
        earmarked = earmark.remaining_cents if earmark else 0
        reason = (
            _missing_budget_reason(municipality, funding_source, neighbourhood, decided_at)
            if budget is None
            else budget.refusal_reason(requested_cents, balances, earmark)
        )
        if reason is not None:
            available = budget.available_to_initiative(balances, earmarked) if budget else 0
            refused = cls(
                **facts,
                outcome=AllocationOutcome.REFUSED,
                budget_id=budget.id if budget else None,
                amount_cents=0,
                shortfall_cents=requested_cents - available,
                reason=reason,
            )
            fund_could_cover = (
                funding_source is BudgetKind.NEIGHBOURHOOD_BUDGET
                and fund is not None
                and fund.could_cover(requested_cents)
            )
            refused.pending_events.append(
                events.Refused(
                    municipality,
                    initiative_id,
                    refused.budget_id,
                    requested_cents,
                    available,
                    refused.shortfall_cents,
                    fund_could_cover,
                    reason,
                )
            )
            return refused, []
        assert budget is not None
        entries = (
            budget.reserve_for_theme(
                initiative_id=initiative_id,
                amount_cents=requested_cents,
                balances=balances,
                earmark=earmark,
                now=now,
            )
            if requested_cents > 0
            else []  # nothing to reserve, but the initiative is funded all the same
        )
        from_general = sum(e.amount_cents for e in entries if e.debit_account is Account.AVAILABLE)
        where = f" ({earmark.theme} earmark first)" if earmark else ""
        allocated = cls(
            **facts,
            outcome=AllocationOutcome.ALLOCATED,
            budget_id=budget.id,
            amount_cents=requested_cents,
            shortfall_cents=0,
            reason=f"{euros(requested_cents)} reserved from {budget.describe()}{where}",
        )
        allocated.pending_events.append(
            events.Allocated(
                municipality,
                initiative_id,
                budget.id,
                budget.neighbourhood,
                requested_cents,
                balances.available_cents - from_general,
            )
        )
        return allocated, entries


def _missing_budget_reason(
    municipality: str, funding_source: BudgetKind, neighbourhood: str, decided_at: datetime
) -> str:
    if funding_source is BudgetKind.INITIATIVES_FUND:
        return f"municipality {municipality} has no initiatives fund"
    return (
        f"municipality {municipality} has no neighbourhood budget for {neighbourhood} "
        f"in {budget_year(decided_at)}"
    )
