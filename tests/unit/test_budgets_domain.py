"""The budgets domain on its own: the ledger, derived balances, reservations, the fund's ceiling."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from services.budgets.domain import commands, events
from services.budgets.domain.exceptions import BudgetError
from services.budgets.domain.model import (
    Account,
    Allocation,
    AllocationOutcome,
    Balances,
    Budget,
    BudgetKind,
    EntryKind,
    FundPosition,
    LedgerEntry,
    Movement,
    budget_year,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
NEIGHBOURHOOD = "BU03620001"


def neighbourhood_budget(amount: int = 100_000) -> tuple[Budget, LedgerEntry]:
    return Budget.open(
        budget_id="b-1",
        municipality="GM0362",
        kind=BudgetKind.NEIGHBOURHOOD_BUDGET,
        opening_amount_cents=amount,
        neighbourhood=NEIGHBOURHOOD,
        year=2026,
        opened_by="holder-1",
        now=NOW,
    )


def fund(amount: int = 1_000_000, ceiling: int = 250_000) -> tuple[Budget, LedgerEntry]:
    return Budget.open(
        budget_id="f-1",
        municipality="GM0362",
        kind=BudgetKind.INITIATIVES_FUND,
        opening_amount_cents=amount,
        max_per_initiative_cents=ceiling,
        opened_by="holder-1",
        now=NOW,
    )


def decide(
    budget: Budget | None,
    entries: list[LedgerEntry],
    requested: int,
    *,
    source: BudgetKind = BudgetKind.NEIGHBOURHOOD_BUDGET,
    fund_position: FundPosition | None = None,
    initiative_id: str = "i-1",
) -> tuple[Allocation, LedgerEntry | None]:
    return Allocation.decide(
        municipality="GM0362",
        initiative_id=initiative_id,
        funding_source=source,
        neighbourhood=NEIGHBOURHOOD,
        requested_cents=requested,
        decided_at=NOW,
        budget=budget,
        balances=Balances.derive(entries),
        fund=fund_position,
        now=NOW,
    )


def test_a_new_budget_has_its_opening_amount_available_and_nothing_else() -> None:
    _, opening = neighbourhood_budget(100_000)

    balances = Balances.derive([opening])

    assert (opening.kind, opening.debit_account, opening.credit_account) == (
        EntryKind.OPENED,
        Account.FUNDING,
        Account.AVAILABLE,
    )
    assert balances.opened_cents == 100_000
    assert balances.available_cents == 100_000
    assert balances.reserved_cents == balances.committed_cents == balances.disbursed_cents == 0


def test_reserving_within_the_available_amount_moves_it_to_reserved() -> None:
    budget, opening = neighbourhood_budget(100_000)

    entry = budget.reserve(
        initiative_id="i-1", amount_cents=60_000, balances=Balances.derive([opening]), now=NOW
    )
    balances = Balances.derive([opening, entry])

    assert entry.kind is EntryKind.RESERVED and entry.initiative_id == "i-1"
    assert balances.reserved_cents == balances.committed_cents == 60_000
    assert balances.available_cents == 40_000


def test_reserving_exactly_what_is_available_succeeds_and_leaves_nothing() -> None:
    budget, opening = neighbourhood_budget(100_000)

    allocation, entry = decide(budget, [opening], 100_000)

    assert allocation.outcome is AllocationOutcome.ALLOCATED and entry is not None
    assert Balances.derive([opening, entry]).available_cents == 0
    assert allocation.pending_events == [
        events.Allocated("GM0362", "i-1", "b-1", NEIGHBOURHOOD, 100_000, 0)
    ]


def test_reserving_one_cent_more_than_available_is_refused_with_the_shortfall() -> None:
    budget, opening = neighbourhood_budget(100_000)
    first = budget.reserve(
        initiative_id="i-0", amount_cents=70_000, balances=Balances.derive([opening]), now=NOW
    )

    allocation, entry = decide(budget, [opening, first], 30_001)

    assert entry is None
    assert allocation.outcome is AllocationOutcome.REFUSED
    assert allocation.amount_cents == 0 and allocation.shortfall_cents == 1
    (refused,) = allocation.pending_events
    assert isinstance(refused, events.Refused)
    assert (refused.requested_cents, refused.available_cents, refused.shortfall_cents) == (
        30_001,
        30_000,
        1,
    )
    assert "€300.00 available" in refused.reason


def test_the_budget_itself_refuses_to_reserve_more_than_is_available() -> None:
    budget, opening = neighbourhood_budget(100_000)

    with pytest.raises(BudgetError, match="short"):
        budget.reserve(
            initiative_id="i-1",
            amount_cents=100_001,
            balances=Balances.derive([opening]),
            now=NOW,
        )


def test_balances_are_derived_from_every_kind_of_entry() -> None:
    budget, opening = neighbourhood_budget(100_000)

    def entry(kind: EntryKind, amount: int, debit: Account, credit: Account) -> LedgerEntry:
        return LedgerEntry(
            kind=kind,
            debit_account=debit,
            credit_account=credit,
            amount_cents=amount,
            budget_id=budget.id,
            municipality="GM0362",
            initiative_id="i-1",
            at=NOW,
        )

    ledger = [
        opening,
        entry(EntryKind.RESERVED, 50_000, Account.AVAILABLE, Account.RESERVED),
        entry(EntryKind.RESERVED, 20_000, Account.AVAILABLE, Account.RESERVED),
        entry(EntryKind.RELEASED, 5_000, Account.RESERVED, Account.AVAILABLE),
        entry(EntryKind.DISBURSED, 30_000, Account.RESERVED, Account.DISBURSED),
        entry(EntryKind.CORRECTION, 10_000, Account.FUNDING, Account.AVAILABLE),
        entry(EntryKind.CORRECTION, 2_500, Account.AVAILABLE, Account.FUNDING),
    ]

    balances = Balances.derive(ledger)

    assert balances == Balances(
        opened_cents=100_000,
        corrections_cents=7_500,
        reserved_cents=70_000,
        released_cents=5_000,
        disbursed_cents=30_000,
        spent_cents=0,
        committed_cents=35_000,
        available_cents=42_500,
    )
    # Double entry: whatever moved, the money in the budget's accounts is what was put in.
    assert (
        balances.available_cents + balances.committed_cents + balances.disbursed_cents
        == balances.opened_cents + balances.corrections_cents
    )


def test_balances_do_not_depend_on_the_order_of_the_entries() -> None:
    budget, opening = neighbourhood_budget(100_000)
    reserved = budget.reserve(
        initiative_id="i-1", amount_cents=1_234, balances=Balances.derive([opening]), now=NOW
    )

    assert Balances.derive([reserved, opening]) == Balances.derive([opening, reserved])


@pytest.mark.parametrize(
    ("kind", "debit", "credit"),
    [
        (EntryKind.RESERVED, Account.FUNDING, Account.RESERVED),
        (EntryKind.OPENED, Account.AVAILABLE, Account.FUNDING),
        (EntryKind.DISBURSED, Account.AVAILABLE, Account.DISBURSED),
        (EntryKind.CORRECTION, Account.RESERVED, Account.AVAILABLE),
    ],
)
def test_an_entry_moves_money_only_between_the_accounts_its_kind_allows(
    kind: EntryKind, debit: Account, credit: Account
) -> None:
    with pytest.raises(ValidationError):
        Movement(kind=kind, debit_account=debit, credit_account=credit, amount_cents=100)


@pytest.mark.parametrize("amount", [0, -1])
def test_an_entry_moves_a_positive_amount(amount: int) -> None:
    with pytest.raises(ValidationError):
        Movement(
            kind=EntryKind.RESERVED,
            debit_account=Account.AVAILABLE,
            credit_account=Account.RESERVED,
            amount_cents=amount,
        )


def test_the_fund_refuses_more_than_its_ceiling_per_initiative_even_when_it_holds_enough() -> None:
    the_fund, opening = fund(amount=1_000_000, ceiling=250_000)

    allocation, entry = decide(the_fund, [opening], 250_001, source=BudgetKind.INITIATIVES_FUND)

    assert allocation.outcome is AllocationOutcome.REFUSED and entry is None
    (refused,) = allocation.pending_events
    assert isinstance(refused, events.Refused)
    assert refused.available_cents == 250_000  # what one initiative could get
    assert refused.shortfall_cents == 1
    assert refused.fund_could_cover is False
    assert "at most €2,500.00 per initiative" in refused.reason


def test_the_fund_reserves_up_to_its_ceiling() -> None:
    the_fund, opening = fund(amount=1_000_000, ceiling=250_000)

    allocation, entry = decide(the_fund, [opening], 250_000, source=BudgetKind.INITIATIVES_FUND)

    assert allocation.outcome is AllocationOutcome.ALLOCATED and entry is not None
    assert Balances.derive([opening, entry]).available_cents == 750_000
    (allocated,) = allocation.pending_events
    assert isinstance(allocated, events.Allocated) and allocated.neighbourhood is None


def test_a_refused_neighbourhood_request_says_whether_the_fund_could_cover_it() -> None:
    budget, opening = neighbourhood_budget(10_000)
    the_fund, fund_opening = fund(amount=1_000_000, ceiling=250_000)
    position = FundPosition(the_fund, Balances.derive([fund_opening]))

    coverable, _ = decide(budget, [opening], 200_000, fund_position=position)
    above_ceiling, _ = decide(budget, [opening], 300_000, fund_position=position)
    without_fund, _ = decide(budget, [opening], 200_000, fund_position=None)

    def could_cover(allocation: Allocation) -> bool:
        (refused,) = allocation.pending_events
        assert isinstance(refused, events.Refused)
        return refused.fund_could_cover

    assert could_cover(coverable) is True
    assert could_cover(above_ceiling) is False
    assert could_cover(without_fund) is False


def test_a_missing_budget_is_a_refusal_with_the_whole_amount_short() -> None:
    allocation, entry = decide(None, [], 50_000)

    assert entry is None and allocation.budget_id is None
    (refused,) = allocation.pending_events
    assert isinstance(refused, events.Refused)
    assert (refused.available_cents, refused.shortfall_cents) == (0, 50_000)
    assert "no neighbourhood budget for BU03620001 in 2026" in refused.reason


def test_an_approved_request_for_nothing_is_allocated_without_a_ledger_entry() -> None:
    budget, opening = neighbourhood_budget(100)

    allocation, entry = decide(budget, [opening], 0)

    assert allocation.outcome is AllocationOutcome.ALLOCATED and entry is None


@pytest.mark.parametrize(
    ("moment", "year"),
    [
        (datetime(2025, 12, 31, 22, 59, tzinfo=UTC), 2025),
        (datetime(2025, 12, 31, 23, 0, tzinfo=UTC), 2026),  # midnight in Amsterdam (CET)
        (datetime(2026, 6, 30, 21, 59, tzinfo=UTC), 2026),
    ],
)
def test_the_budget_year_is_the_year_in_amsterdam(moment: datetime, year: int) -> None:
    assert budget_year(moment) == year


@pytest.mark.parametrize(
    "options",
    [
        {"kind": BudgetKind.NEIGHBOURHOOD_BUDGET, "neighbourhood": NEIGHBOURHOOD},
        {"kind": BudgetKind.NEIGHBOURHOOD_BUDGET, "year": 2026},
        {
            "kind": BudgetKind.NEIGHBOURHOOD_BUDGET,
            "neighbourhood": NEIGHBOURHOOD,
            "year": 2026,
            "max_per_initiative_cents": 100,
        },
        {"kind": BudgetKind.INITIATIVES_FUND, "neighbourhood": NEIGHBOURHOOD},
        {"kind": BudgetKind.INITIATIVES_FUND, "opening_amount_cents": 0},
    ],
)
def test_a_budget_refuses_to_open_without_what_its_kind_needs(options: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"opening_amount_cents": 1_000, **options}
    with pytest.raises(BudgetError):
        Budget.open(
            budget_id="b-1", municipality="GM0362", opened_by="holder-1", now=NOW, **arguments
        )


@pytest.mark.parametrize("amount", [1000.0, "1000", 10.5, True])
def test_money_in_commands_is_integer_cents_only(amount: object) -> None:
    with pytest.raises(ValidationError):
        commands.OpenNeighbourhoodBudget.model_validate(
            {
                "kind": "neighbourhood_budget",
                "neighbourhood": NEIGHBOURHOOD,
                "year": 2026,
                "opening_amount_cents": amount,
            }
        )
