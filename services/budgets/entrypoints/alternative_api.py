"""HTTP API of the alternative budget: residents draft, co-sign and submit another division of
a neighbourhood budget; a civil servant records the municipal council's decision; anyone in
the municipality follows how an adopted one is carried out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from services.budgets import alternative_handlers
from services.budgets.domain import commands
from services.budgets.domain.alternative import AlternativeBudget, Monitoring
from services.budgets.domain.exceptions import BudgetError
from services.budgets.entrypoints.api import as_problem, unit_of_work
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from shared.auth import MUNICIPALITY_PATTERN, Authorize, Principal, Role
from shared.http import Problem

router = APIRouter(
    prefix="/v1/municipalities/{municipality}/alternative-budgets",
    tags=["alternative budgets"],
)
public = APIRouter(
    prefix="/v1/municipalities/{municipality}/public/alternative-budgets", tags=["open data"]
)
AlternativeId = Annotated[str, Path(max_length=36)]
Municipality = Annotated[str, Path(pattern=MUNICIPALITY_PATTERN)]

may_draft = Authorize(Role.RESIDENT, Role.INITIATOR)
# Only civil servants of the municipality record what its council decided.
may_record = Authorize(Role.CIVIL_SERVANT)
may_read = Authorize(*Role)


async def _run(
    uow: BudgetsUnitOfWork, change: Callable[[], Awaitable[AlternativeBudget]]
) -> AlternativeBudget:
    try:
        async with uow:
            alternative = await change()
            await uow.commit()
    except BudgetError as error:
        raise as_problem(error) from error
    return alternative


@router.post("", status_code=201)
async def draft_alternative_budget(
    body: commands.DraftAlternativeBudget,
    principal: Annotated[Principal, Depends(may_draft)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
    request: Request,
    response: Response,
) -> AlternativeBudget:
    """Draft another division of a neighbourhood budget: an amount per theme, and why."""
    view = await _run(
        uow,
        partial(
            alternative_handlers.draft,
            body,
            municipality=principal.municipality,
            drafter_id=principal.subject,
            uow=uow,
        ),
    )
    response.headers["Location"] = f"{request.url.path}/{view.id}"
    return view


@router.get("")
async def list_alternative_budgets(
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
    budget_id: Annotated[str, Query(max_length=36)],
) -> list[AlternativeBudget]:
    """The alternative budgets drafted for one budget, oldest first."""
    async with uow:
        found = await uow.alternatives.of_budget(principal.municipality, budget_id)
    return found


@router.get("/{alternative_id}")
async def get_alternative_budget(
    alternative_id: AlternativeId,
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> AlternativeBudget:
    """One alternative budget: its lines, co-signatures, status and the council's decision."""
    async with uow:
        alternative = await uow.alternatives.get(principal.municipality, alternative_id)
    if alternative is None:
        raise Problem(
            404, "Alternative budget not found", f"No alternative budget {alternative_id}."
        )
    return alternative


@router.patch("/{alternative_id}")
async def edit_alternative_budget(
    alternative_id: AlternativeId,
    body: commands.EditAlternativeBudget,
    principal: Annotated[Principal, Depends(may_draft)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> AlternativeBudget:
    """The drafter changes the draft; a changed division must be co-signed again."""
    return await _run(
        uow,
        partial(
            alternative_handlers.edit,
            body,
            municipality=principal.municipality,
            alternative_id=alternative_id,
            by=principal.subject,
            uow=uow,
        ),
    )


@router.post("/{alternative_id}/co-signatures", status_code=201)
async def co_sign_alternative_budget(
    alternative_id: AlternativeId,
    principal: Annotated[Principal, Depends(may_draft)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> AlternativeBudget:
    """A resident co-signs the draft (once: signing again changes nothing)."""
    return await _run(
        uow,
        partial(
            alternative_handlers.co_sign,
            municipality=principal.municipality,
            alternative_id=alternative_id,
            resident_id=principal.subject,
            uow=uow,
        ),
    )


@router.post("/{alternative_id}/submission")
async def submit_alternative_budget(
    alternative_id: AlternativeId,
    principal: Annotated[Principal, Depends(may_draft)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> AlternativeBudget:
    """Submit it to the municipal council; its lines must add up to the budget."""
    return await _run(
        uow,
        partial(
            alternative_handlers.submit,
            municipality=principal.municipality,
            alternative_id=alternative_id,
            by=principal.subject,
            uow=uow,
        ),
    )


@router.post("/{alternative_id}/withdrawal")
async def withdraw_alternative_budget(
    alternative_id: AlternativeId,
    principal: Annotated[Principal, Depends(may_draft)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
    body: commands.WithdrawAlternativeBudget | None = None,
) -> AlternativeBudget:
    """The drafter withdraws it, before the council has decided; its co-signers are told,
    with the reason when one is given (the body is optional)."""
    return await _run(
        uow,
        partial(
            alternative_handlers.withdraw,
            municipality=principal.municipality,
            alternative_id=alternative_id,
            by=principal.subject,
            uow=uow,
            reason=body.reason if body else None,
        ),
    )


@router.post("/{alternative_id}/council-decision")
async def record_council_decision(
    alternative_id: AlternativeId,
    body: commands.RecordCouncilDecision,
    principal: Annotated[Principal, Depends(may_record)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> AlternativeBudget:
    """Record the municipal council's decision: adopted wholly, partly, or not (with reasons).

    What the council adopted becomes the budget's earmarks, in the same transaction.
    """
    return await _run(
        uow,
        partial(
            alternative_handlers.record_decision,
            body,
            municipality=principal.municipality,
            alternative_id=alternative_id,
            recorded_by=principal.subject,
            uow=uow,
        ),
    )


@router.get("/{alternative_id}/monitoring")
async def monitor_alternative_budget(
    alternative_id: AlternativeId,
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> Monitoring:
    """Per adopted line: adopted vs reserved, paid and spent (from the ledger) vs remaining."""
    try:
        async with uow:
            return await alternative_handlers.monitoring(
                uow, principal.municipality, alternative_id
            )
    except BudgetError as error:
        raise as_problem(error) from error


@public.get("/{alternative_id}/monitoring")
async def public_monitoring(
    municipality: Municipality,
    alternative_id: AlternativeId,
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> Monitoring:
    """Open to anyone: how an adopted alternative budget is carried out, line by line.

    Amounts and themes only: who drafted or signed it is not in it.
    """
    try:
        async with uow:
            return await alternative_handlers.monitoring(uow, municipality, alternative_id)
    except BudgetError as error:
        raise as_problem(error) from error
