"""Read models of the budgets service: follow the money, derived from the ledger on request."""

from __future__ import annotations

from services.budgets.domain.model import Allocation
from services.budgets.domain.report import (
    InitiativeMoney,
    MoneyReport,
    initiative_money,
    money_report,
)
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from shared import clock

MAX_BUDGETS = 10_000


async def money_of_initiatives(
    uow: BudgetsUnitOfWork, municipality: str, allocations: list[Allocation]
) -> list[InitiativeMoney]:
    ids = [allocation.initiative_id for allocation in allocations]
    budget_ids = sorted({a.budget_id for a in allocations if a.budget_id is not None})
    positions = await uow.ledger.positions(budget_ids)
    plans = await uow.cost_plans.lines(municipality, ids)
    actual = await uow.ledger.spending_by_cost_line(municipality, ids)
    money = []
    for allocation in allocations:
        assert allocation.budget_id is not None
        position = positions.get((allocation.budget_id, allocation.initiative_id))
        if position is None:  # allocated without a ledger entry: an approved request for 0
            continue
        spent = {
            line: cents
            for (initiative, line), cents in actual.items()
            if initiative == allocation.initiative_id
        }
        money.append(
            initiative_money(allocation, position, plans.get(allocation.initiative_id, []), spent)
        )
    return money


async def money_of_initiative(
    uow: BudgetsUnitOfWork, municipality: str, initiative_id: str
) -> InitiativeMoney | None:
    allocation = await uow.allocations.get(municipality, initiative_id)
    if allocation is None or not allocation.is_reserved:
        return None
    found = await money_of_initiatives(uow, municipality, [allocation])
    return found[0] if found else None


async def report(
    uow: BudgetsUnitOfWork,
    municipality: str,
    *,
    year: int | None = None,
    neighbourhood: str | None = None,
) -> MoneyReport:
    """The municipality's money report, optionally for one year or one neighbourhood.

    The initiatives fund is always in: it serves every neighbourhood and every year.
    """
    budgets = await uow.budgets.list(municipality, limit=MAX_BUDGETS)
    budgets = [
        b
        for b in budgets
        if b.neighbourhood is None
        or ((year is None or b.year == year) and neighbourhood in {None, b.neighbourhood})
    ]
    balances = await uow.ledger.balances_of([b.id for b in budgets])
    allocations = await uow.allocations.reserved_from(municipality, [b.id for b in budgets])
    if neighbourhood is not None:
        allocations = [a for a in allocations if a.neighbourhood == neighbourhood]
    initiatives = await money_of_initiatives(uow, municipality, allocations)
    earmarks = await uow.ledger.earmarks_of([b.id for b in budgets])
    return money_report(municipality, budgets, balances, initiatives, clock.now(), earmarks)
