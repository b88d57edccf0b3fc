"""Our counting equals pabutools' on many generated elections, and reads Pabulib files."""

from __future__ import annotations

import json
import random
import time
from fractions import Fraction
from pathlib import Path

import pytest
from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance, parse_pabulib
from pabutools.election import Project as PabuProject
from pabutools.rules import (
    completion_by_rule_combination,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)
from pabutools.tiebreaking import TieBreakingRule

from services.budgets import pabulib_cli
from services.budgets.domain import pabulib
from services.budgets.domain.counting import Election, Project, count, id_order, results
from stack.bench_round import generated_election

# Ties go to the lower cost, then the lower project id: the same rule for both libraries.
LOWER_COST_THEN_ID = TieBreakingRule(lambda _instance, _profile, p: (p.cost, id_order(p.name)))


def generated(seed: int) -> Election:
    rng = random.Random(seed)
    budget = rng.choice([100, 250, 1_000, 1_500])
    projects = [
        # Few distinct costs, so ties in cost (and in votes) happen often.
        Project(str(i), rng.choice([10, 40, 50, 90, 120, 300, 600]) * budget // 1_000 or 1)
        for i in range(1, rng.randint(2, 12) + 1)
    ]
    ballots = [
        [p.id for p in projects if rng.random() < rng.choice([0.15, 0.3, 0.6])]
        for _ in range(rng.randint(1, 40))
    ]
    return Election.of(budget, projects, ballots)


def corner_case(seed: int) -> Election:
    """Small elections built for the corners: one voter, everyone on the same ballot, equal
    costs and equal support (ties), projects nobody wants, a budget that does not divide by
    the voters, projects that cost the whole budget or more, a budget nothing fits in."""
    rng = random.Random(seed)
    budget = rng.choice([1, 7, 100, 999, 1_000, 1_003])
    costs = rng.choice(
        [
            [budget],
            [budget // 3 or 1],
            [1, budget],
            [budget // 2 + 1, budget // 4 or 1, budget * 2],
            [budget // 7 or 1, budget // 5 or 1, budget // 3 or 1],
        ]
    )
    projects = [Project(str(i), rng.choice(costs)) for i in range(1, rng.randint(1, 8) + 1)]
    wanted = rng.sample(projects, rng.randint(1, len(projects)))  # the others: nobody's

    def ballot() -> list[str]:
        return [p.id for p in wanted if rng.random() < 0.5]

    shape = rng.choice(["one voter", "one ballot", "two blocs", "mixed"])
    if shape == "one voter":
        ballots = [ballot() or [wanted[0].id]]
    elif shape == "one ballot":
        ballots = [ballot() or [wanted[0].id]] * rng.randint(2, 30)
    elif shape == "two blocs":
        ballots = [ballot()] * rng.randint(1, 20) + [ballot()] * rng.randint(1, 20)
    else:
        ballots = [ballot() for _ in range(rng.randint(2, 60))]
    return Election.of(budget, projects, ballots)


def with_pabutools(election: Election, rule: str) -> list[str]:
    instance = Instance(budget_limit=election.budget)
    by_id = {p.id: PabuProject(p.id, p.cost) for p in election.projects}
    instance.update(by_id.values())
    profile = ApprovalProfile(
        [
            ApprovalBallot([by_id[i] for i in ballot])
            for ballot, times in election.ballots.items()
            for _ in range(times)
        ],
        instance=instance,
    )
    if rule == "greedy":
        outcome = greedy_utilitarian_welfare(
            instance, profile, sat_class=Cost_Sat, tie_breaking=LOWER_COST_THEN_ID
        )
    else:
        outcome = completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [
                {
                    "sat_class": Cost_Sat,
                    "voter_budget_increment": 1,
                    "tie_breaking": LOWER_COST_THEN_ID,
                },
                {"sat_class": Cost_Sat, "tie_breaking": LOWER_COST_THEN_ID},
            ],
        )
    # pabutools' greedy also funds projects nobody voted for, last, when they still fit; we
    # never do. Being last, they never push a voted-for project out.
    votes = election.votes()
    return sorted((p.name for p in outcome if votes[p.name] > 0), key=id_order)


@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_our_counting_equals_pabutools_on_generated_elections(rule: str) -> None:
    differences = []
    for seed in range(250):
        election = generated(seed)
        ours = sorted(count(election, rule).ids, key=id_order)  # type: ignore[arg-type]
        theirs = with_pabutools(election, rule)
        if ours != theirs:
            differences.append((seed, ours, theirs))
    assert differences == []


@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_our_counting_equals_pabutools_in_the_corners(rule: str) -> None:
    differences = []
    for seed in range(300):
        election = corner_case(seed)
        ours = sorted(count(election, rule).ids, key=id_order)  # type: ignore[arg-type]
        theirs = with_pabutools(election, rule)
        if ours != theirs:
            differences.append((seed, ours, theirs))
    assert differences == []


def test_equal_shares_equals_pabutools_on_a_thousand_ballots() -> None:
    # Many distinct ballots: hundreds of budget classes, and shares that need finer units.
    election = generated_election(1_000, projects=30, seed=5)

    assert sorted(count(election, "mes").ids, key=id_order) == with_pabutools(election, "mes")


def test_equal_shares_equals_pabutools_with_amounts_that_are_not_whole() -> None:
    # Pabulib amounts may have decimals: the common denominator then starts above 1.
    differences = []
    for seed in range(60):
        whole = generated(seed)
        election = Election(
            Fraction(whole.budget) + Fraction(1, 3),
            tuple(Project(p.id, p.cost - Fraction(1, 7 + int(p.id))) for p in whole.projects),
            whole.ballots,
        )
        ours = sorted(count(election, "mes").ids, key=id_order)
        if ours != (theirs := with_pabutools(election, "mes")):
            differences.append((seed, ours, theirs))
    assert differences == []


def test_equal_shares_counts_100_000_ballots_in_seconds() -> None:
    election = generated_election(100_000)
    started = time.process_time()  # CPU time: other work on the machine does not count

    outcome = count(election, "mes")

    assert time.process_time() - started < 30  # about 1.5 s; before, 2,000 ballots took 40 s
    assert outcome.cost <= election.budget and len(outcome.selected) > 10


def test_greedy_skips_what_no_longer_fits_and_breaks_ties_to_the_cheaper_project() -> None:
    election = Election.of(
        100,
        [Project("1", 60), Project("2", 50), Project("3", 30), Project("4", 10), Project("5", 5)],
        [["1", "2"], ["1", "2", "3"], ["3", "4"], ["2"]],
    )

    outcome = count(election, "greedy")

    # 2 (3 votes); then 1 and 3 tie on 2 votes: 3 is cheaper and fits, 1 does not; then 4.
    assert outcome.ids == ["2", "3", "4"] and outcome.cost == 90
    assert [(r.project_id, r.votes, r.funded) for r in results(election, outcome)] == [
        ("2", 3, True),
        ("3", 2, True),
        ("1", 2, False),
        ("4", 1, True),
        ("5", 0, False),
    ]


def test_equal_shares_gives_a_minority_its_proportional_share() -> None:
    # 70% want the two big projects, 30% a project of their own. Greedy gives the majority
    # everything; equal shares gives the minority the part of the budget it brought.
    ballots = [["1", "2"]] * 7 + [["3"]] * 3
    election = Election.of(100, [Project("1", 40), Project("2", 40), Project("3", 30)], ballots)

    assert count(election, "greedy").ids == ["1", "2"]
    assert sorted(count(election, "mes").ids) == ["1", "3"]


def pb_text(election: Election, vote_type: str = "approval") -> str:
    return pabulib.write(
        {
            "description": "test",
            "num_projects": len(election.projects),
            "num_votes": election.voters,
            "budget": election.budget,
            "vote_type": vote_type,
        },
        [{"project_id": p.id, "cost": p.cost} for p in election.projects],
        [sorted(b, key=id_order) for b, times in election.ballots.items() for _ in range(times)],
    )


def test_our_pabulib_files_read_the_same_in_pabutools(tmp_path: Path) -> None:
    election = generated(7)
    file = tmp_path / "round.pb"
    file.write_text(pb_text(election))

    instance, profile = parse_pabulib(str(file))
    again = pabulib.parse(file.read_text()).election()

    assert again == election
    assert int(instance.budget_limit) == election.budget
    assert sorted(p.name for p in instance) == sorted(p.id for p in election.projects)
    assert profile.num_ballots() == election.voters


@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_the_pb_count_command_prints_the_outcome_as_json(
    rule: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    election = generated(11)
    file = tmp_path / "round.pb"
    file.write_text(pb_text(election, "knapsack"))

    status = pabulib_cli.main(["count", "--rule", rule, str(file)])

    printed = json.loads(capsys.readouterr().out)
    assert status == 0
    assert printed == {
        "rule": rule,
        "selected": count(election, rule).ids,  # type: ignore[arg-type]
        "cost": count(election, rule).cost,  # type: ignore[arg-type]
    }
    assert sorted(printed["selected"], key=id_order) == with_pabutools(election, rule)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "META\nkey;value\nbudget;10\nvote_type;ordinal\nPROJECTS\nproject_id;cost\n1;5\n"
            "VOTES\nvoter_id;vote\n1;1\n",
            "ordinal",
        ),
        ("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;5\n", "VOTES"),
        (
            "META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\n1;9\n",
            "unknown project",
        ),
        (
            "META\nkey;value\nbudget;ten\nPROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\n",
            "not an amount",
        ),
    ],
)
def test_the_pb_count_command_explains_files_it_cannot_count(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "bad.pb"
    file.write_text(text)

    status = pabulib_cli.main(["count", "--rule", "mes", str(file)])

    assert status == 2
    assert message in capsys.readouterr().err
