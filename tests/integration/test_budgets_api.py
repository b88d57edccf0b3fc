"""The budgets API on SQLite: opening budgets, reading derived balances, clear 4xx answers.

These requests touch only the database, so the app runs without its Kafka lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.auth import Role
from shared.http import PROBLEM_JSON
from shared.testing.helpers import token
from tests.integration.budgets_support import api_client, budgets_app

BUDGETS = "/v1/municipalities/GM0362/budgets"
NEIGHBOURHOOD_BUDGET = {
    "kind": "neighbourhood_budget",
    "neighbourhood": "BU03620001",
    "year": 2026,
    "opening_amount_cents": 2_500_000,
}
FUND = {
    "kind": "initiatives_fund",
    "opening_amount_cents": 10_000_000,
    "max_per_initiative_cents": 500_000,
}
HOLDER = token(Role.BUDGET_HOLDER, subject="holder-1")


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    # Nothing here talks to Kafka: the app is used without its lifespan.
    async with budgets_app(tmp_path) as app, api_client(app) as http:
        yield http


async def test_a_budget_holder_opens_a_neighbourhood_budget_with_its_balances(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(BUDGETS, json=NEIGHBOURHOOD_BUDGET, headers=HOLDER)

    assert response.status_code == 201, response.text
    budget = response.json()
    assert response.headers["location"] == f"{BUDGETS}/{budget['id']}"
    assert budget["kind"] == "neighbourhood_budget"
    assert (budget["neighbourhood"], budget["year"]) == ("BU03620001", 2026)
    assert budget["opened_by"] == "holder-1"
    assert budget["balances"] == {
        "opened_cents": 2_500_000,
        "corrections_cents": 0,
        "reserved_cents": 0,
        "released_cents": 0,
        "disbursed_cents": 0,
        "spent_cents": 0,
        "committed_cents": 0,
        "available_cents": 2_500_000,
    }


async def test_a_civil_servant_opens_the_initiatives_fund_with_a_ceiling(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(BUDGETS, json=FUND, headers=token(Role.CIVIL_SERVANT))

    assert response.status_code == 201, response.text
    fund = response.json()
    assert fund["kind"] == "initiatives_fund"
    assert fund["neighbourhood"] is None
    assert fund["max_per_initiative_cents"] == 500_000
    assert fund["balances"]["available_cents"] == 10_000_000


async def test_any_role_of_the_municipality_reads_budgets_and_their_ledger(
    client: httpx.AsyncClient,
) -> None:
    created = (await client.post(BUDGETS, json=NEIGHBOURHOOD_BUDGET, headers=HOLDER)).json()
    await client.post(BUDGETS, json=FUND, headers=HOLDER)
    resident = token(Role.RESIDENT, subject="resident-1")

    one = await client.get(f"{BUDGETS}/{created['id']}", headers=resident)
    everything = await client.get(BUDGETS, headers=resident)
    funds = await client.get(BUDGETS, params={"kind": "initiatives_fund"}, headers=resident)
    entries = await client.get(f"{BUDGETS}/{created['id']}/entries", headers=resident)

    assert one.status_code == 200 and one.json() == created
    assert [b["kind"] for b in everything.json()] == ["initiatives_fund", "neighbourhood_budget"]
    assert [b["kind"] for b in funds.json()] == ["initiatives_fund"]
    assert [
        (e["kind"], e["debit_account"], e["credit_account"], e["amount_cents"])
        for e in entries.json()
    ] == [("opened", "funding", "available", 2_500_000)]


async def test_a_second_budget_for_the_same_neighbourhood_and_year_is_a_conflict(
    client: httpx.AsyncClient,
) -> None:
    await client.post(BUDGETS, json=NEIGHBOURHOOD_BUDGET, headers=HOLDER)

    again = await client.post(BUDGETS, json=NEIGHBOURHOOD_BUDGET, headers=HOLDER)
    next_year = await client.post(
        BUDGETS, json={**NEIGHBOURHOOD_BUDGET, "year": 2027}, headers=HOLDER
    )

    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM_JSON
    assert "already has the neighbourhood budget of BU03620001 for 2026" in again.json()["detail"]
    assert next_year.status_code == 201


async def test_a_municipality_has_one_rolling_fund(client: httpx.AsyncClient) -> None:
    await client.post(BUDGETS, json=FUND, headers=HOLDER)

    again = await client.post(BUDGETS, json={**FUND, "year": 2027}, headers=HOLDER)

    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEIGHBOURHOOD_BUDGET, "neighbourhood": "BU123"}, "neighbourhood_budget.neighbourhood"),
        ({**NEIGHBOURHOOD_BUDGET, "neighbourhood": None}, "neighbourhood_budget.neighbourhood"),
        (
            {k: v for k, v in NEIGHBOURHOOD_BUDGET.items() if k != "year"},
            "neighbourhood_budget.year",
        ),
        ({**NEIGHBOURHOOD_BUDGET, "year": 1899}, "neighbourhood_budget.year"),
        (
            {**NEIGHBOURHOOD_BUDGET, "opening_amount_cents": 0},
            "neighbourhood_budget.opening_amount_cents",
        ),
        (
            {**NEIGHBOURHOOD_BUDGET, "opening_amount_cents": -100},
            "neighbourhood_budget.opening_amount_cents",
        ),
        (
            {**NEIGHBOURHOOD_BUDGET, "opening_amount_cents": 12.5},
            "neighbourhood_budget.opening_amount_cents",
        ),
        (
            {**NEIGHBOURHOOD_BUDGET, "opening_amount_cents": "2500000"},
            "neighbourhood_budget.opening_amount_cents",
        ),
        (
            {**NEIGHBOURHOOD_BUDGET, "max_per_initiative_cents": 100},
            "neighbourhood_budget.max_per_initiative_cents",
        ),
        (
            {k: v for k, v in FUND.items() if k != "max_per_initiative_cents"},
            "initiatives_fund.max_per_initiative_cents",
        ),
        ({**FUND, "neighbourhood": "BU03620001"}, "initiatives_fund.neighbourhood"),
        ({**NEIGHBOURHOOD_BUDGET, "kind": "piggy_bank"}, ""),
        ({"opening_amount_cents": 100}, ""),
    ],
)
async def test_invalid_budgets_are_refused_with_problem_json_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.post(BUDGETS, json=body, headers=HOLDER)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == 422 and problem["title"] == "Invalid request"
    if field:
        assert field in [error["field"] for error in problem["errors"]], problem
    assert (await client.get(BUDGETS, headers=HOLDER)).json() == []


async def test_a_body_that_is_not_json_is_a_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        BUDGETS, content=b"{not json", headers={**HOLDER, "content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (BUDGETS, {"year": "next"}),
        (BUDGETS, {"neighbourhood": "Oranjebuurt"}),
        (BUDGETS, {"kind": "piggy_bank"}),
        (BUDGETS, {"limit": 0}),
    ],
)
async def test_invalid_queries_are_422_problems(
    client: httpx.AsyncClient, path: str, params: dict[str, Any]
) -> None:
    response = await client.get(path, params=params, headers=HOLDER)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.INITIATOR, Role.COUNCIL_MEMBER, Role.SYSTEM])
async def test_only_budget_holders_and_civil_servants_open_budgets(
    client: httpx.AsyncClient, role: Role
) -> None:
    response = await client.post(BUDGETS, json=NEIGHBOURHOOD_BUDGET, headers=token(role))

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_budgets_need_a_token_of_the_same_municipality(client: httpx.AsyncClient) -> None:
    created = (await client.post(BUDGETS, json=NEIGHBOURHOOD_BUDGET, headers=HOLDER)).json()
    amsterdam = token(Role.BUDGET_HOLDER, municipality="GM0363")

    anonymous = await client.get(BUDGETS)
    elsewhere = await client.get(f"{BUDGETS}/{created['id']}", headers=amsterdam)
    own_list = await client.get("/v1/municipalities/GM0363/budgets", headers=amsterdam)

    assert anonymous.status_code == 401
    assert elsewhere.status_code == 403
    assert own_list.json() == []


async def test_an_unknown_budget_or_allocation_is_a_404_problem(
    client: httpx.AsyncClient,
) -> None:
    budget = await client.get(f"{BUDGETS}/does-not-exist", headers=HOLDER)
    entries = await client.get(f"{BUDGETS}/does-not-exist/entries", headers=HOLDER)
    allocation = await client.get(
        "/v1/municipalities/GM0362/allocations/no-such-initiative", headers=HOLDER
    )

    assert [budget.status_code, entries.status_code, allocation.status_code] == [404, 404, 404]
    assert budget.headers["content-type"] == PROBLEM_JSON
