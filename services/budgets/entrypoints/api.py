"""HTTP API of the budgets service: requests become commands, queries read the ledger."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, PlainTextResponse

from services.budgets import handlers, queries
from services.budgets.domain import commands
from services.budgets.domain.earmarks import THEME_PATTERN, EarmarkPosition
from services.budgets.domain.exceptions import (
    AllocationNotFound,
    AlternativeBudgetNotFound,
    BudgetAlreadyExists,
    BudgetError,
    BudgetNotFound,
    InvalidField,
    InvalidTransition,
    NotAllowedForCaller,
)
from services.budgets.domain.model import Allocation, Balances, Budget, BudgetKind, LedgerEntry
from services.budgets.domain.payments import InvalidPayment
from services.budgets.domain.report import InitiativeMoney, MoneyReport, as_csv
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from shared.auth import MUNICIPALITY_PATTERN, Authorize, Principal, Role
from shared.http import PROBLEM_JSON, Problem

router = APIRouter(prefix="/v1/municipalities/{municipality}", tags=["budgets"])
BudgetId = Annotated[str, Path(max_length=36)]
InitiativeId = Annotated[str, Path(max_length=200)]
ThemePath = Annotated[str, Path(min_length=2, max_length=60, pattern=THEME_PATTERN)]

may_manage = Authorize(Role.BUDGET_HOLDER, Role.CIVIL_SERVANT)
may_read = Authorize(*Role)


class BudgetStatement(Budget):
    """A budget with its balances, derived from its ledger entries."""

    balances: Balances


class StateConflict(Problem):
    """409 that says where the thing stands and what may be done now."""

    def __init__(self, error: InvalidTransition) -> None:
        super().__init__(409, "Not allowed in this state", str(error))
        self.current_state = error.current
        self.allowed_actions = error.allowed

    def response(self, instance: str) -> JSONResponse:
        body = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            "current_state": self.current_state,
            "allowed_actions": self.allowed_actions,
        }
        return JSONResponse(jsonable_encoder(body), self.status, media_type=PROBLEM_JSON)


def unit_of_work(request: Request) -> BudgetsUnitOfWork:
    return request.app.state.unit_of_work()


def as_problem(error: BudgetError) -> Problem:
    match error:
        case BudgetAlreadyExists():
            return Problem(409, "Budget already exists", str(error))
        case BudgetNotFound():
            return Problem(404, "Budget not found", str(error))
        case AllocationNotFound():
            return Problem(404, "Allocation not found", str(error))
        case AlternativeBudgetNotFound():
            return Problem(404, "Alternative budget not found", str(error))
        case InvalidTransition():
            return StateConflict(error)
        case NotAllowedForCaller():
            return Problem(403, "Forbidden", str(error))
        case InvalidPayment():
            field_error = {"field": error.field, "message": str(error), "type": "ledger"}
            return Problem(422, "Refused by the ledger", str(error), errors=[field_error])
        case InvalidField():
            field_error = {"field": error.field, "message": str(error), "type": "budgets"}
            return Problem(422, "Refused by the budget's rules", str(error), errors=[field_error])
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


@router.post("/allocations/{initiative_id}/disbursements", status_code=201)
async def disburse_funds(
    initiative_id: InitiativeId,
    body: commands.DisburseFunds,
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> InitiativeMoney:
    """Pay part of an initiative's reservation out; never more than is reserved and unpaid."""
    return await _book(
        uow,
        principal.municipality,
        initiative_id,
        partial(
            handlers.disburse_funds,
            body,
            municipality=principal.municipality,
            initiative_id=initiative_id,
            recorded_by=principal.subject,
            uow=uow,
        ),
    )


