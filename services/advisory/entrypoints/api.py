"""HTTP API of the advisory service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from services.advisory import handlers
from services.advisory.domain import commands
from services.advisory.domain.exceptions import AdvisoryError, AlreadyAdvised, NotAMember, NotFound
from services.advisory.domain.model import AdviceRound, Council
from services.advisory.persistence.unit_of_work import AdvisoryUnitOfWork
from shared.auth import Authorize, Principal, Role
from shared.http import Problem

router = APIRouter(prefix="/v1/municipalities/{municipality}", tags=["advisory"])
Id = Annotated[str, Path(max_length=64)]

may_manage = Authorize(Role.CIVIL_SERVANT)
may_advise = Authorize(Role.COUNCIL_MEMBER)
may_read = Authorize(*Role)


def unit_of_work(request: Request) -> AdvisoryUnitOfWork:
    return request.app.state.unit_of_work()


def as_problem(error: AdvisoryError) -> Problem:
    if isinstance(error, NotFound):
        return Problem(404, "Not found", str(error))
    if isinstance(error, NotAMember):
        return Problem(403, "Not a member of this council", str(error))
    if isinstance(error, AlreadyAdvised):
        return Problem(409, "Already advised", str(error))
    return Problem(409, "Not allowed now", str(error))


@router.post("/councils", status_code=201)
async def create_council(
    body: commands.CreateCouncil,
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[AdvisoryUnitOfWork, Depends(unit_of_work)],
    request: Request,
) -> Council:
    """Establish an advisory council: its kind, the area and themes it covers, its period."""
    async with uow:
        return await handlers.create_council(
            body,
            municipality=principal.municipality,
            default_days=request.app.state.settings.default_advice_days,
            uow=uow,
        )


@router.get("/councils")
async def list_councils(
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[AdvisoryUnitOfWork, Depends(unit_of_work)],
) -> list[Council]:
    async with uow:
        return await uow.councils.list(principal.municipality)


@router.post("/councils/{council_id}/members", status_code=201)
async def appoint_member(
    council_id: Id,
    body: commands.AppointMember,
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[AdvisoryUnitOfWork, Depends(unit_of_work)],
) -> Council:
    """Appoint a member (pseudonymous id) with a role; announced as `council member appointed`."""
    try:
        async with uow:
            return await handlers.appoint_member(
                body, municipality=principal.municipality, council_id=council_id, uow=uow
            )
    except AdvisoryError as error:
        raise as_problem(error) from error


@router.delete("/councils/{council_id}/members/{person_id}")
async def dismiss_member(
    council_id: Id,
    person_id: Id,
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[AdvisoryUnitOfWork, Depends(unit_of_work)],
) -> Council:
    """A member leaves the council; announced as `council member left`."""
    try:
        async with uow:
            return await handlers.dismiss_member(
                municipality=principal.municipality,
                council_id=council_id,
                person_id=person_id,
                uow=uow,
            )
    except AdvisoryError as error:
        raise as_problem(error) from error


@router.get("/advice-rounds")
async def list_rounds(
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[AdvisoryUnitOfWork, Depends(unit_of_work)],
    status: Annotated[str | None, Query(pattern="^(open|unrouted|completed)$")] = None,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[AdviceRound]:
    """Advice rounds; `status=unrouted` lists what no council covered, for a civil servant."""
    async with uow:
        if subject_id is not None:
            found = await uow.rounds.for_subject(principal.municipality, "initiative", subject_id)
            return [found] if found and status in (None, found.status) else []
        return await uow.rounds.list(principal.municipality, status)


@router.get("/advice-rounds/{round_id}")
async def get_round(
    round_id: Id,
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[AdvisoryUnitOfWork, Depends(unit_of_work)],
) -> AdviceRound:
    async with uow:
        advice_round = await uow.rounds.get(principal.municipality, round_id)
    if advice_round is None:
        raise Problem(404, "Not found", f"No advice round {round_id}.")
    return advice_round


@router.post("/advice-rounds/{round_id}/requests/{request_id}/advice", status_code=201)
async def give_advice(
    round_id: Id,
    request_id: Id,
    body: commands.GiveAdvice,
    principal: Annotated[Principal, Depends(may_advise)],
    uow: Annotated[AdvisoryUnitOfWork, Depends(unit_of_work)],
) -> AdviceRound:
    """A council member records the council's advice: a position, always with a motivation."""
    try:
        async with uow:
            return await handlers.give_advice(
                body,
                municipality=principal.municipality,
                round_id=round_id,
                request_id=request_id,
                given_by=principal.subject,
                uow=uow,
            )
    except AdvisoryError as error:
        raise as_problem(error) from error
