"""The alternative budget through the API on SQLite: residents draft, co-sign and submit it,
a civil servant records the council's decision, the adopted lines become earmarks."""

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

ROOT = "/v1/municipalities/GM0362"
ALTERNATIVES = f"{ROOT}/alternative-budgets"
HOLDER = token(Role.BUDGET_HOLDER, subject="holder-1")
DRAFTER = token(Role.RESIDENT, subject="resident-1")
NEIGHBOUR = token(Role.RESIDENT, subject="resident-2")
CIVIL_SERVANT = token(Role.CIVIL_SERVANT, subject="civil-1")
LINES = [
    {"theme": "groen", "amount_cents": 2_000_000, "motivation": "Meer bomen in de straat."},
    {"theme": "jeugd", "amount_cents": 2_000_000, "motivation": "Een trapveldje."},
    {"theme": "ontmoeten", "amount_cents": 1_000_000, "motivation": "Buurtfeest."},
]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with budgets_app(tmp_path) as app, api_client(app) as http:
        yield http


async def open_budget(client: httpx.AsyncClient, amount: int = 5_000_000) -> str:
    response = await client.post(
        f"{ROOT}/budgets",
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


async def draft(client: httpx.AsyncClient, budget_id: str, lines: Any = LINES) -> dict[str, Any]:
    response = await client.post(
        ALTERNATIVES,
        headers=DRAFTER,
        json={"budget_id": budget_id, "title": "Een groenere buurt", "lines": lines},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_residents_draft_co_sign_and_submit_an_alternative_budget(
    client: httpx.AsyncClient,
) -> None:
    budget_id = await open_budget(client)

    drafted = await draft(client, budget_id)
    url = f"{ALTERNATIVES}/{drafted['id']}"
    signed = await client.post(f"{url}/co-signatures", headers=NEIGHBOUR)
    signed_again = await client.post(f"{url}/co-signatures", headers=NEIGHBOUR)
    submitted = await client.post(f"{url}/submission", headers=NEIGHBOUR)
    listed = await client.get(ALTERNATIVES, params={"budget_id": budget_id}, headers=HOLDER)

    assert drafted["status"] == "draft" and drafted["drafter_id"] == "resident-1"
    assert drafted["total_cents"] == 5_000_000
    assert drafted["allowed_actions"] == ["edit", "co_sign", "submit", "withdraw"]
    assert signed.status_code == 201
    assert [s["resident_id"] for s in signed_again.json()["co_signatures"]] == ["resident-2"]
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_by"] == "resident-2"
    assert [a["id"] for a in listed.json()] == [drafted["id"]]


async def test_lines_that_do_not_divide_the_budget_are_refused_at_submission(
    client: httpx.AsyncClient,
) -> None:
    budget_id = await open_budget(client, 5_000_001)
    url = f"{ALTERNATIVES}/{(await draft(client, budget_id))['id']}"

    refused = await client.post(f"{url}/submission", headers=DRAFTER)
    bad_line = await client.post(
        ALTERNATIVES,
        headers=DRAFTER,
        json={
            "budget_id": budget_id,
            "title": "x",
            "lines": [{"theme": "groen", "amount_cents": -1, "motivation": "x"}],
        },
    )

    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM_JSON
    assert refused.json()["errors"][0]["field"] == "lines"
    assert bad_line.status_code == 422
    assert bad_line.json()["errors"][0]["field"] == "lines.0.amount_cents"


async def test_only_the_drafter_edits_and_an_illegal_step_is_a_409_with_the_state(
    client: httpx.AsyncClient,
) -> None:
    budget_id = await open_budget(client)
    url = f"{ALTERNATIVES}/{(await draft(client, budget_id))['id']}"

    by_neighbour = await client.patch(url, headers=NEIGHBOUR, json={"title": "Van mij"})
    edited = await client.patch(url, headers=DRAFTER, json={"title": "Groen en jong"})
    await client.post(f"{url}/submission", headers=DRAFTER)
    too_late = await client.patch(url, headers=DRAFTER, json={"title": "Toch anders"})
    decided_by_resident = await client.post(
        f"{url}/council-decision",
        headers=DRAFTER,
        json={"adoption": "wholly", "decided_on": "2026-03-12"},
    )
    decided_elsewhere = await client.post(
        f"/v1/municipalities/GM0363/alternative-budgets/{url.rsplit('/', 1)[1]}/council-decision",
        headers=CIVIL_SERVANT,
        json={"adoption": "wholly", "decided_on": "2026-03-12"},
    )

    assert by_neighbour.status_code == 403
    assert edited.json()["title"] == "Groen en jong"
    assert too_late.status_code == 409
    assert too_late.headers["content-type"] == PROBLEM_JSON
    assert too_late.json()["current_state"] == "submitted"
    assert too_late.json()["allowed_actions"] == ["record_decision", "withdraw"]
    assert decided_by_resident.status_code == 403
    assert decided_elsewhere.status_code == 403


async def test_a_partial_adoption_becomes_the_budgets_earmarks_and_is_monitored(
    client: httpx.AsyncClient,
) -> None:
    budget_id = await open_budget(client)
    url = f"{ALTERNATIVES}/{(await draft(client, budget_id))['id']}"
    await client.post(f"{url}/submission", headers=DRAFTER)

    missing_reason = await client.post(
        f"{url}/council-decision",
        headers=CIVIL_SERVANT,
        json={
            "adoption": "partly",
            "reasons": "Deels.",
            "decided_on": "2026-03-12",
            "lines": [{"theme": "groen", "adopted_cents": 1_500_000}],
        },
    )
    adopted = await client.post(
        f"{url}/council-decision",
        headers=CIVIL_SERVANT,
        json={
            "adoption": "partly",
            "reasons": "Ontmoeten loopt via het initiatievenfonds.",
            "decided_on": "2026-03-12",
            "lines": [
                {"theme": "groen", "adopted_cents": 1_500_000, "reasons": "Bomen zijn duurder."},
                {"theme": "jeugd", "adopted_cents": 2_000_000},
            ],
        },
    )
    earmarks = (await client.get(f"{ROOT}/budgets/{budget_id}/earmarks", headers=HOLDER)).json()
    budget = (await client.get(f"{ROOT}/budgets/{budget_id}", headers=HOLDER)).json()
    monitoring = await client.get(f"{url}/monitoring", headers=token(Role.RESIDENT))
    public = await client.get(
        f"{ROOT}/public/alternative-budgets/{url.rsplit('/', 1)[1]}/monitoring"
    )  # open data: no token
    again = await client.post(
        f"{url}/council-decision",
        headers=CIVIL_SERVANT,
        json={"adoption": "not_adopted", "reasons": "x", "decided_on": "2026-03-13"},
    )

    assert missing_reason.status_code == 422
    assert missing_reason.json()["errors"][0]["field"] == "lines.0.reasons"
    assert adopted.status_code == 200, adopted.text
    assert adopted.json()["status"] == "partly_adopted"
    assert adopted.json()["decision"]["recorded_by"] == "civil-1"
    assert [(e["theme"], e["earmarked_cents"]) for e in earmarks] == [
        ("groen", 1_500_000),
        ("jeugd", 2_000_000),
    ]
    assert budget["balances"]["available_cents"] == 1_500_000
    assert monitoring.status_code == 200
    assert [(line["theme"], line["adopted_cents"]) for line in monitoring.json()["lines"]] == [
        ("groen", 1_500_000),
        ("jeugd", 2_000_000),
    ]
    assert public.status_code == 200 and public.json() == monitoring.json()
    assert "resident-1" not in public.text
    assert again.status_code == 409 and again.json()["current_state"] == "partly_adopted"


async def test_an_adoption_the_budget_can_no_longer_hold_records_nothing(
    client: httpx.AsyncClient,
) -> None:
    budget_id = await open_budget(client)
    url = f"{ALTERNATIVES}/{(await draft(client, budget_id))['id']}"
    await client.post(f"{url}/submission", headers=DRAFTER)
    # Meanwhile most of the budget was earmarked for another theme.
    await client.put(
        f"{ROOT}/budgets/{budget_id}/earmarks/sport",
        headers=HOLDER,
        json={"amount_cents": 4_000_000},
    )

    refused = await client.post(
        f"{url}/council-decision",
        headers=CIVIL_SERVANT,
        json={"adoption": "wholly", "decided_on": "2026-03-12"},
    )
    still = (await client.get(url, headers=DRAFTER)).json()
    not_monitored = await client.get(f"{url}/monitoring", headers=DRAFTER)

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "adoption"
    assert still["status"] == "submitted" and still["decision"] is None
    assert not_monitored.status_code == 409
    assert not_monitored.json()["allowed_actions"] == ["record_decision", "withdraw"]
