"""HTTP API of the initiatives service: requests become commands, queries read state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from services.initiatives import handlers
from services.initiatives.domain import commands
from services.initiatives.domain.exceptions import (
    InitiativeError,
    InitiativeNotFound,
    UnknownInitiativeType,
)
from services.initiatives.domain.model import Initiative, InitiativeType
from services.initiatives.persistence.unit_of_work import InitiativesUnitOfWork
from shared.auth import Authorize, Principal, Role
from shared.http import Problem

router = APIRouter(prefix="/v1/municipalities/{municipality}", tags=["initiatives"])
InitiativeId = Annotated[str, Path(max_length=36)]

may_submit = Authorize(Role.RESIDENT, Role.INITIATOR, Role.SYSTEM)
may_configure = Authorize(Role.CIVIL_SERVANT)
may_decide = Authorize(Role.BUDGET_HOLDER)
may_read = Authorize(*Role)


def unit_of_work(request: Request) -> InitiativesUnitOfWork:
    return request.app.state.unit_of_work()


def as_problem(error: InitiativeError) -> Problem:
    if isinstance(error, InitiativeNotFound):
        return Problem(404, "Initiative not found", str(error))
    if isinstance(error, UnknownInitiativeType):
        return Problem(
            422,
            "Unknown initiative type",
            str(error),
            errors=[{"field": "initiative_type", "message": str(error)}],
        )
    return Problem(409, "Not allowed now", str(error))


@router.put("/initiative-types/{code}", status_code=200)
async def define_initiative_type(
    code: Annotated[str, Path(pattern=r"^[a-z0-9-]{2,40}$")],
    body: commands.DefineInitiativeType,
    principal: Annotated[Principal, Depends(may_configure)],
    uow: Annotated[InitiativesUnitOfWork, Depends(unit_of_work)],
) -> InitiativeType:
    """Create or change an initiative type of the municipality (civil servants)."""
    if body.code != code:
        raise Problem(
            422,
            "Code mismatch",
            "The body's code must equal the path's code.",
            errors=[{"field": "code", "message": "differs from the path"}],
        )
    async with uow:
        return await handlers.define_initiative_type(body, principal.municipality, uow)


@router.get("/initiative-types")
async def list_initiative_types(
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[InitiativesUnitOfWork, Depends(unit_of_work)],
) -> list[InitiativeType]:
    async with uow:
        return await uow.types.list(principal.municipality)


@router.post("/initiatives", status_code=201)
async def submit_initiative(
    body: commands.SubmitInitiative,
    principal: Annotated[Principal, Depends(may_submit)],
    uow: Annotated[InitiativesUnitOfWork, Depends(unit_of_work)],
) -> Initiative:
    """Submit a neighbourhood initiative; the caller becomes its initiator."""
    try:
        async with uow:
            return await handlers.submit_initiative(
                body,
                municipality=principal.municipality,
                initiator_id=principal.subject,
                uow=uow,
            )
    except InitiativeError as error:
        raise as_problem(error) from error


@router.post("/initiatives/{initiative_id}/decision")
async def decide_initiative(
    initiative_id: InitiativeId,
    body: commands.DecideInitiative,
    principal: Annotated[Principal, Depends(may_decide)],
    uow: Annotated[InitiativesUnitOfWork, Depends(unit_of_work)],
) -> Initiative:
    """The budget holder decides, "yes, unless": a rejection states its reasons."""
    try:
        async with uow:
            return await handlers.decide_initiative(
                body,
                municipality=principal.municipality,
                initiative_id=initiative_id,
                decided_by=principal.subject,
                uow=uow,
            )
    except InitiativeError as error:
        raise as_problem(error) from error


@router.get("/initiatives/{initiative_id}")
async def get_initiative(
    initiative_id: InitiativeId,
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[InitiativesUnitOfWork, Depends(unit_of_work)],
) -> Initiative:
    async with uow:
        initiative = await uow.initiatives.get(principal.municipality, initiative_id)
    if initiative is None:
        raise Problem(404, "Initiative not found", f"No initiative {initiative_id}.")
    return initiative


@router.get("/initiatives")
async def list_initiatives(
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[InitiativesUnitOfWork, Depends(unit_of_work)],
    status: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Initiative]:
    async with uow:
        return await uow.initiatives.list(
            principal.municipality, status=status, limit=limit, offset=offset
        )
