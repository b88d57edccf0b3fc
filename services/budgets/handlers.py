"""Use cases of the budgets service. Each runs in one unit of work."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from services.budgets import integration
from services.budgets.domain import commands, earmarks, payments
from services.budgets.domain.earmarks import EarmarkPosition, theme_key
from services.budgets.domain.exceptions import (
    AllocationNotFound,
    BudgetAlreadyExists,
    BudgetNotFound,
)
from services.budgets.domain.model import (
    FUND_SCOPE,
    Allocation,
    Balances,
    Budget,
    BudgetKind,
    FundPosition,
    LedgerEntry,
    ReleaseReason,
    ThemeEarmark,
    budget_year,
    euros,
    neighbourhood_scope,
)
from services.budgets.domain.payments import InitiativePosition
from services.budgets.integration import contract_events
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from shared import clock
from shared.contracts.envelope import Envelope

log = logging.getLogger(__name__)


def _now() -> datetime:
    return clock.now()


async def open_budget(
    command: commands.OpenNeighbourhoodBudget | commands.OpenInitiativesFund,
    *,
    municipality: str,
    opened_by: str,
    uow: BudgetsUnitOfWork,
) -> tuple[Budget, Balances]:
    """Open a budget with its opening amount as the ledger's first entry."""
    neighbourhood: str | None
    ceiling: int | None
    match command:
        case commands.OpenNeighbourhoodBudget():
            neighbourhood, ceiling = command.neighbourhood, None
        case commands.OpenInitiativesFund():
            neighbourhood, ceiling = None, command.max_per_initiative_cents
    budget, opening = Budget.open(
        budget_id=str(uuid.uuid4()),
        municipality=municipality,
        kind=command.kind,
        opening_amount_cents=command.opening_amount_cents,
        neighbourhood=neighbourhood,
        year=command.year,
        max_per_initiative_cents=ceiling,
        opened_by=opened_by,
        now=_now(),
    )
    if await uow.budgets.find(municipality, budget.scope) is not None:
        raise BudgetAlreadyExists(f"municipality {municipality} already has {budget.describe()}")
    uow.budgets.add(budget)
    uow.ledger.append(opening)
    uow.publish(uow.wrap(integration.budget_opened(budget, opening)))
    try:
        await uow.commit()
    except IntegrityError as error:  # another request opened the same budget just now
        raise BudgetAlreadyExists(
            f"municipality {municipality} already has {budget.describe()}"
        ) from error
    return budget, Balances.derive([opening])


async def allocate_funds(
    command: commands.AllocateFunds, *, cause: Envelope | None, uow: BudgetsUnitOfWork
) -> Allocation:
    """Reserve an approved initiative's money, or refuse and say why and by how much.

    Runs inside a consumer's batch transaction: the caller commits, not this handler.
    An initiative is reserved at most once, whichever event asks.
    """
    municipality, initiative_id = command.municipality, command.initiative_id
    if command.funding_source is BudgetKind.INITIATIVES_FUND:
        scope = FUND_SCOPE
    else:
        scope = neighbourhood_scope(command.neighbourhood, budget_year(command.decided_at))
    # The budget's row lock serialises every reservation from it: the balance derived below
    # stays true until this transaction appends its entry and commits.
    budget = await uow.budgets.find(municipality, scope, lock=True)
    existing = await uow.allocations.get(municipality, initiative_id, lock=True)
    if existing is not None and existing.is_reserved:
        log.info("initiative %s already has money reserved; nothing to do", initiative_id)
        return existing
    balances = await uow.ledger.balances(budget.id) if budget else Balances.derive([])
    earmark = await _earmark_for(uow, budget, command.theme)
    earmarked = earmark.remaining_cents if earmark else 0
    fund = None
    if command.funding_source is BudgetKind.NEIGHBOURHOOD_BUDGET and (
        budget is None or not budget.can_cover(command.requested_cents, balances, earmarked)
    ):
        fund = await _fund_position(uow, municipality)
    allocation, entries = Allocation.decide_for_theme(
        municipality=municipality,
        initiative_id=initiative_id,
        funding_source=command.funding_source,
        neighbourhood=command.neighbourhood,
        requested_cents=command.requested_cents,
        decided_at=command.decided_at,
        budget=budget,
        balances=balances,
        fund=fund,
        earmark=earmark,
        now=_now(),
    )
    for entry in entries:
        uow.ledger.append(entry)
    await uow.allocations.save(allocation)
    for data in contract_events(allocation):
        uow.publish(uow.wrap(data, cause))
    allocation.pending_events.clear()
    return allocation


async def _earmark_for(
    uow: BudgetsUnitOfWork, budget: Budget | None, theme: str | None
) -> ThemeEarmark | None:
    """The budget's earmark for the initiative's theme, if it has one."""
    if budget is None or not theme:
        return None
    position = await uow.ledger.earmark(budget.id, theme_key(theme))
    return position.as_theme_earmark() if position is not None else None


