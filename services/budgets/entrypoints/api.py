"""HTTP API of the budgets service: requests become commands, queries read the ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from services.budgets import handlers
from services.budgets.domain import commands
from services.budgets.domain.exceptions import BudgetAlreadyExists, BudgetError
from services.budgets.domain.model import Allocation, Balances, Budget, BudgetKind, LedgerEntry
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from shared.auth import Authorize, Principal, Role
from shared.http import Problem

router = APIRouter(prefix="/v1/municipalities/{municipality}", tags=["budgets"])
BudgetId = Annotated[str, Path(max_length=36)]
InitiativeId = Annotated[str, Path(max_length=200)]

may_manage = Authorize(Role.BUDGET_HOLDER, Role.CIVIL_SERVANT)
may_read = Authorize(*Role)


class BudgetStatement(Budget):
    """A budget with its balances, derived from its ledger entries."""

    balances: Balances


def unit_of_work(request: Request) -> BudgetsUnitOfWork:
    return request.app.state.unit_of_work()


def as_problem(error: BudgetError) -> Problem:
    if isinstance(error, BudgetAlreadyExists):
        return Problem(409, "Budget already exists", str(error))
    return Problem(422, "Invalid budget", str(error))


@router.post("/budgets", status_code=201)
async def open_budget(
    body: Annotated[commands.OpenBudget, Body()],
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
    request: Request,
    response: Response,
) -> BudgetStatement:
    """Open a neighbourhood budget for a year, or the municipality's initiatives fund."""
    try:
        async with uow:
            budget, balances = await handlers.open_budget(
                body, municipality=principal.municipality, opened_by=principal.subject, uow=uow
            )
    except BudgetError as error:
        raise as_problem(error) from error
    response.headers["Location"] = f"{request.url.path}/{budget.id}"
    return BudgetStatement(**budget.model_dump(), balances=balances)


@router.get("/budgets")
async def list_budgets(
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
    kind: BudgetKind | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    neighbourhood: Annotated[str | None, Query(pattern=commands.NEIGHBOURHOOD)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[BudgetStatement]:
    """The municipality's budgets, each with its balances: follow the money."""
    async with uow:
        budgets = await uow.budgets.list(
            principal.municipality,
            kind=kind,
            year=year,
            neighbourhood=neighbourhood,
            limit=limit,
            offset=offset,
        )
        balances = await uow.ledger.balances_of([budget.id for budget in budgets])
    return [BudgetStatement(**b.model_dump(), balances=balances[b.id]) for b in budgets]


async def _budget(uow: BudgetsUnitOfWork, municipality: str, budget_id: str) -> Budget:
    budget = await uow.budgets.get(municipality, budget_id)
    if budget is None:
        raise Problem(404, "Budget not found", f"No budget {budget_id} in {municipality}.")
    return budget


@router.get("/budgets/{budget_id}")
async def get_budget(
    budget_id: BudgetId,
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> BudgetStatement:
    """One budget with its balances: opened, reserved, released, disbursed, available."""
    async with uow:
        budget = await _budget(uow, principal.municipality, budget_id)
        balances = await uow.ledger.balances(budget.id)
    return BudgetStatement(**budget.model_dump(), balances=balances)


@router.get("/budgets/{budget_id}/entries")
async def list_ledger_entries(
    budget_id: BudgetId,
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[LedgerEntry]:
    """A budget's ledger, oldest entry first."""
    async with uow:
        budget = await _budget(uow, principal.municipality, budget_id)
        return await uow.ledger.entries(budget.id, limit=limit, offset=offset)


@router.get("/allocations/{initiative_id}")
async def get_allocation(
    initiative_id: InitiativeId,
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> Allocation:
    """What was done with an approved initiative's request for money, and why."""
    async with uow:
        allocation = await uow.allocations.get(principal.municipality, initiative_id)
    if allocation is None:
        raise Problem(404, "Allocation not found", f"No allocation for initiative {initiative_id}.")
    return allocation
