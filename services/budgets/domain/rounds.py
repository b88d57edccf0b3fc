"""Neighbourhood budgeting rounds (buurtbegroten): proposals, feasibility, ballots, counting.

A round moves through its phases in order, each with the date it is planned to start:
proposals are collected, reviewed for feasibility, voted on (one ballot per resident: a new
ballot replaces the old), counted, and then the round is done and its winners monitored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from itertools import pairwise

from pydantic import BaseModel, Field

from services.budgets.domain import pabulib
from services.budgets.domain.counting import Election, Outcome, Project, count, id_order, results
from services.budgets.domain.exceptions import BudgetError
from services.budgets.domain.model import euros


class RoundError(BudgetError):
    """A step the round's rules refuse; ``field`` names the input at fault, if one is."""

    def __init__(self, message: str, *, field: str = "", conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict  # the request is fine, but not in the round's current state


class Phase(StrEnum):
    PROPOSALS = "proposals"
    REVIEW = "review"
    VOTING = "voting"
    COUNTING = "counting"
    DONE = "done"


PHASES = list(Phase)


class BallotKind(StrEnum):
    APPROVAL = "approval"  # choose any number of proposals (up to a maximum, if set)
    KNAPSACK = "knapsack"  # choose proposals that together stay within the budget


class Rule(StrEnum):
    GREEDY = "greedy"
    MES = "mes"


class Verdict(StrEnum):
    PENDING = "pending"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"


class Channel(StrEnum):
    ONLINE = "online"
    PAPER = "paper"


def money_unit(budget_cents: int, proposals: Iterable[Proposal]) -> int:
    """One euro (100 cents) when every amount is in whole euros, else one cent.

    The Method of Equal Shares raises every voter's budget by one unit at a time, and the
    Pabulib export states its amounts in this unit: a recount of the export agrees.
    """
    amounts = [budget_cents, *(p.cost_cents for p in proposals if p.verdict is Verdict.FEASIBLE)]
    return 100 if all(amount % 100 == 0 for amount in amounts) else 1


class Proposal(BaseModel):
    """A proposal of a round, with its cost and the feasibility verdict on it."""

    project_id: str = Field(description="Short id within the round: 1, 2, 3, ...")
    title: str
    cost_cents: int
    verdict: Verdict = Verdict.PENDING
    verdict_reasons: str = ""


class Ballot(BaseModel):
    """One resident's ballot: a pseudonymous voter and the proposals chosen."""

    voter_id: str
    project_ids: list[str]
    channel: Channel
    cast_at: datetime


class ProjectTally(BaseModel):
    project_id: str
    title: str
    cost_cents: int
    votes: int
    funded: bool


class RoundResults(BaseModel):
    """The counted outcome: every feasible proposal's votes and whether it is funded."""

    rule: Rule
    ballots: int
    budget_cents: int
    funded_cost_cents: int
    projects: list[ProjectTally]
    counted_at: datetime


class BudgetingRound(BaseModel):
    """A neighbourhood budgeting round and where it stands."""

    id: str
    municipality: str
    neighbourhood: str
    title: str
    budget_cents: int = Field(description="What the round divides, in euro cents.")
    ballot_kind: BallotKind
    rule: Rule
    max_choices: int | None = Field(
        default=None, description="Approval: most proposals per ballot."
    )
    schedule: dict[Phase, datetime] = Field(description="When each phase is planned to start.")
    phase: Phase = Phase.PROPOSALS
    results: RoundResults | None = None

    @classmethod
    def plan(cls, **facts: object) -> BudgetingRound:
        round_ = cls.model_validate(facts)
        if set(round_.schedule) != set(PHASES):
            raise RoundError("the schedule needs a start for every phase", field="schedule")
        starts = [round_.schedule[phase] for phase in PHASES]
        if any(a >= b for a, b in pairwise(starts)):
            raise RoundError("the phases must start one after the other", field="schedule")
        return round_

    def advance(self, to: Phase, proposals: Sequence[Proposal], now: datetime) -> None:
        """Move to the next phase; not before its planned start, never back, never skipping."""
        if PHASES.index(to) != PHASES.index(self.phase) + 1:
            raise RoundError(
                f"a round in {self.phase} moves on to the next phase only", conflict=True
            )
        if now < self.schedule[to]:
            raise RoundError(
                f"the {to} phase is planned to start at {self.schedule[to].isoformat()}",
                conflict=True,
            )
        if to is Phase.VOTING:
            pending = [p.project_id for p in proposals if p.verdict is Verdict.PENDING]
            if pending:
                raise RoundError(f"proposals {pending} still need a verdict", conflict=True)
            if not any(p.verdict is Verdict.FEASIBLE for p in proposals):
                raise RoundError(
                    "no proposal is feasible: there is nothing to vote on", conflict=True
                )
        self.phase = to

    def check_proposal(self, cost_cents: int) -> None:
        if self.phase is not Phase.PROPOSALS:
            raise RoundError(
                f"proposals are collected in the proposals phase, not in {self.phase}",
                conflict=True,
            )
        if cost_cents > self.budget_cents:
            raise RoundError(
                f"a proposal of {euros(cost_cents)} is more than the round's "
                f"{euros(self.budget_cents)}",
                field="cost_cents",
            )

    def check_verdict(self) -> None:
        if self.phase not in (Phase.PROPOSALS, Phase.REVIEW):
            raise RoundError(
                f"verdicts are given before voting, not in {self.phase}", conflict=True
            )

    def check_ballot(
        self, project_ids: Sequence[str], feasible: Mapping[str, int], now: datetime, field: str
    ) -> None:
        """A ballot is valid only in the voting phase, for feasible proposals, within limits.

        ``feasible`` holds the cost of each feasible proposal, by project id.
        """
        if self.phase is not Phase.VOTING:
            raise RoundError(
                f"ballots are cast in the voting phase, not in {self.phase}", conflict=True
            )
        if now >= self.schedule[Phase.COUNTING]:
            raise RoundError("voting has closed", conflict=True)
        unknown = [i for i in project_ids if i not in feasible]
        if unknown:
            raise RoundError(f"{unknown} are not proposals on the ballot", field=field)
        if len(set(project_ids)) != len(project_ids):
            raise RoundError("each proposal is chosen at most once", field=field)
        if not project_ids:
            raise RoundError("a ballot chooses at least one proposal", field=field)
        if self.max_choices is not None and len(project_ids) > self.max_choices:
            raise RoundError(f"a ballot chooses at most {self.max_choices} proposals", field=field)
        if self.ballot_kind is BallotKind.KNAPSACK:
            cost = sum(feasible[i] for i in project_ids)
            if cost > self.budget_cents:
                raise RoundError(
                    f"the chosen proposals cost {euros(cost)}, more than the budget of "
                    f"{euros(self.budget_cents)}",
                    field=field,
                )

    def election(self, proposals: Sequence[Proposal], ballots: Iterable[Sequence[str]]) -> Election:
        """The vote to count: feasible proposals only, costs in euro cents."""
        feasible = [p for p in proposals if p.verdict is Verdict.FEASIBLE]
        return Election.of(
            self.budget_cents, [Project(p.project_id, p.cost_cents) for p in feasible], ballots
        )

    def count(
        self,
        proposals: Sequence[Proposal],
        ballots: Iterable[Sequence[str]],
        now: datetime,
        rule: Rule | None = None,
    ) -> RoundResults:
        election = self.election(proposals, ballots)
        chosen = rule or self.rule
        increment = money_unit(self.budget_cents, proposals)
        outcome: Outcome = count(election, chosen.value, increment=increment)
        titles = {p.project_id: p.title for p in proposals}
        return RoundResults(
            rule=chosen,
            ballots=election.voters,
            budget_cents=self.budget_cents,
            funded_cost_cents=int(outcome.cost),
            projects=[
                ProjectTally(
                    project_id=r.project_id,
                    title=titles[r.project_id],
                    cost_cents=int(r.cost),
                    votes=r.votes,
                    funded=r.funded,
                )
                for r in results(election, outcome)
            ],
            counted_at=now,
        )


def next_project_id(proposals: Sequence[Proposal]) -> str:
    numbers = [int(p.project_id) for p in proposals if p.project_id.isdigit()]
    return str(max(numbers, default=0) + 1)


def in_id_order(project_ids: Iterable[str]) -> list[str]:
    return sorted(project_ids, key=id_order)


def pabulib_export(
    round_: BudgetingRound,
    proposals: Sequence[Proposal],
    ballots: Sequence[tuple[Sequence[str], str]],
) -> str:
    """The round as an anonymised Pabulib file anyone can recount.

    Voters are numbered in an order that says nothing about who or when; only the channel
    stays. Amounts are in euros when every one is whole, else in cents (META says which), so
    that ``inspraak pb count`` with its default add-one step counts as this service does.
    """
    feasible = [p for p in proposals if p.verdict is Verdict.FEASIBLE]
    unit = money_unit(round_.budget_cents, proposals)
    votes = round_.election(proposals, (choice for choice, _ in ballots)).votes()
    funded = (
        {t.project_id for t in round_.results.projects if t.funded} if round_.results else set()
    )
    ordered = sorted(ballots, key=lambda b: (in_id_order(b[0]), b[1]))
    meta: dict[str, object] = {
        "description": round_.title,
        "country": "Netherlands",
        "unit": round_.neighbourhood,
        "instance": round_.id,
        "num_projects": len(feasible),
        "num_votes": len(ordered),
        "budget": round_.budget_cents // unit,
        "vote_type": round_.ballot_kind.value,
        "rule": "greedy" if round_.rule is Rule.GREEDY else "equalshares/add1",
        "currency": "EUR" if unit == 100 else "EUR cents",
        "date_begin": round_.schedule[Phase.VOTING].date().isoformat(),
        "date_end": round_.schedule[Phase.COUNTING].date().isoformat(),
        "language": "nl",
    }
    if round_.max_choices is not None:
        meta["max_length"] = round_.max_choices
    projects = [
        {
            "project_id": p.project_id,
            "cost": p.cost_cents // unit,
            "votes": votes[p.project_id],
            "name": p.title,
            "selected": int(p.project_id in funded),
        }
        for p in sorted(feasible, key=lambda p: id_order(p.project_id))
    ]
    return pabulib.write(
        meta,
        projects,
        [in_id_order(choice) for choice, _ in ordered],
        ballot_columns={"voting_method": [channel for _, channel in ordered]},
    )
