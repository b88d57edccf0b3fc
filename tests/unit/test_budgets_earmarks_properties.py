"""Properties of earmarks under any sequence of earmarking, reservations, releases, payments
and corrections: each earmark's balance is exactly the sum of the ledger entries naming it,
the earmarks and the rest add up to the whole ledger, and nothing ever goes below zero."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from services.budgets.domain import payments
from services.budgets.domain.earmarks import positions, set_earmark
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
OPENING = 200_000
THEMES = ["groen", "jeugd", "sport"]
# Each initiative has a theme, as the initiative-decided event says.
INITIATIVES = {"i-1": "groen", "i-2": "groen", "i-3": "jeugd", "i-4": "cultuur"}

# Round amounts too, so that reservations, earmarks and releases meet exactly.
amounts = st.one_of(
    st.sampled_from([10_000, 30_000, 50_000, 80_000]), st.integers(min_value=1, max_value=90_000)
)
initiatives = st.sampled_from(sorted(INITIATIVES))
operations = st.one_of(
    st.tuples(st.just("earmark"), st.sampled_from(THEMES), st.integers(0, 150_000)),
    st.tuples(st.just("reserve"), initiatives, amounts),
    st.tuples(st.just("release"), initiatives, amounts),
    st.tuples(st.just("disburse"), initiatives, amounts),
    st.tuples(st.just("spend"), initiatives, amounts),
    st.tuples(st.just("fund"), st.booleans(), amounts),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=60), amounts),
)


def initiative_position(entries: list[LedgerEntry], initiative_id: str) -> InitiativePosition:
    return InitiativePosition.derive(e for e in entries if e.initiative_id == initiative_id)


def earmark_of(entries: list[LedgerEntry], initiative_id: str) -> str | None:
    reserved = [e for e in entries if e.initiative_id == initiative_id and e.kind == "reserved"]
    return reserved[0].earmark if reserved else None


def tagged(entry: LedgerEntry, entries: list[LedgerEntry]) -> LedgerEntry:
    assert entry.initiative_id is not None
    return entry.model_copy(update={"earmark": earmark_of(entries, entry.initiative_id)})


def apply(budget: Budget, entries: list[LedgerEntry], operation: tuple[str, object, int]) -> None:
    """One operation through the domain's rules, as the handlers run it; a refusal books nothing."""
    kind, target, amount = operation
    balances = Balances.derive(entries)
    earmarks = positions(entries)
    new: list[LedgerEntry] = []
    try:
        match kind:
            case "earmark":
                assert isinstance(target, str)
                entry = set_earmark(
                    budget,
                    balances,
                    earmarks.get(target),
                    theme=target,
                    amount_cents=amount,
                    now=NOW,
                    recorded_by="holder-1",
                )
                new = [entry] if entry else []
            case "reserve":
                assert isinstance(target, str)
                if any(e.kind is EntryKind.RESERVED and e.initiative_id == target for e in entries):
                    return  # reserved at most once per initiative
                theme = earmarks.get(INITIATIVES[target])
                new = budget.reserve_for_theme(
                    initiative_id=target,
                    amount_cents=amount,
                    balances=balances,
                    earmark=theme.as_theme_earmark() if theme else None,
                    now=NOW,
                )
            case "release":
                assert isinstance(target, str)
                position = initiative_position(entries, target)
                if position.committed_cents == 0:
                    return
                new = payments.release_to_sources(
                    budget,
                    position,
                    initiative_id=target,
                    # More than is left: all that is left, as a release without an amount.
                    amount_cents=min(amount, position.committed_cents),
                    reason=ReleaseReason.UNDERSPEND,
                    earmark=earmark_of(entries, target),
                    now=NOW,
                )
            case "disburse":
                assert isinstance(target, str)
                entry = payments.disburse(
                    budget,
                    initiative_position(entries, target),
                    initiative_id=target,
                    amount_cents=amount,
                    now=NOW,
                )
                new = [tagged(entry, entries)]
            case "spend":
                assert isinstance(target, str)
                entry = payments.report_spending(
                    budget,
                    initiative_position(entries, target),
                    initiative_id=target,
                    cost_line="materiaal",
                    amount_cents=amount,
                    now=NOW,
                )
                new = [tagged(entry, entries)]
            case "fund":
                assert isinstance(target, bool)
                new = [
                    payments.change_funding(
                        budget, balances, amount_cents=amount, increase=target, now=NOW, note="x"
                    )
                ]
            case "reverse":
                assert isinstance(target, int)
                if target >= len(entries):
                    return
                corrected = entries[target]
                remaining = (
                    earmarks[corrected.earmark].remaining_cents
                    if corrected.earmark in earmarks
                    else 0
                )
                new = [
                    payments.reverse(
                        budget,
                        balances,
                        corrected,
                        already_reversed_cents=sum(
                            e.amount_cents for e in entries if e.corrects_entry_id == corrected.id
                        ),
                        position=(
                            initiative_position(entries, corrected.initiative_id)
                            if corrected.initiative_id
                            else None
                        ),
                        amount_cents=amount,
                        now=NOW,
                        note="correction",
                        earmark_remaining_cents=remaining,
                    )
                ]
    except BudgetError:
        return
    for entry in new:
        entries.append(entry.model_copy(update={"id": len(entries) + 1}))


def account_sums(entries: list[LedgerEntry]) -> dict[Account, int]:
    sums: dict[Account, int] = defaultdict(int)
    for entry in entries:
        sums[entry.credit_account] += entry.amount_cents
        sums[entry.debit_account] -= entry.amount_cents
    return sums


@settings(max_examples=300, deadline=None)
@given(st.lists(operations, max_size=40))
def test_earmark_balances_always_sum_to_the_ledger_and_never_go_below_zero(
    sequence: list[tuple[str, object, int]],
) -> None:
    budget, opening = Budget.open(
        budget_id="b-1",
        municipality="GM0362",
        kind=BudgetKind.NEIGHBOURHOOD_BUDGET,
        opening_amount_cents=OPENING,
        opened_by="holder-1",
        now=NOW,
        neighbourhood="BU03620001",
        year=2026,
    )
    entries = [opening.model_copy(update={"id": 1})]
    for operation in sequence:
        apply(budget, entries, operation)
        earmarks = positions(entries)
        ledger = account_sums(entries)
        balances = Balances.derive(entries)

        for theme, earmark in earmarks.items():
            own = account_sums([e for e in entries if e.earmark == theme])
            assert earmark.remaining_cents == own[Account.EARMARKED] >= 0
            assert earmark.committed_cents == own[Account.RESERVED] >= 0
            assert earmark.disbursed_cents >= earmark.spent_cents >= 0
            # An earmark never holds more than was set aside for it: what initiatives give
            # back to it is at most what they drew from it.
            assert 0 <= earmark.remaining_cents <= earmark.earmarked_cents
        # The earmarks hold exactly what the ledger's EARMARKED account holds...
        assert sum(e.remaining_cents for e in earmarks.values()) == ledger[Account.EARMARKED]
        # ...and with the money that is not earmarked they make up the whole budget.
        assert balances.funded_cents == (
            balances.available_cents
            + ledger[Account.EARMARKED]
            + balances.committed_cents
            + balances.disbursed_cents
        )
        assert balances.accounts_never_negative()
        assert sum(e.remaining_cents for e in earmarks.values()) <= balances.funded_cents
        for initiative in INITIATIVES:
            position = initiative_position(entries, initiative)
            assert min(position.committed_cents, position.unaccounted_cents) >= 0
            assert position.spent_cents >= 0
            assert position.from_general_cents >= 0
