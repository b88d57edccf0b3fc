"""What happens to a reservation after it is made: released, paid out, accounted for, corrected.

Each rule takes the current position (derived from the ledger, under the budget's lock) and
returns the one entry that records the change, or refuses with a message that says why.
No rule lets an account of the budget, or of one initiative within it, go below zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.budgets.domain.exceptions import BudgetError
from services.budgets.domain.model import (
    CORRECTABLE,
    Account,
    Balances,
    Budget,
    EntryKind,
    LedgerEntry,
    Movement,
    ReleaseReason,
    euros,
)


class InvalidPayment(BudgetError):
    """A release, disbursement, spending report or correction the ledger's rules refuse."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


GENERAL_TO_RESERVED = (Account.AVAILABLE, Account.RESERVED)


class InitiativePosition(BaseModel):
    """Where one initiative's money stands within one budget, derived from its entries."""

    model_config = ConfigDict(frozen=True)

    reserved_cents: int = Field(description="Reserved for the initiative.")
    released_cents: int = Field(description="Given back to the budget.")
    committed_cents: int = Field(description="Reserved and neither released nor paid yet.")
    disbursed_cents: int = Field(description="Paid out to the initiative.")
    spent_cents: int = Field(description="Paid out and accounted for with actual costs.")
    unaccounted_cents: int = Field(description="Paid out, not yet accounted for.")
    from_general_cents: int = Field(
        default=0,
        description="Reserved from money that was not earmarked, net of what went back there.",
    )

    @classmethod
    def derive(cls, movements: Iterable[Movement]) -> InitiativePosition:
        movements = list(movements)
        balances = Balances.derive(movements)
        from_general = 0
        for movement in movements:
            if (movement.debit_account, movement.credit_account) == GENERAL_TO_RESERVED:
                from_general += movement.amount_cents
            elif (movement.credit_account, movement.debit_account) == GENERAL_TO_RESERVED:
                from_general -= movement.amount_cents
        return cls(
            from_general_cents=from_general,
            reserved_cents=balances.reserved_cents,
            released_cents=balances.released_cents,
            committed_cents=balances.committed_cents,
            disbursed_cents=balances.disbursed_cents,
            spent_cents=balances.spent_cents,
            unaccounted_cents=balances.disbursed_cents - balances.spent_cents,
        )


def release(
    budget: Budget,
    position: InitiativePosition,
    *,
    initiative_id: str,
    amount_cents: int,
    reason: ReleaseReason,
    now: datetime,
    recorded_by: str | None = None,
    note: str = "",
) -> LedgerEntry:
    """Give (part of) an initiative's unpaid reservation back to the budget."""
    if amount_cents > position.committed_cents:
        raise InvalidPayment(
            "amount_cents",
            f"{euros(amount_cents)} cannot be released: initiative {initiative_id} has "
            f"{euros(position.committed_cents)} reserved and unpaid",
        )
    return LedgerEntry.record(
        EntryKind.RELEASED,
        budget=budget,
        amount_cents=amount_cents,
        at=now,
        initiative_id=initiative_id,
        note=note or f"released: {reason}",
        release_reason=reason,
        recorded_by=recorded_by,
    )


def release_to_sources(
    budget: Budget,
    position: InitiativePosition,
    *,
    initiative_id: str,
    amount_cents: int,
    reason: ReleaseReason,
    earmark: str | None,
    now: datetime,
    recorded_by: str | None = None,
    note: str = "",
) -> list[LedgerEntry]:
    """Give money back to where it came from: the money that is not earmarked first, then
    the theme's earmark, which never gets back more than the initiative drew from it.

    An earmark is for its theme: what an initiative of the theme did not use of the general
    money goes back there first, so the earmark stays spent on what it was meant for.
    """
    general = release(
        budget,
        position,
        initiative_id=initiative_id,
        amount_cents=amount_cents,
        reason=reason,
        now=now,
        recorded_by=recorded_by,
        note=note,
    )
    if earmark is None:
        return [general]
    to_general = min(amount_cents, max(0, position.from_general_cents))
    entries = []
    if to_general:
        entries.append(general.model_copy(update={"amount_cents": to_general, "earmark": earmark}))
    if amount_cents > to_general:
        entries.append(
            general.model_copy(
                update={
                    "amount_cents": amount_cents - to_general,
                    "credit_account": Account.EARMARKED,
                    "earmark": earmark,
                }
            )
        )
    return entries


def disburse(
    budget: Budget,
    position: InitiativePosition,
    *,
    initiative_id: str,
    amount_cents: int,
    now: datetime,
    recorded_by: str | None = None,
    note: str = "",
) -> LedgerEntry:
    """Pay (part of) the reservation out to the initiative; never more than is reserved."""
    if amount_cents > position.committed_cents:
        raise InvalidPayment(
            "amount_cents",
            f"a disbursement of {euros(amount_cents)} is above the reservation: initiative "
            f"{initiative_id} has {euros(position.committed_cents)} reserved and unpaid",
        )
    return LedgerEntry.record(
        EntryKind.DISBURSED,
        budget=budget,
        amount_cents=amount_cents,
        at=now,
        initiative_id=initiative_id,
        note=note or "paid out",
        recorded_by=recorded_by,
    )


