"""Use cases of neighbourhood budgeting rounds, each in one unit of work the caller commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.budgets import integration
from services.budgets.domain import commands
from services.budgets.domain.rounds import (
    Ballot,
    BudgetingRound,
    Channel,
    Phase,
    Proposal,
    RoundError,
    RoundResults,
    Rule,
    in_id_order,
    next_project_id,
)
from services.budgets.persistence.rounds import RowLock
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from shared import clock

PAPER_PREFIX = "paper:"  # paper ballots' voter ids never collide with residents' ids


def _now() -> datetime:
    return clock.now()


class RoundNotFound(RoundError):
    pass


async def _round(
    uow: BudgetsUnitOfWork,
    municipality: str,
    round_id: str,
    *,
    lock: RowLock | None = RowLock.UPDATE,
) -> BudgetingRound:
    round_ = await uow.rounds.get(municipality, round_id, lock=lock)
    if round_ is None:
        raise RoundNotFound(f"no budgeting round {round_id} in {municipality}")
    return round_


async def plan_round(
    command: commands.PlanRound, *, municipality: str, uow: BudgetsUnitOfWork
) -> BudgetingRound:
    round_ = BudgetingRound.plan(
        id=str(uuid.uuid4()),
        municipality=municipality,
        **command.model_dump(),
    )
    await uow.rounds.save(round_)
    return round_


async def submit_proposal(
    command: commands.SubmitProposal, *, municipality: str, round_id: str, uow: BudgetsUnitOfWork
) -> Proposal:
    round_ = await _round(uow, municipality, round_id)
    round_.check_proposal(command.cost_cents)
    proposal = Proposal(
        project_id=next_project_id(await uow.rounds.proposals(round_id)),
        title=command.title,
        cost_cents=command.cost_cents,
    )
    await uow.rounds.save_proposal(round_id, proposal)
    return proposal


async def judge_proposal(
    command: commands.JudgeProposal,
    *,
    municipality: str,
    round_id: str,
    project_id: str,
    uow: BudgetsUnitOfWork,
) -> Proposal:
    round_ = await _round(uow, municipality, round_id)
    round_.check_verdict()
    proposals = {p.project_id: p for p in await uow.rounds.proposals(round_id)}
    if project_id not in proposals:
        raise RoundNotFound(f"round {round_id} has no proposal {project_id}")
    judged = proposals[project_id].model_copy(
        update={"verdict": command.verdict, "verdict_reasons": command.reasons}
    )
    await uow.rounds.save_proposal(round_id, judged)
    return judged


async def advance_round(
    command: commands.AdvanceRound, *, municipality: str, round_id: str, uow: BudgetsUnitOfWork
) -> BudgetingRound:
    """Move on; entering the counting phase counts the ballots and publishes the results."""
    round_ = await _round(uow, municipality, round_id)
    proposals = await uow.rounds.proposals(round_id)
    previous, now = round_.phase, _now()
    round_.advance(command.phase, proposals, now)
    uow.publish(uow.wrap(integration.round_phase_changed(round_, previous, now)))
    if round_.phase is Phase.COUNTING:
        round_.results = round_.count(proposals, await uow.rounds.choices(round_id), now)
        uow.publish(uow.wrap(integration.round_results_published(round_, round_.results)))
    await uow.rounds.save(round_)
    return round_


async def cast_ballot(
    command: commands.CastBallot,
    *,
    municipality: str,
    round_id: str,
    voter_id: str,
    uow: BudgetsUnitOfWork,
) -> Ballot:
    """One ballot per resident per round: a new ballot replaces the old.

    A ballot leaves the round as it is, so it only share-locks the round's row: ballots of one
    round commit side by side, while a phase change waits for them (and they for it).
    """
    round_ = await _round(uow, municipality, round_id, lock=RowLock.SHARE)
    now = _now()
    round_.check_ballot(
        command.project_ids, await uow.rounds.feasible_costs(round_), now, "project_ids"
    )
    ballot = Ballot(
        voter_id=voter_id,
        project_ids=in_id_order(command.project_ids),
        channel=Channel.ONLINE,
        cast_at=now,
    )
    replaced = await uow.rounds.put_ballots(round_id, [ballot])
    uow.publish(uow.wrap(integration.ballot_cast(round_, ballot, voter_id in replaced)))
    return ballot


async def import_paper_ballots(
    command: commands.ImportPaperBallots,
    *,
    municipality: str,
    round_id: str,
    uow: BudgetsUnitOfWork,
) -> int:
    """Paper ballots in bulk, checked one by one; any wrong ballot refuses the whole batch."""
    round_ = await _round(uow, municipality, round_id, lock=RowLock.SHARE)
    feasible = await uow.rounds.feasible_costs(round_)
    now = _now()
    seen: set[str] = set()
    ballots = []
    for index, paper in enumerate(command.ballots):
        if paper.paper_id in seen:
            raise RoundError(
                f"paper ballot {paper.paper_id} appears twice",
                field=f"ballots.{index}.paper_id",
            )
        seen.add(paper.paper_id)
        round_.check_ballot(paper.project_ids, feasible, now, f"ballots.{index}.project_ids")
        ballots.append(
            Ballot(
                voter_id=PAPER_PREFIX + paper.paper_id,
                project_ids=in_id_order(paper.project_ids),
                channel=Channel.PAPER,
                cast_at=now,
            )
        )
    replaced = await uow.rounds.put_ballots(round_id, ballots)
    for ballot in ballots:
        uow.publish(uow.wrap(integration.ballot_cast(round_, ballot, ballot.voter_id in replaced)))
    return len(ballots)


async def recount(
    uow: BudgetsUnitOfWork, municipality: str, round_id: str, rule: Rule
) -> RoundResults:
    """Count a round's ballots by any rule, e.g. to set both rules' outcomes side by side."""
    round_ = await _round(uow, municipality, round_id, lock=None)
    if round_.phase not in (Phase.COUNTING, Phase.DONE):
        raise RoundError(f"a round is counted after voting, not in {round_.phase}", conflict=True)
    proposals = await uow.rounds.proposals(round_id)
    return round_.count(proposals, await uow.rounds.choices(round_id), _now(), rule)
