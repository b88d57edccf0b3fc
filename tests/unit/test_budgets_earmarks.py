"""Earmarks per theme: set aside from what is available, drawn first by the theme's
initiatives, closed to other themes, and always derived from the ledger."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.budgets.domain import payments
from services.budgets.domain.earmarks import (
    EarmarkPosition,
    InvalidEarmark,
    positions,
    set_earmark,
    theme_key,
)
from services.budgets.domain.exceptions import BudgetError
from services.budgets.domain.model import (
    Account,
    Allocation,
    AllocationOutcome,
    Balances,
    Budget,
    BudgetKind,
    EntryKind,
    LedgerEntry,
    ReleaseReason,
)
from services.budgets.domain.payments import InitiativePosition

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def buurtbudget(amount: int = 5_000_000) -> tuple[Budget, list[LedgerEntry]]:
    budget, opening = Budget.open(
        budget_id="b-1",
        municipality="GM0362",
        kind=BudgetKind.NEIGHBOURHOOD_BUDGET,
        opening_amount_cents=amount,
        opened_by="holder-1",
        now=NOW,
        neighbourhood="BU03620001",
        year=2026,
    )
    return budget, [opening]


def earmark(budget: Budget, entries: list[LedgerEntry], theme: str, amount: int) -> None:
    entry = set_earmark(
        budget,
        Balances.derive(entries),
        positions(entries).get(theme),
        theme=theme,
        amount_cents=amount,
        now=NOW,
        recorded_by="holder-1",
    )
    if entry is not None:
        entries.append(entry)


def reserve(
    budget: Budget, entries: list[LedgerEntry], initiative: str, theme: str, amount: int
) -> list[LedgerEntry]:
    position = positions(entries).get(theme)
    reserved = budget.reserve_for_theme(
        initiative_id=initiative,
        amount_cents=amount,
        balances=Balances.derive(entries),
        earmark=position.as_theme_earmark() if position else None,
        now=NOW,
    )
    entries.extend(reserved)
    return reserved


def initiative_position(entries: list[LedgerEntry], initiative: str) -> InitiativePosition:
    return InitiativePosition.derive(e for e in entries if e.initiative_id == initiative)


def test_an_earmark_sets_money_aside_for_its_theme_out_of_what_is_available() -> None:
    budget, entries = buurtbudget(5_000_000)

    earmark(budget, entries, "groen", 1_000_000)

    assert (entries[-1].kind, entries[-1].debit_account, entries[-1].credit_account) == (
        EntryKind.EARMARKED,
        Account.AVAILABLE,
        Account.EARMARKED,
    )
    assert entries[-1].earmark == "groen"
    assert Balances.derive(entries).available_cents == 4_000_000
    assert Balances.derive(entries).funded_cents == 5_000_000
    assert positions(entries)["groen"] == EarmarkPosition(
        theme="groen",
        earmarked_cents=1_000_000,
        committed_cents=0,
        disbursed_cents=0,
        spent_cents=0,
        remaining_cents=1_000_000,
    )


def test_the_earmarks_never_add_up_to_more_than_the_budget() -> None:
    budget, entries = buurtbudget(5_000_000)
    earmark(budget, entries, "groen", 3_000_000)

    with pytest.raises(InvalidEarmark) as refused:
        earmark(budget, entries, "jeugd", 2_000_001)

    assert refused.value.field == "amount_cents"
    assert "€20,000.00" in str(refused.value)  # what is left to earmark
    earmark(budget, entries, "jeugd", 2_000_000)
    assert sum(p.earmarked_cents for p in positions(entries).values()) == 5_000_000
    assert Balances.derive(entries).available_cents == 0


def test_an_initiative_of_the_theme_draws_from_its_earmark_first_then_from_the_rest() -> None:
    budget, entries = buurtbudget(5_000_000)
    earmark(budget, entries, "groen", 1_000_000)

    inside = reserve(budget, entries, "i-1", "groen", 600_000)
    beyond = reserve(budget, entries, "i-2", "groen", 700_000)

    assert [(e.debit_account, e.amount_cents, e.earmark) for e in inside] == [
        (Account.EARMARKED, 600_000, "groen")
    ]
    assert [(e.debit_account, e.amount_cents, e.earmark) for e in beyond] == [
        (Account.EARMARKED, 400_000, "groen"),
        (Account.AVAILABLE, 300_000, "groen"),
    ]
    groen = positions(entries)["groen"]
    assert (groen.remaining_cents, groen.committed_cents) == (0, 1_300_000)
    assert Balances.derive(entries).available_cents == 4_000_000 - 300_000
    assert Balances.derive(entries).committed_cents == 1_300_000


def test_earmarked_money_is_not_available_to_other_themes() -> None:
    budget, entries = buurtbudget(1_000_000)
    earmark(budget, entries, "groen", 800_000)

    with pytest.raises(BudgetError, match=r"€2,000\.00 available"):
        reserve(budget, entries, "i-1", "jeugd", 300_000)

    allocation, made = Allocation.decide_for_theme(
        municipality="GM0362",
        initiative_id="i-1",
        funding_source=BudgetKind.NEIGHBOURHOOD_BUDGET,
        neighbourhood="BU03620001",
        requested_cents=300_000,
        decided_at=NOW,
        budget=budget,
        balances=Balances.derive(entries),
        fund=None,
        earmark=None,
        now=NOW,
    )
    assert allocation.outcome is AllocationOutcome.REFUSED
    assert (allocation.shortfall_cents, made) == (100_000, [])

    earmark(budget, entries, "groen", 500_000)  # released from the earmark: now it is
    assert [e.amount_cents for e in reserve(budget, entries, "i-1", "jeugd", 300_000)] == [300_000]
    assert reserve(budget, entries, "i-1b", "jeugd", 1)[0].earmark is None


def test_an_earmark_is_lowered_only_by_what_its_theme_has_not_drawn() -> None:
    budget, entries = buurtbudget(1_000_000)
    earmark(budget, entries, "groen", 500_000)
    reserve(budget, entries, "i-1", "groen", 200_000)

    with pytest.raises(InvalidEarmark, match=r"cannot go below €2,000\.00"):
        earmark(budget, entries, "groen", 199_999)

    earmark(budget, entries, "groen", 200_000)
    assert entries[-1].kind is EntryKind.EARMARK_RELEASED
    assert entries[-1].amount_cents == 300_000
    assert positions(entries)["groen"].remaining_cents == 0
    assert Balances.derive(entries).available_cents == 800_000


def test_setting_an_earmark_to_what_it_is_books_nothing() -> None:
    budget, entries = buurtbudget()
    earmark(budget, entries, "groen", 100_000)
    before = len(entries)

    earmark(budget, entries, "groen", 100_000)

    assert len(entries) == before


def test_released_money_goes_back_to_the_rest_first_and_never_overfills_the_earmark() -> None:
    budget, entries = buurtbudget(1_000_000)
    earmark(budget, entries, "groen", 300_000)
    reserve(budget, entries, "i-1", "groen", 500_000)  # 300k earmark + 200k from the rest

    first = payments.release_to_sources(
        budget,
        initiative_position(entries, "i-1"),
        initiative_id="i-1",
        amount_cents=250_000,
        reason=ReleaseReason.UNDERSPEND,
        earmark="groen",
        now=NOW,
    )
    entries.extend(first)

    assert [(e.credit_account, e.amount_cents) for e in first] == [
        (Account.AVAILABLE, 200_000),
        (Account.EARMARKED, 50_000),
    ]
    assert all(e.earmark == "groen" for e in first)
    rest = payments.release_to_sources(
        budget,
        initiative_position(entries, "i-1"),
        initiative_id="i-1",
        amount_cents=250_000,
        reason=ReleaseReason.WITHDRAWN,
        earmark="groen",
        now=NOW,
    )
    entries.extend(rest)
    assert [(e.credit_account, e.amount_cents) for e in rest] == [(Account.EARMARKED, 250_000)]
    assert positions(entries)["groen"].remaining_cents == 300_000
    assert Balances.derive(entries).available_cents == 700_000
    assert Balances.derive(entries).released_cents == 500_000


def test_an_entry_into_or_out_of_an_earmark_must_name_its_theme() -> None:
    with pytest.raises(ValueError, match="names the earmark's theme"):
        LedgerEntry(
            kind=EntryKind.EARMARKED,
            debit_account=Account.AVAILABLE,
            credit_account=Account.EARMARKED,
            amount_cents=1,
            budget_id="b-1",
            municipality="GM0362",
            at=NOW,
        )


def test_themes_match_whatever_their_case_and_spacing() -> None:
    assert theme_key("  Verkeer   en Veiligheid ") == "verkeer en veiligheid"