def report_spending(
    budget: Budget,
    position: InitiativePosition,
    *,
    initiative_id: str,
    cost_line: str,
    amount_cents: int,
    now: datetime,
    recorded_by: str | None = None,
    note: str = "",
) -> LedgerEntry:
    """Account for money paid out with the actual cost of one cost line.

    Only money that was paid out can be accounted for: actual costs above the payments are
    paid first (up to the reservation), then reported.
    """
    if amount_cents > position.unaccounted_cents:
        raise InvalidPayment(
            "amount_cents",
            f"{euros(amount_cents)} of spending cannot be reported: initiative {initiative_id} "
            f"has {euros(position.unaccounted_cents)} paid out and not yet accounted for",
        )
    return LedgerEntry.record(
        EntryKind.SPENDING_REPORTED,
        budget=budget,
        amount_cents=amount_cents,
        at=now,
        initiative_id=initiative_id,
        note=note or f"actual costs: {cost_line}",
        cost_line=cost_line,
        recorded_by=recorded_by,
    )


def change_funding(
    budget: Budget,
    balances: Balances,
    *,
    amount_cents: int,
    increase: bool,
    now: datetime,
    recorded_by: str | None = None,
    note: str,
) -> LedgerEntry:
    """A correction that adds money to the budget or takes unreserved money out of it."""
    if not increase and amount_cents > balances.available_cents:
        raise InvalidPayment(
            "amount_cents",
            f"{euros(amount_cents)} cannot be taken out of {budget.describe()}: only "
            f"{euros(balances.available_cents)} is not reserved",
        )
    debit, credit = (Account.FUNDING, Account.AVAILABLE)
    if not increase:
        debit, credit = credit, debit
    return LedgerEntry(
        kind=EntryKind.CORRECTION,
        debit_account=debit,
        credit_account=credit,
        amount_cents=amount_cents,
        budget_id=budget.id,
        municipality=budget.municipality,
        at=now,
        note=note,
        recorded_by=recorded_by,
    )


def reverse(
    budget: Budget,
    balances: Balances,
    corrected: LedgerEntry,
    *,
    already_reversed_cents: int,
    position: InitiativePosition | None,
    amount_cents: int,
    now: datetime,
    recorded_by: str | None = None,
    note: str,
    earmark_remaining_cents: int = 0,
) -> LedgerEntry:
    """A correction that undoes (part of) an earlier entry by moving the money back.

    The earlier entry stays in the ledger: history is never rewritten, only added to.
    """
    if corrected.kind not in CORRECTABLE:
        raise InvalidPayment(
            "corrects_entry_id",
            f"a {corrected.kind} entry cannot be corrected; "
            + {
                EntryKind.RESERVED: "release the reservation instead",
                EntryKind.EARMARKED: "set the earmark to another amount instead",
                EntryKind.EARMARK_RELEASED: "set the earmark to another amount instead",
            }.get(corrected.kind, ""),
        )
    left = corrected.amount_cents - already_reversed_cents
    if amount_cents > left:
        raise InvalidPayment(
            "amount_cents",
            f"entry {corrected.id} can be corrected by at most {euros(left)}",
        )
    reversal = LedgerEntry(
        kind=EntryKind.CORRECTION,
        debit_account=corrected.credit_account,
        credit_account=corrected.debit_account,
        amount_cents=amount_cents,
        budget_id=budget.id,
        municipality=budget.municipality,
        initiative_id=corrected.initiative_id,
        at=now,
        note=note,
        corrects_entry_id=corrected.id,
        cost_line=corrected.cost_line,
        recorded_by=recorded_by,
        earmark=corrected.earmark,
    )
    # The money must still be where the earlier entry put it: a payment already accounted
    # for cannot be reversed before its spending report is.
    budget_accounts = balances_accounts(balances)
    if corrected.earmark is not None:  # money given back to an earmark must still be there
        budget_accounts[Account.EARMARKED] = earmark_remaining_cents
    after_budget = _moved(budget_accounts, reversal)
    after_initiative = _moved(position_accounts(position), reversal) if position is not None else {}
    short = [
        account for account, cents in {**after_budget, **after_initiative}.items() if cents < 0
    ]
    if short:
        raise InvalidPayment(
            "amount_cents",
            f"correcting entry {corrected.id} by {euros(amount_cents)} would leave the "
            f"{short[0]} account below zero; correct what followed it first",
        )
    return reversal


def balances_accounts(balances: Balances) -> dict[Account, int]:
    return {
        Account.AVAILABLE: balances.available_cents,
        Account.RESERVED: balances.committed_cents,
        Account.DISBURSED: balances.disbursed_cents - balances.spent_cents,
        Account.SPENT: balances.spent_cents,
    }


def position_accounts(position: InitiativePosition | None) -> dict[Account, int]:
    if position is None:
        return {}
    return {
        Account.RESERVED: position.committed_cents,
        Account.DISBURSED: position.unaccounted_cents,
        Account.SPENT: position.spent_cents,
    }


def _moved(accounts: dict[Account, int], movement: Movement) -> dict[Account, int]:
    after: dict[Account, int] = defaultdict(int, accounts)
    after[movement.debit_account] -= movement.amount_cents
    after[movement.credit_account] += movement.amount_cents
    return {account: after[account] for account in accounts}