async def _fund_position(uow: BudgetsUnitOfWork, municipality: str) -> FundPosition | None:
    fund = await uow.budgets.find(municipality, FUND_SCOPE)
    if fund is None:
        return None
    return FundPosition(fund, await uow.ledger.balances(fund.id))


async def _reserved_allocation(
    uow: BudgetsUnitOfWork, municipality: str, initiative_id: str
) -> tuple[Allocation, Budget]:
    """The initiative's allocation and its budget, locked: payments from it are serialised."""
    allocation = await uow.allocations.get(municipality, initiative_id)
    if allocation is None or not allocation.is_reserved or allocation.budget_id is None:
        raise AllocationNotFound(f"initiative {initiative_id} has no money reserved")
    budget = await uow.budgets.get(municipality, allocation.budget_id, lock=True)
    assert budget is not None  # an allocation's budget is never removed
    return allocation, budget


async def release_funds(
    command: commands.ReleaseFunds,
    *,
    municipality: str,
    initiative_id: str,
    recorded_by: str | None,
    uow: BudgetsUnitOfWork,
    cause: Envelope | None = None,
) -> InitiativePosition:
    """Give (part of) a reservation back; without an amount, all of it that is unpaid.

    Does not commit: the API and the consumers commit the unit of work themselves.
    """
    _, budget = await _reserved_allocation(uow, municipality, initiative_id)
    position = await uow.ledger.position(budget.id, initiative_id)
    amount = position.committed_cents if command.amount_cents is None else command.amount_cents
    if amount == 0:
        return position  # nothing left to release: releasing again changes nothing
    entries = payments.release_to_sources(
        budget,
        position,
        initiative_id=initiative_id,
        amount_cents=amount,
        reason=command.reason,
        earmark=await uow.ledger.earmark_of_initiative(budget.id, initiative_id),
        now=_now(),
        recorded_by=recorded_by,
        note=command.note,
    )
    return await _book(uow, budget, entries, cause)


async def disburse_funds(
    command: commands.DisburseFunds,
    *,
    municipality: str,
    initiative_id: str,
    recorded_by: str,
    uow: BudgetsUnitOfWork,
) -> InitiativePosition:
    """Pay part of the reservation out; never more than is reserved and unpaid."""
    _, budget = await _reserved_allocation(uow, municipality, initiative_id)
    position = await uow.ledger.position(budget.id, initiative_id)
    entry = payments.disburse(
        budget,
        position,
        initiative_id=initiative_id,
        amount_cents=command.amount_cents,
        now=_now(),
        recorded_by=recorded_by,
        note=command.note,
    )
    return await _book(uow, budget, [await _tagged(uow, entry)], None)


async def report_spending(
    command: commands.ReportSpending,
    *,
    municipality: str,
    initiative_id: str,
    recorded_by: str,
    uow: BudgetsUnitOfWork,
) -> InitiativePosition:
    """Account for money paid out with the actual costs of one cost line."""
    _, budget = await _reserved_allocation(uow, municipality, initiative_id)
    position = await uow.ledger.position(budget.id, initiative_id)
    entry = payments.report_spending(
        budget,
        position,
        initiative_id=initiative_id,
        cost_line=command.cost_line,
        amount_cents=command.amount_cents,
        now=_now(),
        recorded_by=recorded_by,
        note=command.note,
    )
    plan = dict((await uow.cost_plans.lines(municipality, [initiative_id])).get(initiative_id, []))
    return await _book(
        uow, budget, [await _tagged(uow, entry)], None, planned_cents=plan.get(command.cost_line)
    )


async def plan_costs(
    command: commands.PlanCosts, *, municipality: str, initiative_id: str, uow: BudgetsUnitOfWork
) -> list[commands.PlannedCostLine]:
    """Record an initiative's cost plan; its lines add up to at most what was reserved."""
    allocation, _ = await _reserved_allocation(uow, municipality, initiative_id)
    names = [line.cost_line for line in command.lines]
    if len(set(names)) != len(names):
        raise payments.InvalidPayment("lines", "every cost line is named once")
    planned = sum(line.planned_cents for line in command.lines)
    if planned > allocation.amount_cents:
        raise payments.InvalidPayment(
            "lines",
            f"the plan adds up to {euros(planned)}, more than the {euros(allocation.amount_cents)} "
            "reserved",
        )
    await uow.cost_plans.replace(
        municipality,
        initiative_id,
        [(line.cost_line, line.planned_cents) for line in command.lines],
    )
    return list(command.lines)


