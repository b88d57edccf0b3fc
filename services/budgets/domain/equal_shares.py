"""One run of the Method of Equal Shares (cost satisfaction) on grouped ballots, exact and fast.

Counting 100,000 ballots is only affordable because of three observations:

* Voters who cast the same ballot always hold the same budget, so the work is per ballot
  (``GroupedBallots``), never per voter.
* Within one run, a voter's budget depends only on which of the funded projects it paid for,
  so the ballots fall into far fewer *budget classes* (tens of thousands of ballots, a few
  thousand classes at most). A numpy array holds every ballot's class; funding a project maps
  the classes of its supporting ballots to the classes their budgets drop to, with exact
  arithmetic once per class and array operations per ballot. An affordability counts a
  project's supporters per class (``bincount``) and then walks the classes, poorest first,
  only up to the first one that can pay an equal share.
* Budgets only shrink during a run, so a project's last affordability is a lower bound for
  its next one: a project whose bound is already worse than the best found this round is not
  recomputed (pabutools does the same).

It stays exact: every amount is an integer multiple of ``1 / scale`` (a Python integer, no
bound); when a share does not divide evenly, the scale (and with it every budget and cost) is
multiplied so that it does. numpy only ever holds class numbers and voter counts, which are
whole numbers (counts summed as float64 are exact below 2**53 voters).
Affordabilities are kept as integer fractions and compared by cross-multiplication, so ties
are real ties and are broken like pabutools breaks them: the lowest project index wins, and
the caller numbers the projects in its tie-break order. Floats only choose the order in which
projects are looked at, never which one is funded.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import gcd, lcm

import numpy as np

EXHAUSTED = 0  # the class of voters with nothing left; never counted as supporters


class GroupedBallots:
    """Distinct ballots (tuples of project indices) with how many voters cast each."""

    def __init__(self, ballots: Sequence[Sequence[int]], sizes: Sequence[int], projects: int):
        supporters: list[list[int]] = [[] for _ in range(projects)]
        self.voters = [0] * projects
        for group, ballot in enumerate(ballots):
            for project in ballot:
                supporters[project].append(group)
                self.voters[project] += sizes[group]
        self.groups = len(ballots)
        # Floats, as numpy's bincount weights; whole numbers, so sums stay exact below 2**53.
        weights = np.asarray(sizes, dtype=np.float64)
        self.supporters = [np.asarray(groups, dtype=np.intp) for groups in supporters]
        self.supporter_sizes = [weights[groups] for groups in self.supporters]


class _Run:
    """The state of one run: the budget classes, and the class of every ballot.

    Classes are numbered in order of their budget (0 is the exhausted class), so a project's
    supporters come out of ``numpy`` poorest first, without sorting.
    """

    def __init__(self, grouped: GroupedBallots, costs: Sequence[Fraction], per_voter: Fraction):
        self.grouped = grouped
        scale = lcm(per_voter.denominator, *(cost.denominator for cost in costs))
        self.costs = [cost.numerator * (scale // cost.denominator) for cost in costs]
        # class -> budget, in units of 1 / scale, increasing
        self.budgets = [0, per_voter.numerator * (scale // per_voter.denominator)]
        self.group_class = np.ones(grouped.groups, dtype=np.intp)

    def supporters_by_class(self, project: int) -> tuple[list[int], list[int]]:
        """The classes (poorest first) of the project's supporters with money left, and how
        many voters are in each."""
        classes = self.group_class[self.grouped.supporters[project]]
        voters = np.bincount(classes, self.grouped.supporter_sizes[project], minlength=1)
        voters[EXHAUSTED] = 0
        present = np.flatnonzero(voters)
        return present.tolist(), voters[present].astype(np.int64).tolist()

    def affordability(self, project: int) -> tuple[int, int, int] | None:
        """(rho numerator, rho denominator, share-holders), rho = share / cost; None: unaffordable.

        The supporters, poorest first, pay all they have while that is less than an equal
        share of what is still missing; the others (``holders``) each pay that share. Whether
        a class pays all it has only gets truer for the richer classes after it, so the scan
        stops at the first class that can pay the share; past the richest, they cannot pay.
        """
        budgets, cost = self.budgets, self.costs[project]
        classes, voters = self.supporters_by_class(project)
        missing, holders = cost, sum(voters)
        for cls, count in zip(classes, voters, strict=True):
            budget = budgets[cls]
            if missing <= budget * holders:
                return missing, holders * cost, holders
            missing -= budget * count
            holders -= count
        return None

    def fund(self, project: int, missing: int, holders: int) -> None:
        """Every supporter pays ``missing / holders``, or all it has when that is less."""
        factor = holders // gcd(missing, holders)  # > 1: the share is no whole number of units
        if factor > 1:
            self.costs = [cost * factor for cost in self.costs]
        share = missing * factor // holders
        members = self.grouped.supporters[project]
        before = self.group_class[members]
        budgets = self.budgets
        paid: list[int] = []  # budgets of the new classes, already in the finer units
        after = np.zeros(len(budgets), dtype=np.intp)  # class before paying -> after
        for cls in np.unique(before).tolist():
            left = budgets[cls] * factor - share
            if left > 0:
                after[cls] = len(budgets) + len(paid)
                paid.append(left)
        self.group_class[members] = after[before]
        self._renumber([budget * factor for budget in budgets] + paid)

    def _renumber(self, budgets: list[int]) -> None:
        """Drop classes nobody is in any more and number the rest in order of budget again.

        Two classes may hold the same budget; that costs a little time, never correctness."""
        alive = np.bincount(self.group_class, minlength=len(budgets)).nonzero()[0].tolist()
        if EXHAUSTED not in alive:
            alive.insert(0, EXHAUSTED)
        # Two sorted runs (the classes that did not pay, then those that did): a linear merge.
        alive.sort(key=budgets.__getitem__)
        renumbered = np.zeros(len(budgets), dtype=np.intp)
        renumbered[alive] = np.arange(len(alive))
        self.group_class = renumbered[self.group_class]
        self.budgets = [budgets[cls] for cls in alive]


def equal_shares_run(
    grouped: GroupedBallots, costs: Sequence[Fraction], per_voter: Fraction
) -> list[int]:
    """The projects (indices, in funding order) one run funds, each voter starting with
    ``per_voter``. Every project must cost more than zero; ties go to the lower index."""
    run = _Run(grouped, costs, per_voter)
    remaining = {project for project, voters in enumerate(grouped.voters) if voters}
    # rho = share / cost; with everyone able to pay it is 1 / supporters, a lower bound after.
    bound = {project: (1, grouped.voters[project]) for project in remaining}
    funded: list[int] = []
    while remaining:
        best: tuple[int, int, int] | None = None
        best_project = -1
        for project in sorted(remaining, key=lambda p: bound[p][0] / bound[p][1]):
            low_num, low_den = bound[project]
            if best is not None and low_num * best[1] > best[0] * low_den:
                continue  # cannot beat (or tie) the best of this round
            rho = run.affordability(project)
            if rho is None:
                remaining.discard(project)
                continue
            bound[project] = rho[:2]
            if best is None:
                best, best_project = rho, project
                continue
            left, right = rho[0] * best[1], best[0] * rho[1]
            if left < right or (left == right and project < best_project):
                best, best_project = rho, project
        if best is None:
            break
        funded.append(best_project)
        remaining.discard(best_project)
        run.fund(best_project, best[0], best[2])
    return funded
