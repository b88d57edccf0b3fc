"""Earmarks through the budgets API on SQLite: set, read, drawn by the theme's initiatives,
refused with a problem naming the field, shown in the follow-the-money report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.budgets import handlers
from services.budgets.domain import commands
from services.budgets.domain.model import Allocation, BudgetKind
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from shared.auth import Role
from shared.contracts import budgets as contract
from shared.contracts.envelope import parse_record
from shared.http import PROBLEM_JSON
from shared.messaging.outbox import decode_headers
from shared.testing.helpers import token
from tests.integration.budgets_support import api_client, budgets_app

BUDGETS = "/v1/municipalities/GM0362/budgets"
HOLDER = token(Role.BUDGET_HOLDER, subject="holder-1")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    async with budgets_app(tmp_path) as started:
        yield started


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as http:
        yield http


async def open_budget(client: httpx.AsyncClient, amount: int = 5_000_000) -> str:
    response = await client.post(
        BUDGETS,
        headers=HOLDER,
        json={
            "kind": "neighbourhood_budget",
            "neighbourhood": "BU03620001",
            "year": 2026,
            "opening_amount_cents": amount,
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def allocate(app: FastAPI, initiative_id: str, amount: int, theme: str) -> Allocation:
    uow: BudgetsUnitOfWork = app.state.unit_of_work()
    async with uow:
        allocation = await handlers.allocate_funds(
            commands.AllocateFunds(
                municipality="GM0362",
                initiative_id=initiative_id,
                funding_source=BudgetKind.NEIGHBOURHOOD_BUDGET,
                neighbourhood="BU03620001",
                requested_cents=amount,
                decided_at=datetime(2026, 4, 1, tzinfo=UTC),
                theme=theme,
            ),
            cause=None,
            uow=uow,
        )
        await uow.commit()
    return allocation


async def outbox_events(app: FastAPI) -> list[contract.EarmarkSet]:
    """The earmark-set events the unit of work left in the outbox for the relay."""
    runtime = app.state.runtime
    outbox = runtime.tables.outbox
    async with runtime.engine.connect() as connection:
        rows = (await connection.execute(select(outbox).order_by(outbox.c.id))).all()
    envelopes = [parse_record(decode_headers(row.headers), row.value) for row in rows]
    return [e.data for e in envelopes if e is not None and isinstance(e.data, contract.EarmarkSet)]


async def test_a_budget_holder_earmarks_part_of_a_budget_for_a_theme(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    budget_id = await open_budget(client)

    response = await client.put(
        f"{BUDGETS}/{budget_id}/earmarks/Groen", headers=HOLDER, json={"amount_cents": 1_000_000}
    )
    listed = await client.get(f"{BUDGETS}/{budget_id}/earmarks", headers=token(Role.RESIDENT))
    budget = (await client.get(f"{BUDGETS}/{budget_id}", headers=HOLDER)).json()
    entries = (await client.get(f"{BUDGETS}/{budget_id}/entries", headers=HOLDER)).json()

    assert response.status_code == 200, response.text
    assert response.json() == {
        "theme": "groen",
        "earmarked_cents": 1_000_000,
        "committed_cents": 0,
        "disbursed_cents": 0,
        "spent_cents": 0,
        "remaining_cents": 1_000_000,
    }
    assert listed.json() == [response.json()]
    assert budget["balances"]["available_cents"] == 4_000_000
    assert [(e["kind"], e["earmark"], e["amount_cents"]) for e in entries][-1] == (
        "earmarked",
        "groen",
        1_000_000,
    )
    [event] = await outbox_events(app)
    assert (event.budget_id, event.theme, event.amount_cents) == (budget_id, "groen", 1_000_000)
    assert (event.previous_amount_cents, event.available_after_cents) == (0, 4_000_000)


async def test_the_themes_initiatives_draw_from_the_earmark_and_others_cannot(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    budget_id = await open_budget(client, 1_000_000)
    await client.put(
        f"{BUDGETS}/{budget_id}/earmarks/groen", headers=HOLDER, json={"amount_cents": 700_000}
    )

    bomen = await allocate(app, "bomen", 800_000, theme="Groen")
    skatebaan = await allocate(app, "skatebaan", 300_000, theme="jeugd")
    earmarks = (await client.get(f"{BUDGETS}/{budget_id}/earmarks", headers=HOLDER)).json()
    lowered = await client.put(
        f"{BUDGETS}/{budget_id}/earmarks/groen", headers=HOLDER, json={"amount_cents": 0}
    )

    assert bomen.is_reserved and "groen earmark first" in bomen.reason
    assert not skatebaan.is_reserved
    assert skatebaan.shortfall_cents == 100_000  # 200,000 is not earmarked and left
    assert earmarks == [
        {
            "theme": "groen",
            "earmarked_cents": 700_000,
            "committed_cents": 800_000,
            "disbursed_cents": 0,
            "spent_cents": 0,
            "remaining_cents": 0,
        }
    ]
    assert lowered.status_code == 422
    assert lowered.headers["content-type"] == PROBLEM_JSON
    assert lowered.json()["errors"][0]["field"] == "amount_cents"
    assert "cannot go below €7,000.00" in lowered.json()["detail"]


async def test_money_released_by_the_themes_initiative_goes_back_to_its_earmark(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    budget_id = await open_budget(client, 1_000_000)
    await client.put(
        f"{BUDGETS}/{budget_id}/earmarks/groen", headers=HOLDER, json={"amount_cents": 500_000}
    )
    await allocate(app, "bomen", 400_000, theme="groen")
    money = "/v1/municipalities/GM0362/allocations/bomen"

    paid = await client.post(
        f"{money}/disbursements", headers=HOLDER, json={"amount_cents": 300_000}
    )
    released = await client.post(f"{money}/releases", headers=HOLDER, json={"reason": "underspend"})
    [groen] = (await client.get(f"{BUDGETS}/{budget_id}/earmarks", headers=HOLDER)).json()
    entries = (await client.get(f"{BUDGETS}/{budget_id}/entries", headers=HOLDER)).json()

    assert (paid.status_code, released.status_code) == (201, 201), released.text
    assert (groen["committed_cents"], groen["disbursed_cents"]) == (0, 300_000)
    assert groen["remaining_cents"] == 200_000  # 500,000 - 300,000 paid out
    assert [e["earmark"] for e in entries if e["initiative_id"] == "bomen"] == ["groen"] * 3


async def test_an_earmark_beyond_what_is_available_is_refused_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    budget_id = await open_budget(client, 1_000_000)
    await client.put(
        f"{BUDGETS}/{budget_id}/earmarks/groen", headers=HOLDER, json={"amount_cents": 600_000}
    )

    too_much = await client.put(
        f"{BUDGETS}/{budget_id}/earmarks/jeugd", headers=HOLDER, json={"amount_cents": 400_001}
    )
    not_cents = await client.put(
        f"{BUDGETS}/{budget_id}/earmarks/jeugd", headers=HOLDER, json={"amount_cents": 12.5}
    )
    by_a_resident = await client.put(
        f"{BUDGETS}/{budget_id}/earmarks/jeugd",
        headers=token(Role.RESIDENT),
        json={"amount_cents": 1},
    )
    no_budget = await client.put(
        f"{BUDGETS}/nope/earmarks/jeugd", headers=HOLDER, json={"amount_cents": 1}
    )
    # A formula hiding behind a space would reach the open-data CSV once the space is trimmed.
    formula = await client.put(
        f"{BUDGETS}/{budget_id}/earmarks/%20=SUM(A1)", headers=HOLDER, json={"amount_cents": 1}
    )

    assert too_much.status_code == 422 and too_much.headers["content-type"] == PROBLEM_JSON
    assert too_much.json()["errors"][0]["field"] == "amount_cents"
    assert "only €4,000.00" in too_much.json()["detail"]
    assert not_cents.status_code == 422
    assert not_cents.json()["errors"][0]["field"] == "amount_cents"
    assert by_a_resident.status_code == 403
    assert no_budget.status_code == 404
    assert formula.status_code == 422 and formula.json()["errors"][0]["field"] == "theme"


async def test_the_money_report_shows_each_budgets_earmarks(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    budget_id = await open_budget(client, 1_000_000)
    await client.put(
        f"{BUDGETS}/{budget_id}/earmarks/groen", headers=HOLDER, json={"amount_cents": 300_000}
    )
    await allocate(app, "bomen", 100_000, theme="groen")

    report = (await client.get("/v1/municipalities/GM0362/public/money")).json()
    table = (await client.get("/v1/municipalities/GM0362/public/money.csv")).text

    [budget] = report["budgets"]
    assert budget["earmarks"] == [
        {
            "theme": "groen",
            "earmarked_cents": 300_000,
            "committed_cents": 100_000,
            "disbursed_cents": 0,
            "spent_cents": 0,
            "remaining_cents": 200_000,
        }
    ]
    # Free to reserve: 700,000 for any theme and 200,000 left in the groen earmark.
    assert budget["figures"]["remaining_cents"] == 900_000
    assert budget["figures"]["reserved_cents"] == 100_000
    assert "earmark," in table and ",groen" in table
