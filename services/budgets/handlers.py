"""Use cases of the budgets service. Each runs in one unit of work."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from services.budgets.domain import commands
from services.budgets.domain.exceptions import BudgetAlreadyExists
from services.budgets.domain.model import (
    FUND_SCOPE,
    Allocation,
    Balances,
    Budget,
    BudgetKind,
    FundPosition,
    budget_year,
    neighbourhood_scope,
)
from services.budgets.integration import contract_events
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from shared.contracts.envelope import Envelope

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


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
    fund = None
    if command.funding_source is BudgetKind.NEIGHBOURHOOD_BUDGET and (
        budget is None or not budget.can_cover(command.requested_cents, balances)
    ):
        fund = await _fund_position(uow, municipality)
    allocation, entry = Allocation.decide(
        municipality=municipality,
        initiative_id=initiative_id,
        funding_source=command.funding_source,
        neighbourhood=command.neighbourhood,
        requested_cents=command.requested_cents,
        decided_at=command.decided_at,
        budget=budget,
        balances=balances,
        fund=fund,
        now=_now(),
    )
    if entry is not None:
        uow.ledger.append(entry)
    await uow.allocations.save(allocation)
    for data in contract_events(allocation):
        uow.publish(uow.wrap(data, cause))
    allocation.pending_events.clear()
    return allocation


async def _fund_position(uow: BudgetsUnitOfWork, municipality: str) -> FundPosition | None:
    fund = await uow.budgets.find(municipality, FUND_SCOPE)
    if fund is None:
        return None
    return FundPosition(fund, await uow.ledger.balances(fund.id))