async def correct_ledger(
    command: commands.CorrectLedger,
    *,
    municipality: str,
    budget_id: str,
    recorded_by: str,
    uow: BudgetsUnitOfWork,
) -> LedgerEntry:
    """Correct a budget's ledger with a new entry; the entries before it stay as they were."""
    budget = await uow.budgets.get(municipality, budget_id, lock=True)
    if budget is None:
        raise BudgetNotFound(f"no budget {budget_id} in {municipality}")
    balances = await uow.ledger.balances(budget.id)
    if (command.corrects_entry_id is None) == (command.increase_funding is None):
        raise payments.InvalidPayment(
            "corrects_entry_id",
            "give either corrects_entry_id (to reverse an entry) or increase_funding",
        )
    if command.corrects_entry_id is None:
        assert command.increase_funding is not None
        entry = payments.change_funding(
            budget,
            balances,
            amount_cents=command.amount_cents,
            increase=command.increase_funding,
            now=_now(),
            recorded_by=recorded_by,
            note=command.note,
        )
    else:
        corrected = await uow.ledger.entry(budget.id, command.corrects_entry_id)
        if corrected is None:
            raise payments.InvalidPayment(
                "corrects_entry_id", f"budget {budget_id} has no entry {command.corrects_entry_id}"
            )
        position = (
            await uow.ledger.position(budget.id, corrected.initiative_id)
            if corrected.initiative_id
            else None
        )
        earmark_remaining = 0
        if corrected.earmark is not None:
            current = await uow.ledger.earmark(budget.id, corrected.earmark)
            earmark_remaining = current.remaining_cents if current else 0
        entry = payments.reverse(
            budget,
            balances,
            corrected,
            earmark_remaining_cents=earmark_remaining,
            already_reversed_cents=await uow.ledger.reversed_cents(command.corrects_entry_id),
            position=position,
            amount_cents=command.amount_cents,
            now=_now(),
            recorded_by=recorded_by,
            note=command.note,
        )
    uow.ledger.append(entry)
    return entry


async def _tagged(uow: BudgetsUnitOfWork, entry: LedgerEntry) -> LedgerEntry:
    """The entry naming the earmark its initiative was reserved under, if any."""
    assert entry.initiative_id is not None
    earmark = await uow.ledger.earmark_of_initiative(entry.budget_id, entry.initiative_id)
    return entry.model_copy(update={"earmark": earmark}) if earmark else entry


async def _book(
    uow: BudgetsUnitOfWork,
    budget: Budget,
    entries: list[LedgerEntry],
    cause: Envelope | None,
    *,
    planned_cents: int | None = None,
) -> InitiativePosition:
    """Append the entries of one change and publish what it means for the initiative.

    One change is two entries when money goes back partly to an earmark: one event says so.
    """
    for entry in entries:
        uow.ledger.append(entry)
    entry = entries[0].model_copy(update={"amount_cents": sum(e.amount_cents for e in entries)})
    assert entry.initiative_id is not None
    position = await uow.ledger.position(budget.id, entry.initiative_id)
    balances = await uow.ledger.balances(budget.id)
    event = integration.ledger_event(entry, position, balances, planned_cents=planned_cents)
    uow.publish(uow.wrap(event, cause))
    return position


async def release_remaining(
    municipality: str, initiative_id: str, *, cause: Envelope | None, uow: BudgetsUnitOfWork
) -> InitiativePosition | None:
    """A closed initiative gives back what it was reserved and not paid.

    Underspend when something was paid out, withdrawn when nothing was. An initiative
    without a reservation has nothing to give back.
    """
    allocation = await uow.allocations.get(municipality, initiative_id)
    if allocation is None or not allocation.is_reserved or allocation.budget_id is None:
        return None
    budget = await uow.budgets.get(municipality, allocation.budget_id, lock=True)
    assert budget is not None
    position = await uow.ledger.position(budget.id, initiative_id)
    reason = ReleaseReason.UNDERSPEND if position.disbursed_cents else ReleaseReason.WITHDRAWN
    return await release_funds(
        commands.ReleaseFunds(reason=reason),
        municipality=municipality,
        initiative_id=initiative_id,
        recorded_by=None,
        uow=uow,
        cause=cause,
    )


async def set_earmark(
    command: commands.SetEarmark,
    *,
    municipality: str,
    budget_id: str,
    theme: str,
    recorded_by: str,
    uow: BudgetsUnitOfWork,
    alternative_budget_id: str | None = None,
) -> EarmarkPosition:
    """Make a budget's earmark for a theme ``command.amount_cents``; does not commit."""
    budget = await uow.budgets.get(municipality, budget_id, lock=True)
    if budget is None:
        raise BudgetNotFound(f"no budget {budget_id} in {municipality}")
    theme = earmarks.checked_theme(theme, "theme")
    balances = await uow.ledger.balances(budget.id)
    before = await uow.ledger.earmark(budget.id, theme)
    now = _now()
    entry = earmarks.set_earmark(
        budget,
        balances,
        before,
        theme=theme,
        amount_cents=command.amount_cents,
        now=now,
        recorded_by=recorded_by,
        note=command.note,
    )
    if entry is None:  # already that amount: setting it again changes nothing
        assert before is not None
        return before
    uow.ledger.append(entry)
    after = await uow.ledger.earmark(budget.id, theme)
    assert after is not None
    event = integration.earmark_set(
        budget,
        after,
        previous_cents=before.earmarked_cents if before else 0,
        balances=await uow.ledger.balances(budget.id),
        alternative_budget_id=alternative_budget_id,
        at=now,
    )
    uow.publish(uow.wrap(event))
    return after
