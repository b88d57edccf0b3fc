"""HTTP API of neighbourhood budgeting rounds: plan, propose, judge, vote, count, publish."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from services.budgets import round_handlers
from services.budgets.domain import commands
from services.budgets.domain.rounds import (
    Ballot,
    BudgetingRound,
    Phase,
    Proposal,
    RoundError,
    RoundResults,
    Rule,
    pabulib_export,
)
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from shared.auth import MUNICIPALITY_PATTERN, Authorize, Principal, Role
from shared.http import Problem

router = APIRouter(prefix="/v1/municipalities/{municipality}/rounds", tags=["budgeting rounds"])
public = APIRouter(prefix="/v1/municipalities/{municipality}/public/rounds", tags=["open data"])
RoundId = Annotated[str, Path(max_length=36)]
ProjectId = Annotated[str, Path(max_length=20)]
Municipality = Annotated[str, Path(pattern=MUNICIPALITY_PATTERN)]

may_manage = Authorize(Role.BUDGET_HOLDER, Role.CIVIL_SERVANT)
may_propose = Authorize(Role.RESIDENT, Role.INITIATOR, Role.CIVIL_SERVANT, Role.BUDGET_HOLDER)
may_vote = Authorize(Role.RESIDENT, Role.INITIATOR)
may_read = Authorize(*Role)
T = TypeVar("T")


class RoundView(BudgetingRound):
    """A round with its proposals and how many ballots it holds."""

    proposals: list[Proposal]
    ballots_cast: int


class PaperImport(BaseModel):
    imported: int


def unit_of_work(request: Request) -> BudgetsUnitOfWork:
    return request.app.state.unit_of_work()


def as_problem(error: RoundError) -> Problem:
    if isinstance(error, round_handlers.RoundNotFound):
        return Problem(404, "Not found", str(error))
    if error.conflict:
        return Problem(409, "Not in this phase", str(error))
    errors = (
        [{"field": error.field, "message": str(error), "type": "round"}] if error.field else None
    )
    return Problem(422, "Refused by the round's rules", str(error), errors=errors)


async def _run(uow: BudgetsUnitOfWork, change: Callable[[], Awaitable[T]]) -> T:
    try:
        async with uow:
            result = await change()
            await uow.commit()
    except RoundError as error:
        raise as_problem(error) from error
    return result


async def _view(uow: BudgetsUnitOfWork, municipality: str, round_id: str) -> RoundView:
    async with uow:
        round_ = await uow.rounds.get(municipality, round_id)
        if round_ is None:
            raise Problem(404, "Not found", f"No budgeting round {round_id} in {municipality}.")
        return RoundView(
            **round_.model_dump(),
            proposals=await uow.rounds.proposals(round_id),
            ballots_cast=await uow.rounds.ballot_count(round_id),
        )


@router.post("", status_code=201)
async def plan_round(
    body: commands.PlanRound,
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
    response: Response,
    request: Request,
) -> BudgetingRound:
    """Plan a neighbourhood budgeting round (buurtbegroten) with the dates of its phases."""
    round_ = await _run(
        uow, partial(round_handlers.plan_round, body, municipality=principal.municipality, uow=uow)
    )
    response.headers["Location"] = f"{request.url.path}/{round_.id}"
    return round_


@router.get("")
async def list_rounds(
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> list[BudgetingRound]:
    """The municipality's budgeting rounds."""
    async with uow:
        return await uow.rounds.of_municipality(principal.municipality)


