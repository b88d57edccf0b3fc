"""Counting a participatory budgeting vote: greedy by votes, and the Method of Equal Shares.

Both rules use cost satisfaction (a voter is as satisfied with a project as it costs: pabutools'
``Cost_Sat``), approval-style ballots (a set of projects; knapsack ballots count the same way),
and one tie-break: the lower cost first, then the lower project id. A project nobody voted for
is never funded.

The Method of Equal Shares is completed the way equalshares.net does it: the voters' budgets are
raised by one unit at a time for as long as the outcome stays within the budget and is not yet
exhaustive, then what is left is filled greedily by votes. Each run is counted by
``equal_shares.equal_shares_run`` per distinct ballot and per budget class, in integers scaled
by a common denominator that is refined whenever a share needs it: no rounding anywhere, so the
results equal pabutools' to the project (tests/unit/test_budgets_counting.py compares them on
hundreds of generated elections). Floats only decide in which order candidates are looked at.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from services.budgets.domain.equal_shares import GroupedBallots, equal_shares_run

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


def _grouped(election: Election, supported: Sequence[Project]) -> GroupedBallots:
    """The ballots as project indices; ballots with nothing supported on them drop out."""
    index = {p.id: i for i, p in enumerate(supported)}
    sizes: Counter[tuple[int, ...]] = Counter()
    for ballot, times in election.ballots.items():
        indices = tuple(sorted(index[i] for i in ballot if i in index))
        if indices and times > 0:
            sizes[indices] += times
    return GroupedBallots(list(sizes), list(sizes.values()), len(supported))


def equal_shares(election: Election, *, increment: Money = 1) -> list[Project]:
    """The Method of Equal Shares with add-``increment`` budget increases, completed greedily."""
    voters = election.voters
    votes = election.votes()
    free = [p for p in election.projects if p.cost == 0 and votes[p.id] > 0]
    # In tie-break order, so that the lower index wins a tie in ``equal_shares_run``.
    supported = sorted(
        (p for p in election.projects if p.cost > 0 and votes[p.id] > 0), key=tie_order
    )
    if voters == 0:
        return greedy(election, already=free)
    grouped = _grouped(election, supported)
    costs = [Fraction(p.cost) for p in supported]
    per_voter = Fraction(election.budget) / voters
    outcome = free
    while True:
        funded = equal_shares_run(grouped, costs, per_voter)
        attempt = free + [supported[i] for i in funded]
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
