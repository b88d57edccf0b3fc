"""Counting a participatory budgeting vote: greedy by votes, and the Method of Equal Shares.

Both rules use cost satisfaction (a voter is as satisfied with a project as it costs: pabutools'
``Cost_Sat``), approval-style ballots (a set of projects; knapsack ballots count the same way),
and one tie-break: the lower cost first, then the lower project id. A project nobody voted for
is never funded.

The Method of Equal Shares is completed the way equalshares.net does it: the voters' budgets are
raised by one unit at a time for as long as the outcome stays within the budget and is not yet
exhaustive, then what is left is filled greedily by votes. Arithmetic is exact (fractions), so
the results equal pabutools' to the project.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

Money = int | Fraction
RuleName = Literal["greedy", "mes"]


@dataclass(frozen=True)
class Project:
    id: str
    cost: Money


@dataclass(frozen=True)
class Election:
    """What is counted: the budget, the projects and the ballots (sets of project ids)."""

    budget: Money
    projects: tuple[Project, ...]
    ballots: Counter[frozenset[str]] = field(default_factory=Counter)

    @classmethod
    def of(
        cls, budget: Money, projects: Iterable[Project], ballots: Iterable[Iterable[str]]
    ) -> Election:
        return cls(budget, tuple(projects), Counter(frozenset(ballot) for ballot in ballots))

    @property
    def voters(self) -> int:
        return sum(self.ballots.values())

    def votes(self) -> dict[str, int]:
        counts = dict.fromkeys((p.id for p in self.projects), 0)
        for ballot, times in self.ballots.items():
            for project_id in ballot:
                if project_id in counts:
                    counts[project_id] += times
        return counts


def id_order(project_id: str) -> tuple[int, int, str]:
    """Lower project id first: numerically when the ids are numbers, else alphabetically."""
    if project_id.isdigit():
        return (0, int(project_id), "")
    return (1, 0, project_id)


def tie_order(project: Project) -> tuple[Money, tuple[int, int, str]]:
    return (project.cost, id_order(project.id))


def total_cost(projects: Iterable[Project]) -> Money:
    return sum((p.cost for p in projects), 0)


@dataclass(frozen=True)
class Outcome:
    rule: RuleName
    selected: tuple[Project, ...]

    @property
    def cost(self) -> Money:
        return total_cost(self.selected)

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.selected]


def greedy(election: Election, *, already: Sequence[Project] = ()) -> list[Project]:
    """Most votes first; a project that no longer fits is skipped and the next one tried."""
    votes = election.votes()
    chosen = list(already)
    left = election.budget - total_cost(chosen)
    candidates = [p for p in election.projects if p not in chosen and votes[p.id] > 0]
    for project in sorted(candidates, key=lambda p: (-votes[p.id], *tie_order(p))):
        if project.cost <= left:
            chosen.append(project)
            left -= project.cost
    return chosen


@dataclass
class _Group:
    """Voters who cast the same ballot: they always hold the same budget."""

    ballot: frozenset[str]
    size: int
    budget: Fraction


def _equal_shares_once(
    election: Election, supported: Sequence[Project], per_voter: Fraction
) -> list[Project]:
    """One run of the Method of Equal Shares, every voter starting with ``per_voter``."""
    groups = [_Group(ballot, size, per_voter) for ballot, size in election.ballots.items()]
    supporters = {p.id: [g for g in groups if p.id in g.ballot] for p in supported}
    remaining = set(supported)
    chosen: list[Project] = []
    while remaining:
        best: Fraction | None = None
        tied: list[Project] = []
        for project in list(remaining):
            rho = _affordability(project, supporters[project.id])
            if rho is None:  # its supporters can no longer pay for it
                remaining.discard(project)
                continue
            if best is None or rho < best:
                best, tied = rho, [project]
            elif rho == best:
                tied.append(project)
        if best is None:
            break
        winner = min(tied, key=tie_order)
        chosen.append(winner)
        remaining.discard(winner)
        # Cost satisfaction: each supporter's share is rho times the cost, or all it has left.
        share = best * winner.cost
        for group in supporters[winner.id]:
            group.budget -= min(group.budget, share)
    return chosen


def _affordability(project: Project, groups: Sequence[_Group]) -> Fraction | None:
    """The least rho such that the supporters, each paying min(budget, rho * cost), cover it."""
    cost = Fraction(project.cost)
    if sum(g.budget * g.size for g in groups) < cost:
        return None
    paid = Fraction(0)
    share_holders = sum(g.size for g in groups)
    for group in sorted(groups, key=lambda g: g.budget):
        rho = (cost - paid) / (share_holders * cost)
        if rho * cost <= group.budget:
            return rho
        paid += group.budget * group.size
        share_holders -= group.size
    return None  # unreachable: the supporters together can pay


def equal_shares(election: Election, *, increment: Money = 1) -> list[Project]:
    """The Method of Equal Shares with add-``increment`` budget increases, completed greedily."""
    voters = election.voters
    votes = election.votes()
    free = [p for p in election.projects if p.cost == 0 and votes[p.id] > 0]
    supported = [p for p in election.projects if p.cost > 0 and votes[p.id] > 0]
    if voters == 0:
        return greedy(election, already=free)
    per_voter = Fraction(election.budget) / voters
    outcome = free
    while True:
        attempt = free + _equal_shares_once(election, supported, per_voter)
        spent = total_cost(attempt)
        if spent > election.budget:
            break  # raised too far: the previous outcome stands
        outcome = attempt
        if all(p in attempt or spent + p.cost > election.budget for p in supported):
            break  # exhaustive: nothing else supported would fit
        per_voter += increment
    return greedy(election, already=outcome)


def count(election: Election, rule: RuleName, *, increment: Money = 1) -> Outcome:
    if rule == "greedy":
        return Outcome(rule, tuple(greedy(election)))
    return Outcome(rule, tuple(equal_shares(election, increment=increment)))


@dataclass(frozen=True)
class ProjectResult:
    project_id: str
    cost: Money
    votes: int
    funded: bool


def results(election: Election, outcome: Outcome) -> list[ProjectResult]:
    """Every project with its votes and whether it is funded, most votes first."""
    votes = election.votes()
    funded = set(outcome.ids)
    ordered = sorted(election.projects, key=lambda p: (-votes[p.id], *tie_order(p)))
    return [ProjectResult(p.id, p.cost, votes[p.id], p.id in funded) for p in ordered]