@router.post("/allocations/{initiative_id}/spending", status_code=201)
async def report_spending(
    initiative_id: InitiativeId,
    body: commands.ReportSpending,
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> InitiativeMoney:
    """Account for money paid out with the actual costs of one cost line."""
    return await _book(
        uow,
        principal.municipality,
        initiative_id,
        partial(
            handlers.report_spending,
            body,
            municipality=principal.municipality,
            initiative_id=initiative_id,
            recorded_by=principal.subject,
            uow=uow,
        ),
    )


@router.post("/allocations/{initiative_id}/releases", status_code=201)
async def release_funds(
    initiative_id: InitiativeId,
    body: commands.ReleaseFunds,
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> InitiativeMoney:
    """Give (part of) a reservation back to the budget: withdrawn, expired or underspend."""
    return await _book(
        uow,
        principal.municipality,
        initiative_id,
        partial(
            handlers.release_funds,
            body,
            municipality=principal.municipality,
            initiative_id=initiative_id,
            recorded_by=principal.subject,
            uow=uow,
        ),
    )


@router.put("/allocations/{initiative_id}/cost-plan")
async def plan_costs(
    initiative_id: InitiativeId,
    body: commands.PlanCosts,
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> InitiativeMoney:
    """Record an initiative's cost plan (it replaces the earlier one): planned per cost line."""
    return await _book(
        uow,
        principal.municipality,
        initiative_id,
        partial(
            handlers.plan_costs,
            body,
            municipality=principal.municipality,
            initiative_id=initiative_id,
            uow=uow,
        ),
    )


@router.get("/allocations/{initiative_id}/money")
async def get_initiative_money(
    initiative_id: InitiativeId,
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> InitiativeMoney:
    """Follow one initiative's money: granted, paid, accounted for, planned against actual."""
    async with uow:
        money = await queries.money_of_initiative(uow, principal.municipality, initiative_id)
    if money is None:
        raise Problem(404, "Allocation not found", f"No money reserved for {initiative_id}.")
    return money


@router.post("/budgets/{budget_id}/corrections", status_code=201)
async def correct_ledger(
    budget_id: BudgetId,
    body: commands.CorrectLedger,
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> LedgerEntry:
    """Correct a budget's ledger with a new entry; earlier entries are never changed."""
    try:
        async with uow:
            entry = await handlers.correct_ledger(
                body,
                municipality=principal.municipality,
                budget_id=budget_id,
                recorded_by=principal.subject,
                uow=uow,
            )
            await uow.commit()
    except BudgetError as error:
        raise as_problem(error) from error
    return entry


@router.put("/budgets/{budget_id}/earmarks/{theme}")
async def set_earmark(
    budget_id: BudgetId,
    theme: ThemePath,
    body: commands.SetEarmark,
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> EarmarkPosition:
    """Earmark part of a budget for a theme; initiatives of the theme draw from it first.

    The earmark becomes the amount given: raising it takes money that is neither reserved nor
    earmarked; 0 gives back all that initiatives of the theme have not drawn.
    """
    try:
        async with uow:
            earmark = await handlers.set_earmark(
                body,
                municipality=principal.municipality,
                budget_id=budget_id,
                theme=theme,
                recorded_by=principal.subject,
                uow=uow,
            )
            await uow.commit()
    except BudgetError as error:
        raise as_problem(error) from error
    return earmark


@router.get("/budgets/{budget_id}/earmarks")
async def list_earmarks(
    budget_id: BudgetId,
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> list[EarmarkPosition]:
    """A budget's earmarks per theme, derived from its ledger."""
    async with uow:
        budget = await _budget(uow, principal.municipality, budget_id)
        earmarks = await uow.ledger.earmarks(budget.id)
    return sorted(earmarks.values(), key=lambda earmark: earmark.theme)


async def _book(
    uow: BudgetsUnitOfWork,
    municipality: str,
    initiative_id: str,
    change: Callable[[], Awaitable[object]],
) -> InitiativeMoney:
    """Run one change to an initiative's money, commit, and answer with where it stands."""
    try:
        async with uow:
            await change()
            await uow.commit()
            money = await queries.money_of_initiative(uow, municipality, initiative_id)
    except BudgetError as error:
        raise as_problem(error) from error
    assert money is not None
    return money


public = APIRouter(prefix="/v1/municipalities/{municipality}/public", tags=["open data"])
Municipality = Annotated[str, Path(pattern=MUNICIPALITY_PATTERN)]
Year = Annotated[int | None, Query(ge=2000, le=2100)]
Neighbourhood = Annotated[str | None, Query(pattern=commands.NEIGHBOURHOOD)]


@public.get("/money")
async def public_money_report(
    municipality: Municipality,
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
    year: Year = None,
    neighbourhood: Neighbourhood = None,
) -> MoneyReport:
    """Follow the money, open to anyone: per budget, neighbourhood and initiative."""
    async with uow:
        return await queries.report(uow, municipality, year=year, neighbourhood=neighbourhood)


@public.get("/money.csv", response_class=PlainTextResponse)
async def public_money_csv(
    municipality: Municipality,
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
    year: Year = None,
    neighbourhood: Neighbourhood = None,
) -> Response:
    """The money report as open data (CSV): a row per budget, initiative and cost line."""
    async with uow:
        money = await queries.report(uow, municipality, year=year, neighbourhood=neighbourhood)
    return Response(
        as_csv(money),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{municipality}-money.csv"'},
    )


@public.get("/money.json")
async def public_money_json(
    municipality: Municipality,
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
    year: Year = None,
    neighbourhood: Neighbourhood = None,
) -> Response:
    """The money report as open data (JSON), to download."""
    async with uow:
        money = await queries.report(uow, municipality, year=year, neighbourhood=neighbourhood)
    return Response(
        money.model_dump_json(indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{municipality}-money.json"'},
    )