@router.get("/{round_id}")
async def get_round(
    round_id: RoundId,
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> RoundView:
    """A round: its phase and dates, its proposals with their verdicts, ballots cast."""
    return await _view(uow, principal.municipality, round_id)


@router.post("/{round_id}/proposals", status_code=201)
async def submit_proposal(
    round_id: RoundId,
    body: commands.SubmitProposal,
    principal: Annotated[Principal, Depends(may_propose)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> Proposal:
    """Propose something for the round, in its proposals phase."""
    return await _run(
        uow,
        partial(
            round_handlers.submit_proposal,
            body,
            municipality=principal.municipality,
            round_id=round_id,
            uow=uow,
        ),
    )


@router.put("/{round_id}/proposals/{project_id}/verdict")
async def judge_proposal(
    round_id: RoundId,
    project_id: ProjectId,
    body: commands.JudgeProposal,
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> Proposal:
    """Give the feasibility verdict on a proposal, with reasons."""
    return await _run(
        uow,
        partial(
            round_handlers.judge_proposal,
            body,
            municipality=principal.municipality,
            round_id=round_id,
            project_id=project_id,
            uow=uow,
        ),
    )


@router.post("/{round_id}/phase")
async def advance_round(
    round_id: RoundId,
    body: commands.AdvanceRound,
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> BudgetingRound:
    """Move the round on to its next phase; entering counting counts and publishes results."""
    return await _run(
        uow,
        partial(
            round_handlers.advance_round,
            body,
            municipality=principal.municipality,
            round_id=round_id,
            uow=uow,
        ),
    )


@router.put("/{round_id}/ballot")
async def cast_ballot(
    round_id: RoundId,
    body: commands.CastBallot,
    principal: Annotated[Principal, Depends(may_vote)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> Ballot:
    """Cast your ballot; casting again replaces it. Only in the voting phase."""
    return await _run(
        uow,
        partial(
            round_handlers.cast_ballot,
            body,
            municipality=principal.municipality,
            round_id=round_id,
            voter_id=principal.subject,
            uow=uow,
        ),
    )


@router.post("/{round_id}/paper-ballots", status_code=201)
async def import_paper_ballots(
    round_id: RoundId,
    body: commands.ImportPaperBallots,
    principal: Annotated[Principal, Depends(may_manage)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> PaperImport:
    """Enter paper ballots in bulk: all of them, or none if one is wrong."""
    imported = await _run(
        uow,
        partial(
            round_handlers.import_paper_ballots,
            body,
            municipality=principal.municipality,
            round_id=round_id,
            uow=uow,
        ),
    )
    return PaperImport(imported=imported)


async def _results(
    uow: BudgetsUnitOfWork, municipality: str, round_id: str, rule: Rule | None
) -> RoundResults:
    round_ = await _view(uow, municipality, round_id)
    if round_.results is None:
        raise Problem(409, "Not counted yet", f"Round {round_id} is in its {round_.phase} phase.")
    if rule is None or rule is round_.results.rule:
        return round_.results
    try:
        async with uow:
            return await round_handlers.recount(uow, municipality, round_id, rule)
    except RoundError as error:
        raise as_problem(error) from error


@router.get("/{round_id}/results")
async def get_results(
    round_id: RoundId,
    principal: Annotated[Principal, Depends(may_read)],
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
    rule: Annotated[Rule | None, Query(description="Count by another rule, to compare.")] = None,
) -> RoundResults:
    """Every proposal's votes and whether it is funded."""
    return await _results(uow, principal.municipality, round_id, rule)


@public.get("/{round_id}/results")
async def public_results(
    municipality: Municipality,
    round_id: RoundId,
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
    rule: Annotated[Rule | None, Query(description="Count by another rule, to compare.")] = None,
) -> RoundResults:
    """A counted round's results, open to anyone."""
    return await _results(uow, municipality, round_id, rule)


@public.get("/{round_id}/pabulib.pb", response_class=Response)
async def public_pabulib(
    municipality: Municipality,
    round_id: RoundId,
    uow: Annotated[BudgetsUnitOfWork, Depends(unit_of_work)],
) -> Response:
    """A counted round as an anonymised Pabulib file, so anyone can recount it."""
    round_ = await _view(uow, municipality, round_id)
    if round_.phase not in (Phase.COUNTING, Phase.DONE):
        raise Problem(409, "Not counted yet", f"Round {round_id} is in its {round_.phase} phase.")
    async with uow:
        ballots = await uow.rounds.ballot_channels(round_id)
    text = pabulib_export(round_, round_.proposals, ballots)
    headers: dict[str, Any] = {"Content-Disposition": f'attachment; filename="{round_id}.pb"'}
    return Response(text, media_type="text/plain; charset=utf-8", headers=headers)
