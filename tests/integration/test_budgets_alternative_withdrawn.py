"""Withdrawing an alternative budget through the API: its co-signers are told through an
``alternative-budget-withdrawn`` event in the outbox, written with the state change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from shared.auth import Role
from shared.contracts import budgets as contract
from shared.contracts.envelope import parse_record
from shared.messaging.outbox import decode_headers
from shared.testing.helpers import token
from tests.integration.budgets_support import api_client, budgets_app

ROOT = "/v1/municipalities/GM0362"
ALTERNATIVES = f"{ROOT}/alternative-budgets"
HOLDER = token(Role.BUDGET_HOLDER, subject="holder-1")
DRAFTER = token(Role.RESIDENT, subject="resident-1")
CO_SIGNERS = {
    "resident-2": token(Role.RESIDENT, subject="resident-2"),
    "resident-3": token(Role.INITIATOR, subject="resident-3"),
}
LINES = [
    {"theme": "groen", "amount_cents": 600_000, "motivation": "Meer bomen."},
    {"theme": "jeugd", "amount_cents": 400_000, "motivation": "Een trapveldje."},
]


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    async with budgets_app(tmp_path) as started:
        yield started


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as http:
        yield http


async def withdrawn_events(app: FastAPI) -> list[contract.AlternativeBudgetWithdrawn]:
    runtime = app.state.runtime
    outbox = runtime.tables.outbox
    async with runtime.engine.connect() as connection:
        rows = (await connection.execute(select(outbox).order_by(outbox.c.id))).all()
    envelopes = [parse_record(decode_headers(row.headers), row.value) for row in rows]
    return [
        e.data
        for e in envelopes
        if e is not None and isinstance(e.data, contract.AlternativeBudgetWithdrawn)
    ]


async def co_signed_alternative(client: httpx.AsyncClient) -> str:
    budget = await client.post(
        f"{ROOT}/budgets",
        headers=HOLDER,
        json={
            "kind": "neighbourhood_budget",
            "neighbourhood": "BU03620001",
            "year": 2026,
            "opening_amount_cents": 1_000_000,
        },
    )
    assert budget.status_code == 201, budget.text
    drafted = await client.post(
        ALTERNATIVES,
        headers=DRAFTER,
        json={"budget_id": budget.json()["id"], "title": "Groen en jong", "lines": LINES},
    )
    assert drafted.status_code == 201, drafted.text
    url = f"{ALTERNATIVES}/{drafted.json()['id']}"
    for headers in CO_SIGNERS.values():
        signed = await client.post(f"{url}/co-signatures", headers=headers)
        assert signed.status_code == 201, signed.text
    return url


async def test_withdrawing_a_submitted_one_names_drafter_co_signers_and_the_reason(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    url = await co_signed_alternative(client)
    submitted = await client.post(f"{url}/submission", headers=DRAFTER)
    assert submitted.status_code == 200, submitted.text

    response = await client.post(
        f"{url}/withdrawal",
        headers=DRAFTER,
        json={"reason": "  We dienen volgend jaar een beter voorstel in.  "},
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    [event] = await withdrawn_events(app)
    assert event.alternative_budget_id == url.rsplit("/", 1)[1]
    assert event.neighbourhood == "BU03620001"
    assert event.drafter_id == event.withdrawn_by == "resident-1"
    assert event.co_signer_ids == list(CO_SIGNERS)
    assert event.previous_status == "submitted"
    assert event.reason == "We dienen volgend jaar een beter voorstel in."
    assert event.withdrawn_at.tzinfo is not None


async def test_a_draft_withdrawn_without_a_body_is_announced_without_a_reason(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    url = await co_signed_alternative(client)

    response = await client.post(f"{url}/withdrawal", headers=DRAFTER)

    assert response.status_code == 200, response.text
    [event] = await withdrawn_events(app)
    assert (event.previous_status, event.reason) == ("draft", None)
    assert event.co_signer_ids == list(CO_SIGNERS)


async def test_a_refused_withdrawal_announces_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    url = await co_signed_alternative(client)

    by_co_signer = await client.post(f"{url}/withdrawal", headers=CO_SIGNERS["resident-2"])
    first = await client.post(f"{url}/withdrawal", headers=DRAFTER, json={})
    twice = await client.post(f"{url}/withdrawal", headers=DRAFTER, json={"reason": "Nog eens"})
    too_long = await client.post(f"{url}/withdrawal", headers=DRAFTER, json={"reason": "x" * 2001})

    assert by_co_signer.status_code == 403
    assert first.status_code == 200, first.text
    assert twice.status_code == 409
    assert too_long.status_code == 422
    assert len(await withdrawn_events(app)) == 1
