"""Paying out, accounting for and correcting reservations through the API, and following the
money in the public report and its open-data exports. On SQLite, without Kafka."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.budgets import handlers
from services.budgets.domain import commands
from services.budgets.domain.model import BudgetKind
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from shared.auth import Role
from shared.http import PROBLEM_JSON
from shared.testing.helpers import token
from tests.integration.budgets_support import api_client, budgets_app

MUNICIPALITY = "/v1/municipalities/GM0362"
BUDGETS = f"{MUNICIPALITY}/budgets"
PUBLIC = f"{MUNICIPALITY}/public"
HOLDER = token(Role.BUDGET_HOLDER, subject="holder-1")
NEIGHBOURHOOD = "BU03620001"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    async with budgets_app(tmp_path) as started:
        yield started


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as http:
        yield http


async def open_budget(client: httpx.AsyncClient, amount: int = 100_000, **extra: Any) -> str:
    body = {
        "kind": "neighbourhood_budget",
        "neighbourhood": NEIGHBOURHOOD,
        "year": 2026,
        "opening_amount_cents": amount,
        **extra,
    }
    response = await client.post(BUDGETS, json=body, headers=HOLDER)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def approve(
    app: FastAPI,
    initiative_id: str,
    amount: int,
    source: BudgetKind = BudgetKind.NEIGHBOURHOOD_BUDGET,
    neighbourhood: str = NEIGHBOURHOOD,
) -> None:
    """What the consumer does with an approval: reserve the money."""
    uow: BudgetsUnitOfWork = app.state.unit_of_work()
    async with uow:
        await handlers.allocate_funds(
            commands.AllocateFunds(
                municipality="GM0362",
                initiative_id=initiative_id,
                funding_source=source,
                neighbourhood=neighbourhood,
                requested_cents=amount,
                decided_at=datetime(2026, 3, 1, tzinfo=UTC),
            ),
            cause=None,
            uow=uow,
        )
        await uow.commit()


async def entries(client: httpx.AsyncClient, budget_id: str) -> list[tuple[str, int]]:
    response = await client.get(f"{BUDGETS}/{budget_id}/entries", headers=HOLDER)
    return [(e["kind"], e["amount_cents"]) for e in response.json()]


def assert_problem(response: httpx.Response, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = response.json()
    assert field in [error["field"] for error in problem.get("errors", [])], problem
    return problem


async def test_paying_and_accounting_for_an_initiative_moves_its_money_step_by_step(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    budget_id = await open_budget(client)
    await approve(app, "i-1", 60_000)
    money = f"{MUNICIPALITY}/allocations/i-1"

    paid = await client.post(
        f"{money}/disbursements", json={"amount_cents": 40_000}, headers=HOLDER
    )
    spent = await client.post(
        f"{money}/spending", json={"cost_line": "verf", "amount_cents": 25_000}, headers=HOLDER
    )
    released = await client.post(
        f"{money}/releases", json={"reason": "underspend", "amount_cents": 5_000}, headers=HOLDER
    )

    assert paid.status_code == spent.status_code == released.status_code == 201
    assert released.json()["figures"] == {
        "allocated_cents": 55_000,
        "reserved_cents": 15_000,
        "disbursed_cents": 40_000,
        "spent_cents": 25_000,
        "remaining_cents": 15_000,
    }
    assert released.json()["cost_lines"] == [
        {
            "cost_line": "verf",
            "planned_cents": None,
            "actual_cents": 25_000,
            "difference_cents": None,
        }
    ]
    budget = (await client.get(f"{BUDGETS}/{budget_id}", headers=HOLDER)).json()["balances"]
    assert (budget["available_cents"], budget["committed_cents"]) == (45_000, 15_000)
    assert (budget["disbursed_cents"], budget["spent_cents"]) == (40_000, 25_000)
    assert await entries(client, budget_id) == [
        ("opened", 100_000),
        ("reserved", 60_000),
        ("disbursed", 40_000),
        ("spending_reported", 25_000),
        ("released", 5_000),
    ]


async def test_a_disbursement_above_the_reservation_is_refused_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    budget_id = await open_budget(client)
    await approve(app, "i-1", 30_000)
    money = f"{MUNICIPALITY}/allocations/i-1"
    await client.post(f"{money}/disbursements", json={"amount_cents": 20_000}, headers=HOLDER)

    too_much = await client.post(
        f"{money}/disbursements", json={"amount_cents": 10_001}, headers=HOLDER
    )

    problem = assert_problem(too_much, 422, "amount_cents")
    assert "above the reservation" in problem["detail"] and "€100.00" in problem["detail"]
    assert await entries(client, budget_id) == [
        ("opened", 100_000),
        ("reserved", 30_000),
        ("disbursed", 20_000),
    ]


async def test_amounts_are_positive_integer_cents(app: FastAPI, client: httpx.AsyncClient) -> None:
    budget_id = await open_budget(client)
    await approve(app, "i-1", 30_000)

    for route in ["disbursements", "spending", "releases"]:
        for amount in [12.5, "100", -5, 0, True, 10**14]:
            body = {"amount_cents": amount, "cost_line": "verf", "reason": "expired"}
            response = await client.post(
                f"{MUNICIPALITY}/allocations/i-1/{route}", json=body, headers=HOLDER
            )
            assert_problem(response, 422, "amount_cents")
    assert await entries(client, budget_id) == [("opened", 100_000), ("reserved", 30_000)]


async def test_spending_is_reported_only_on_money_paid_out(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await open_budget(client)
    await approve(app, "i-1", 30_000)
    money = f"{MUNICIPALITY}/allocations/i-1"
    await client.post(f"{money}/disbursements", json={"amount_cents": 10_000}, headers=HOLDER)

    response = await client.post(
        f"{money}/spending", json={"cost_line": "verf", "amount_cents": 10_001}, headers=HOLDER
    )
    bad_line = await client.post(
        f"{money}/spending", json={"cost_line": "=HYPERLINK()", "amount_cents": 1}, headers=HOLDER
    )

    assert "not yet accounted for" in assert_problem(response, 422, "amount_cents")["detail"]
    assert_problem(bad_line, 422, "cost_line")


async def test_payments_need_a_reservation(client: httpx.AsyncClient) -> None:
    await open_budget(client)

    response = await client.post(
        f"{MUNICIPALITY}/allocations/nobody/disbursements", json={"amount_cents": 1}, headers=HOLDER
    )

    assert response.status_code == 404
    assert "no money reserved" in response.json()["detail"]


async def test_a_release_without_an_amount_gives_back_all_that_is_unpaid_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    budget_id = await open_budget(client)
    await approve(app, "i-1", 30_000)
    money = f"{MUNICIPALITY}/allocations/i-1"
    await client.post(f"{money}/disbursements", json={"amount_cents": 10_000}, headers=HOLDER)

    first = await client.post(f"{money}/releases", json={"reason": "withdrawn"}, headers=HOLDER)
    again = await client.post(f"{money}/releases", json={"reason": "withdrawn"}, headers=HOLDER)
    more = await client.post(
        f"{money}/releases", json={"reason": "withdrawn", "amount_cents": 1}, headers=HOLDER
    )

    assert first.status_code == again.status_code == 201
    assert first.json()["figures"]["reserved_cents"] == 0
    assert_problem(more, 422, "amount_cents")
    assert await entries(client, budget_id) == [
        ("opened", 100_000),
        ("reserved", 30_000),
        ("disbursed", 10_000),
        ("released", 20_000),
    ]


async def test_corrections_are_new_entries_that_reverse_or_change_funding(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    budget_id = await open_budget(client)
    await approve(app, "i-1", 30_000)
    money = f"{MUNICIPALITY}/allocations/i-1"
    await client.post(f"{money}/disbursements", json={"amount_cents": 10_000}, headers=HOLDER)
    ledger = (await client.get(f"{BUDGETS}/{budget_id}/entries", headers=HOLDER)).json()
    reserved_id, disbursed_id = ledger[1]["id"], ledger[2]["id"]
    corrections = f"{BUDGETS}/{budget_id}/corrections"

    reversed_payment = await client.post(
        corrections,
        json={"corrects_entry_id": disbursed_id, "amount_cents": 10_000, "note": "dubbel betaald"},
        headers=HOLDER,
    )
    twice = await client.post(
        corrections,
        json={"corrects_entry_id": disbursed_id, "amount_cents": 1, "note": "nog eens"},
        headers=HOLDER,
    )
    reservation = await client.post(
        corrections,
        json={"corrects_entry_id": reserved_id, "amount_cents": 1, "note": "mag niet"},
        headers=HOLDER,
    )
    top_up = await client.post(
        corrections,
        json={"increase_funding": True, "amount_cents": 5_000, "note": "raadsbesluit"},
        headers=HOLDER,
    )
    cut_too_deep = await client.post(
        corrections,
        json={"increase_funding": False, "amount_cents": 75_001, "note": "bezuiniging"},
        headers=HOLDER,
    )
    neither = await client.post(
        corrections, json={"amount_cents": 1, "note": "onduidelijk"}, headers=HOLDER
    )
    no_reason = await client.post(
        corrections, json={"increase_funding": True, "amount_cents": 1}, headers=HOLDER
    )

    assert reversed_payment.status_code == 201, reversed_payment.text
    assert reversed_payment.json()["corrects_entry_id"] == disbursed_id
    assert (
        reversed_payment.json()["debit_account"],
        reversed_payment.json()["credit_account"],
    ) == (
        "disbursed",
        "reserved",
    )
    assert "at most €0.00" in assert_problem(twice, 422, "amount_cents")["detail"]
    assert "release" in assert_problem(reservation, 422, "corrects_entry_id")["detail"]
    assert top_up.status_code == 201
    assert_problem(cut_too_deep, 422, "amount_cents")
    assert_problem(neither, 422, "corrects_entry_id")
    assert_problem(no_reason, 422, "note")
    balances = (await client.get(f"{BUDGETS}/{budget_id}", headers=HOLDER)).json()["balances"]
    assert balances["corrections_cents"] == 5_000
    assert (balances["available_cents"], balances["committed_cents"]) == (75_000, 30_000)
    assert balances["disbursed_cents"] == 0


async def test_a_cost_plan_adds_up_to_at_most_the_reservation(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await open_budget(client)
    await approve(app, "i-1", 30_000)
    plan = f"{MUNICIPALITY}/allocations/i-1/cost-plan"

    too_much = await client.put(
        plan,
        json={
            "lines": [
                {"cost_line": "a", "planned_cents": 20_000},
                {"cost_line": "b", "planned_cents": 10_001},
            ]
        },
        headers=HOLDER,
    )
    twice = await client.put(
        plan,
        json={
            "lines": [
                {"cost_line": "a", "planned_cents": 1},
                {"cost_line": "a", "planned_cents": 1},
            ]
        },
        headers=HOLDER,
    )
    first = await client.put(
        plan, json={"lines": [{"cost_line": "a", "planned_cents": 1}]}, headers=HOLDER
    )
    replaced = await client.put(
        plan, json={"lines": [{"cost_line": "b", "planned_cents": 30_000}]}, headers=HOLDER
    )

    assert_problem(too_much, 422, "lines")
    assert_problem(twice, 422, "lines")
    assert first.status_code == 200
    assert [line["cost_line"] for line in replaced.json()["cost_lines"]] == ["b"]


async def test_the_public_report_follows_the_money_per_budget_neighbourhood_and_initiative(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await open_budget(client, 100_000)
    await open_budget(client, 50_000, neighbourhood="BU03620002")
    fund = await client.post(
        BUDGETS,
        json={
            "kind": "initiatives_fund",
            "opening_amount_cents": 200_000,
            "max_per_initiative_cents": 100_000,
        },
        headers=HOLDER,
    )
    assert fund.status_code == 201
    await approve(app, "i-1", 60_000)
    await approve(app, "i-2", 40_000, source=BudgetKind.INITIATIVES_FUND)
    money = f"{MUNICIPALITY}/allocations/i-1"
    await client.put(
        f"{money}/cost-plan",
        json={
            "lines": [
                {"cost_line": "bankjes", "planned_cents": 50_000},
                {"cost_line": "plaatsing", "planned_cents": 10_000},
            ]
        },
        headers=HOLDER,
    )
    await client.post(
        f"{money}/disbursements",
        json={"amount_cents": 60_000, "note": "aan J. Jansen"},
        headers=HOLDER,
    )
    await client.post(
        f"{money}/spending", json={"cost_line": "bankjes", "amount_cents": 52_000}, headers=HOLDER
    )

    report = (await client.get(f"{PUBLIC}/money")).json()  # no token: open to anyone
    exported = await client.get(f"{PUBLIC}/money.json")
    table = await client.get(f"{PUBLIC}/money.csv")
    only_2 = (await client.get(f"{PUBLIC}/money", params={"neighbourhood": "BU03620002"})).json()

    assert report["totals"] == {
        "allocated_cents": 350_000,
        "reserved_cents": 40_000,
        "disbursed_cents": 60_000,
        "spent_cents": 52_000,
        "remaining_cents": 250_000,
    }
    by_code = {n["neighbourhood"]: n for n in report["neighbourhoods"]}
    assert by_code[NEIGHBOURHOOD]["figures"]["spent_cents"] == 52_000
    assert by_code[NEIGHBOURHOOD]["from_fund"]["allocated_cents"] == 40_000
    assert by_code["BU03620002"]["figures"]["remaining_cents"] == 50_000
    [i1] = [i for b in report["budgets"] for i in b["initiatives"] if i["initiative_id"] == "i-1"]
    assert i1["cost_lines"] == [
        {
            "cost_line": "bankjes",
            "planned_cents": 50_000,
            "actual_cents": 52_000,
            "difference_cents": 2_000,
        },
        {
            "cost_line": "plaatsing",
            "planned_cents": 10_000,
            "actual_cents": 0,
            "difference_cents": -10_000,
        },
    ]
    assert exported.json() == {**report, "generated_at": exported.json()["generated_at"]}
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert table.headers["content-type"].startswith("text/csv")
    assert [r["level"] for r in rows].count("cost_line") == 2
    [planned] = [r for r in rows if r["cost_line"] == "plaatsing"]
    assert (planned["planned_cents"], planned["actual_cents"]) == ("10000", "0")
    everything = table.text + exported.text
    assert "holder-1" not in everything and "Jansen" not in everything  # no personal data
    assert [b["neighbourhood"] for b in only_2["budgets"]] == [None, "BU03620002"]
