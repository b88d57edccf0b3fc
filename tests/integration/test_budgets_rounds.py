"""Neighbourhood budgeting rounds through the API, on SQLite: from proposals to published results.

The round's clock is the handlers' clock, set by each test: phases start on their planned dates.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pabutools.election import parse_pabulib
from sqlalchemy import select

from services.budgets import pabulib_cli, round_handlers
from services.budgets.domain import pabulib
from shared.auth import Role
from shared.contracts import budgets as contract
from shared.contracts.envelope import Envelope, parse_record
from shared.http import PROBLEM_JSON
from shared.messaging.outbox import decode_headers
from shared.testing.helpers import token
from tests.integration.budgets_support import api_client, budgets_app

ROUNDS = "/v1/municipalities/GM0362/rounds"
PUBLIC = "/v1/municipalities/GM0362/public/rounds"
STAFF = token(Role.CIVIL_SERVANT, subject="ambtenaar-1")
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SCHEDULE = {
    "proposals": START,
    "review": START + timedelta(days=14),
    "voting": START + timedelta(days=28),
    "counting": START + timedelta(days=42),
    "done": START + timedelta(days=49),
}


class Clock:
    def __init__(self) -> None:
        self.now = START

    def at(self, phase: str, days: int = 0) -> None:
        self.now = SCHEDULE[phase] + timedelta(days=days)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(round_handlers, "_now", lambda: clock.now)
    return clock


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    async with budgets_app(tmp_path) as started:
        yield started


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as http:
        yield http


def resident(number: int) -> dict[str, str]:
    return token(Role.RESIDENT, subject=f"bewoner-{number}")


async def plan(client: httpx.AsyncClient, **changes: Any) -> str:
    body = {
        "neighbourhood": "BU03620001",
        "title": "Buurtbegroting Oranjebuurt 2026",
        "budget_cents": 10_000_00,
        "ballot_kind": "approval",
        "rule": "mes",
        "schedule": {phase: start.isoformat() for phase, start in SCHEDULE.items()},
        **changes,
    }
    response = await client.post(ROUNDS, json=body, headers=STAFF)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def to_voting(
    client: httpx.AsyncClient, clock: Clock, costs: list[int], infeasible: set[int] = frozenset()
) -> str:
    """A round with proposals of these costs (in euros), judged, and open for voting."""
    round_id = await plan(client)
    for number, euros in enumerate(costs, start=1):
        proposed = await client.post(
            f"{ROUNDS}/{round_id}/proposals",
            json={"title": f"Voorstel {number}", "cost_cents": euros * 100},
            headers=resident(number),
        )
        assert proposed.json()["project_id"] == str(number)
    clock.at("review")
    await advance(client, round_id, "review")
    for number in range(1, len(costs) + 1):
        verdict = "infeasible" if number in infeasible else "feasible"
        judged = await client.put(
            f"{ROUNDS}/{round_id}/proposals/{number}/verdict",
            json={"verdict": verdict, "reasons": "Getoetst door de gebiedsmakelaar."},
            headers=STAFF,
        )
        assert judged.status_code == 200, judged.text
    clock.at("voting")
    await advance(client, round_id, "voting")
    return round_id


async def advance(client: httpx.AsyncClient, round_id: str, phase: str) -> httpx.Response:
    response = await client.post(f"{ROUNDS}/{round_id}/phase", json={"phase": phase}, headers=STAFF)
    assert response.status_code == 200, response.text
    return response


async def vote(client: httpx.AsyncClient, round_id: str, voter: int, *ids: str) -> httpx.Response:
    return await client.put(
        f"{ROUNDS}/{round_id}/ballot", json={"project_ids": list(ids)}, headers=resident(voter)
    )


async def published(app: FastAPI) -> list[Envelope]:
    outbox = app.state.runtime.tables.outbox
    async with app.state.runtime.engine.connect() as connection:
        rows = (await connection.execute(select(outbox).order_by(outbox.c.id))).all()
    envelopes = [parse_record(decode_headers(row.headers), row.value) for row in rows]
    return [e for e in envelopes if e is not None]


def assert_problem(response: httpx.Response, status: int, field: str = "") -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    if field:
        assert field in [e["field"] for e in problem.get("errors", [])], problem
    return str(problem["detail"])


async def test_a_round_from_proposals_to_published_results_that_anyone_can_recount(
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: Clock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    round_id = await to_voting(client, clock, [4_000, 4_000, 3_000, 500], infeasible={4})
    # Seven residents want the two big proposals, three want proposal 3 (one changes their mind).
    for voter in range(1, 8):
        assert (await vote(client, round_id, voter, "1", "2")).status_code == 200
    await vote(client, round_id, 8, "1")
    await vote(client, round_id, 8, "3")  # replaces the earlier ballot
    paper = await client.post(
        f"{ROUNDS}/{round_id}/paper-ballots",
        json={
            "ballots": [
                {"paper_id": "A-001", "project_ids": ["3"]},
                {"paper_id": "A-002", "project_ids": ["3"]},
            ]
        },
        headers=STAFF,
    )
    clock.at("counting")
    counted = await advance(client, round_id, "counting")
    greedy = await client.get(
        f"{ROUNDS}/{round_id}/results", params={"rule": "greedy"}, headers=resident(1)
    )
    public = await client.get(f"{PUBLIC}/{round_id}/results")  # open to anyone
    exported = await client.get(f"{PUBLIC}/{round_id}/pabulib.pb")

    assert paper.json() == {"imported": 2}
    results = counted.json()["results"]
    assert results["rule"] == "mes" and results["ballots"] == 10
    assert [(p["project_id"], p["votes"], p["funded"]) for p in results["projects"]] == [
        ("1", 7, True),
        ("2", 7, False),
        ("3", 3, True),
    ]
    assert results["funded_cost_cents"] == 7_000_00
    assert [(p["project_id"], p["funded"]) for p in greedy.json()["projects"]] == [
        ("1", True),
        ("2", True),
        ("3", False),
    ]
    assert public.json() == results

    events = await published(app)
    assert [e.data.name for e in events if not isinstance(e.data, contract.BallotCast)] == [
        "round-phase-changed",
        "round-phase-changed",
        "round-phase-changed",
        "round-results-published",
    ]
    ballots = [e for e in events if isinstance(e.data, contract.BallotCast)]
    assert len(ballots) == 11 and all(e.subject == round_id for e in ballots)
    assert [b.data.replaced_earlier for b in ballots if b.data.voter_id == "bewoner-8"] == [
        False,
        True,
    ]
    assert {b.data.channel for b in ballots} == {"online", "paper"}
    assert all("project" not in json.dumps(b.data.model_dump(mode="json")) for b in ballots)
    [results_event] = [e.data for e in events if isinstance(e.data, contract.RoundResultsPublished)]
    assert [(p.project_id, p.funded) for p in results_event.projects] == [
        ("1", True),
        ("2", False),
        ("3", True),
    ]

    # The export names no voter, and recounts to the same outcome, here and in pabutools.
    text = exported.text
    assert "bewoner" not in text and "A-001" not in text
    parsed = pabulib.parse(text)
    assert parsed.meta["budget"] == "10000" and parsed.meta["vote_type"] == "approval"
    assert [row["selected"] for row in parsed.projects] == ["1", "0", "1"]
    file = tmp_path / "round.pb"
    file.write_text(text)
    for rule, funded in [("mes", ["1", "3"]), ("greedy", ["1", "2"])]:
        assert pabulib_cli.main(["count", "--rule", rule, str(file)]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert (sorted(printed["selected"]), printed["cost"]) == (
            funded,
            7_000 if rule == "mes" else 8_000,
        )
    instance, profile = parse_pabulib(str(file))
    assert profile.num_ballots() == 10 and len(instance) == 3


async def test_ballots_outside_the_voting_phase_or_over_the_budget_are_refused(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    early = await plan(client)
    too_early = await vote(client, early, 1, "1")
    round_id = await to_voting(client, clock, [6_000, 5_000, 1_000], infeasible={3})
    knapsack = await plan(client, ballot_kind="knapsack")

    unknown = await vote(client, round_id, 1, "9")
    infeasible = await vote(client, round_id, 1, "3")
    empty = await vote(client, round_id, 1)
    twice = await vote(client, round_id, 1, "1", "1")
    staff_vote = await client.put(
        f"{ROUNDS}/{round_id}/ballot", json={"project_ids": ["1"]}, headers=STAFF
    )
    clock.at("counting")
    too_late = await vote(client, round_id, 1, "1")

    assert "voting phase" in assert_problem(too_early, 409)
    assert_problem(unknown, 422, "project_ids")
    assert_problem(infeasible, 422, "project_ids")
    assert_problem(empty, 422, "project_ids")
    assert_problem(twice, 422, "project_ids")
    assert staff_vote.status_code == 403
    assert "closed" in assert_problem(too_late, 409)
    view = (await client.get(f"{ROUNDS}/{round_id}", headers=STAFF)).json()
    assert view["ballots_cast"] == 0 and knapsack


async def test_a_knapsack_ballot_stays_within_the_budget(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    round_id = await plan(client, ballot_kind="knapsack", budget_cents=10_000_00)
    for number, cost in enumerate([6_000, 5_000, 4_000], start=1):
        await client.post(
            f"{ROUNDS}/{round_id}/proposals",
            json={"title": f"Voorstel {number}", "cost_cents": cost * 100},
            headers=resident(number),
        )
    clock.at("review")
    await advance(client, round_id, "review")
    for number in (1, 2, 3):
        await client.put(
            f"{ROUNDS}/{round_id}/proposals/{number}/verdict",
            json={"verdict": "feasible", "reasons": "Haalbaar."},
            headers=STAFF,
        )
    clock.at("voting")
    await advance(client, round_id, "voting")

    over = await vote(client, round_id, 1, "1", "2")
    within = await vote(client, round_id, 1, "1", "3")

    assert "more than the budget" in assert_problem(over, 422, "project_ids")
    assert within.status_code == 200


async def test_paper_ballots_go_in_all_together_or_not_at_all(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    round_id = await to_voting(client, clock, [1_000, 2_000])
    good = [{"paper_id": f"P-{n}", "project_ids": ["1"]} for n in range(3)]

    wrong_one = await client.post(
        f"{ROUNDS}/{round_id}/paper-ballots",
        json={"ballots": [*good, {"paper_id": "P-9", "project_ids": ["7"]}]},
        headers=STAFF,
    )
    duplicate = await client.post(
        f"{ROUNDS}/{round_id}/paper-ballots",
        json={"ballots": [*good, {"paper_id": "P-0", "project_ids": ["2"]}]},
        headers=STAFF,
    )
    by_resident = await client.post(
        f"{ROUNDS}/{round_id}/paper-ballots", json={"ballots": good}, headers=resident(1)
    )

    assert_problem(wrong_one, 422, "ballots.3.project_ids")
    assert_problem(duplicate, 422, "ballots.3.paper_id")
    assert by_resident.status_code == 403
    view = (await client.get(f"{ROUNDS}/{round_id}", headers=STAFF)).json()
    assert view["ballots_cast"] == 0


async def test_phases_follow_their_order_and_their_dates(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    round_id = await plan(client)
    await client.post(
        f"{ROUNDS}/{round_id}/proposals",
        json={"title": "Speeltuin", "cost_cents": 2_000_00},
        headers=resident(1),
    )
    too_dear = await client.post(
        f"{ROUNDS}/{round_id}/proposals",
        json={"title": "Zwembad", "cost_cents": 10_000_01},
        headers=resident(2),
    )
    before_its_date = await client.post(
        f"{ROUNDS}/{round_id}/phase", json={"phase": "review"}, headers=STAFF
    )
    clock.at("counting")
    skipping = await client.post(
        f"{ROUNDS}/{round_id}/phase", json={"phase": "voting"}, headers=STAFF
    )
    await advance(client, round_id, "review")
    unjudged = await client.post(
        f"{ROUNDS}/{round_id}/phase", json={"phase": "voting"}, headers=STAFF
    )
    late_proposal = await client.post(
        f"{ROUNDS}/{round_id}/proposals",
        json={"title": "Bankje", "cost_cents": 100},
        headers=resident(3),
    )
    no_results = await client.get(f"{PUBLIC}/{round_id}/results")
    no_export = await client.get(f"{PUBLIC}/{round_id}/pabulib.pb")

    assert_problem(too_dear, 422, "cost_cents")  # more than the round's whole budget
    assert "planned to start" in assert_problem(before_its_date, 409)
    assert "next phase only" in assert_problem(skipping, 409)
    assert "need a verdict" in assert_problem(unjudged, 409)
    assert_problem(late_proposal, 409)
    assert no_results.status_code == no_export.status_code == 409


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {
                "schedule": {
                    **{k: v.isoformat() for k, v in SCHEDULE.items()},
                    "review": (START - timedelta(days=1)).isoformat(),
                }
            },
            "schedule",
        ),
        ({"schedule": {"proposals": START.isoformat()}}, "schedule"),
        ({"budget_cents": 100.5}, "budget_cents"),
        ({"rule": "borda"}, "rule"),
    ],
)
async def test_a_round_is_planned_with_a_complete_schedule_in_order(
    client: httpx.AsyncClient, changes: dict[str, Any], field: str
) -> None:
    body = {
        "neighbourhood": "BU03620001",
        "title": "Buurtbegroting",
        "budget_cents": 100_000,
        "ballot_kind": "approval",
        "rule": "greedy",
        "schedule": {phase: start.isoformat() for phase, start in SCHEDULE.items()},
        **changes,
    }

    response = await client.post(ROUNDS, json=body, headers=STAFF)

    assert_problem(response, 422, field)
