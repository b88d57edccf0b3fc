"""Properties of the ledger under any sequence of reservations, payments and corrections:
balances always equal the sum of the entries, and no account ever goes below zero."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from services.budgets.domain import payments
from services.budgets.domain.exceptions import BudgetError
from services.budgets.domain.model import (
    Account,
    Balances,
    Budget,
    BudgetKind,
    EntryKind,
    LedgerEntry,
    ReleaseReason,
)
from services.budgets.domain.payments import InitiativePosition

NOW = datetime(2026, 5, 1, tzinfo=UTC)
INITIATIVES = ["i-1", "i-2", "i-3"]

amounts = st.integers(min_value=1, max_value=60_000)
initiatives = st.sampled_from(INITIATIVES)
operations = st.one_of(
    st.tuples(st.just("reserve"), initiatives, amounts),
    st.tuples(st.just("release"), initiatives, amounts),
    st.tuples(st.just("disburse"), initiatives, amounts),
    st.tuples(st.just("spend"), initiatives, amounts),
    st.tuples(st.just("fund"), st.booleans(), amounts),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=40), amounts),
)


def account_sums(entries: list[LedgerEntry]) -> dict[Account, int]:
    """Credits minus debits per account: the plain sum of the entries."""
    sums: dict[Account, int] = defaultdict(int)
    for entry in entries:
        sums[entry.credit_account] += entry.amount_cents
        sums[entry.debit_account] -= entry.amount_cents
    return sums


def position(entries: list[LedgerEntry], initiative_id: str) -> InitiativePosition:
    return InitiativePosition.derive(e for e in entries if e.initiative_id == initiative_id)


def apply(budget: Budget, entries: list[LedgerEntry], operation: tuple[str, object, int]) -> None:
    """One operation through the domain's rules; a refusal appends nothing."""
    kind, target, amount = operation
    balances = Balances.derive(entries)
    entry: LedgerEntry
    try:
        match kind:
            case "reserve":
                assert isinstance(target, str)
                if any(e.kind is EntryKind.RESERVED and e.initiative_id == target for e in entries):
                    return  # reserved at most once per initiative
                entry = budget.reserve(
                    initiative_id=target, amount_cents=amount, balances=balances, now=NOW
                )
            case "release":
                assert isinstance(target, str)
                entry = payments.release(
                    budget,
                    position(entries, target),
                    initiative_id=target,
                    amount_cents=amount,
                    reason=ReleaseReason.UNDERSPEND,
                    now=NOW,
                )
            case "disburse":
                assert isinstance(target, str)
                entry = payments.disburse(
                    budget,
                    position(entries, target),
                    initiative_id=target,
                    amount_cents=amount,
                    now=NOW,
                )
            case "spend":
                assert isinstance(target, str)
                entry = payments.report_spending(
                    budget,
                    position(entries, target),
                    initiative_id=target,
                    cost_line="materiaal",
                    amount_cents=amount,
                    now=NOW,
                )
            case "fund":
                assert isinstance(target, bool)
                entry = payments.change_funding(
                    budget, balances, amount_cents=amount, increase=target, now=NOW, note="raad"
                )
            case "reverse":
                assert isinstance(target, int)
                if target >= len(entries):
                    return
                corrected = entries[target]
                entry = payments.reverse(
                    budget,
                    balances,
                    corrected,
                    already_reversed_cents=sum(
                        e.amount_cents for e in entries if e.corrects_entry_id == corrected.id
                    ),
                    position=(
                        position(entries, corrected.initiative_id)
                        if corrected.initiative_id
                        else None
                    ),
                    amount_cents=amount,
                    now=NOW,
                    note="correctie",
                )
            case _:
                raise AssertionError(kind)
    except BudgetError:
        return
    entries.append(entry.model_copy(update={"id": len(entries) + 1}))


@settings(max_examples=300, deadline=None)
@given(opening=st.integers(min_value=1, max_value=200_000), steps=st.lists(operations, max_size=40))
def test_balances_equal_the_sum_of_entries_and_never_go_below_zero(
    opening: int, steps: list[tuple[str, object, int]]
) -> None:
    budget, opened = Budget.open(
        budget_id="b-1",
        municipality="GM0362",
        kind=BudgetKind.NEIGHBOURHOOD_BUDGET,
        neighbourhood="BU03620001",
        year=2026,
        opening_amount_cents=opening,
        opened_by="holder-1",
        now=NOW,
    )
    entries = [opened.model_copy(update={"id": 1})]

    for step in steps:
        apply(budget, entries, step)

        balances = Balances.derive(entries)
        sums = account_sums(entries)
        assert balances.available_cents == sums[Account.AVAILABLE]
        assert balances.committed_cents == sums[Account.RESERVED]
        assert balances.disbursed_cents == sums[Account.DISBURSED] + sums[Account.SPENT]
        assert balances.spent_cents == sums[Account.SPENT]
        assert balances.funded_cents == -sums[Account.FUNDING]  # money only moves
        assert balances.accounts_never_negative(), balances
        for initiative_id in INITIATIVES:
            mine = position(entries, initiative_id)
            assert min(mine.model_dump().values()) >= 0, (initiative_id, mine)
            assert mine.disbursed_cents <= mine.reserved_cents - mine.released_cents


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(operations, max_size=30))
def test_balances_do_not_depend_on_the_order_entries_are_summed_in(
    steps: list[tuple[str, object, int]],
) -> None:
    budget, opened = Budget.open(
        budget_id="b-1",
        municipality="GM0362",
        kind=BudgetKind.INITIATIVES_FUND,
        opening_amount_cents=100_000,
        opened_by="holder-1",
        now=NOW,
    )
    entries = [opened.model_copy(update={"id": 1})]
    for step in steps:
        apply(budget, entries, step)

    assert Balances.derive(reversed(entries)) == Balances.derive(entries)
