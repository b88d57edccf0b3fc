"""Following a neighbourhood or a budget through the API, on a real PostgreSQL database.

A resident follows for themself, a civil servant for them; nobody else. Wrong input gets a
problem+json answer that says what is wrong. Erasure takes the follows with the person.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.notifications.app import create_app
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from services.notifications.settings import NotificationsSettings
from shared.auth import Role
from shared.migrations import upgrade_to_head
from shared.testing.helpers import settings_for, token

M = "GM0362"
BASE = f"/v1/municipalities/{M}"
RESIDENT = "resident-17"
ME = token(Role.RESIDENT, subject=RESIDENT)
STAFF = token(Role.CIVIL_SERVANT, subject="ambtenaar-1")
AREA = "BU03620001"


class Api:
    def __init__(self, app: Any, client: httpx.AsyncClient) -> None:
        self.app, self.client = app, client

    async def follows_in_database(self, person: str) -> list[tuple[str, str]]:
        uow = self.app.state.unit_of_work()
        assert isinstance(uow, NotificationsUnitOfWork)
        async with uow:
            return [(f.target.value, f.target_id) for f in await uow.follows.of_person(M, person)]


@pytest.fixture
async def api(postgres_url: str) -> AsyncIterator[Api]:
    await asyncio.to_thread(upgrade_to_head, "notifications", postgres_url)
    settings = settings_for(
        NotificationsSettings, kafka="127.0.0.1:1", namespace="t.", database_url=postgres_url
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Api(app, client)
    await app.state.runtime.engine.dispose()


def assert_problem(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    for word in words:
        assert word in body["detail"], body


async def test_a_resident_follows_a_neighbourhood_and_a_budget_once_and_unfollows(
    api: Api,
) -> None:
    first = await api.client.put(
        f"{BASE}/contacts/{RESIDENT}/follows/neighbourhood/{AREA}", headers=ME
    )
    assert first.status_code == 200, first.text
    assert first.json()["target"] == "neighbourhood" and first.json()["target_id"] == AREA
    again = await api.client.put(
        f"{BASE}/contacts/{RESIDENT}/follows/neighbourhood/{AREA}", headers=ME
    )
    assert again.json()["since"] == first.json()["since"]  # following again changes nothing
    budget = await api.client.put(
        f"{BASE}/contacts/{RESIDENT}/follows/budget/budget-centrum-2026", headers=ME
    )
    assert budget.status_code == 200, budget.text

    listed = await api.client.get(f"{BASE}/contacts/{RESIDENT}/follows", headers=ME)
    assert [(f["target"], f["target_id"]) for f in listed.json()] == [
        ("budget", "budget-centrum-2026"),
        ("neighbourhood", AREA),
    ]

    gone = await api.client.delete(
        f"{BASE}/contacts/{RESIDENT}/follows/neighbourhood/{AREA}", headers=ME
    )
    assert gone.status_code == 204
    assert await api.follows_in_database(RESIDENT) == [("budget", "budget-centrum-2026")]
    assert_problem(
        await api.client.delete(
            f"{BASE}/contacts/{RESIDENT}/follows/neighbourhood/{AREA}", headers=ME
        ),
        404,
        "does not follow",
    )


async def test_a_civil_servant_follows_for_a_resident_and_nobody_else_may(api: Api) -> None:
    done = await api.client.put(
        f"{BASE}/contacts/{RESIDENT}/follows/neighbourhood/{AREA}", headers=STAFF
    )
    assert done.status_code == 200, done.text
    assert await api.follows_in_database(RESIDENT) == [("neighbourhood", AREA)]

    url = f"{BASE}/contacts/{RESIDENT}/follows/budget/budget-1"
    assert_problem(
        await api.client.put(url, headers=token(Role.RESIDENT, subject="nosy-neighbour")),
        403,
        RESIDENT,
    )
    assert_problem(
        await api.client.put(url, headers=token(Role.SYSTEM, subject="case-system")), 403, "system"
    )
    assert_problem(
        await api.client.get(
            f"{BASE}/contacts/{RESIDENT}/follows",
            headers=token(Role.RESIDENT, subject=RESIDENT, municipality="GM0363"),
        ),
        403,
        "GM0363",
    )
    unauthenticated = await api.client.get(f"{BASE}/contacts/{RESIDENT}/follows")
    assert unauthenticated.status_code == 401
    assert await api.follows_in_database(RESIDENT) == [("neighbourhood", AREA)]


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("neighbourhood/Centrum", ("Centrum", "CBS neighbourhood code")),
        ("neighbourhood/WK036300", ("WK036300",)),
        ("street/BU03620001", ("target",)),
        ("budget/" + "x" * 65, ("target_id",)),
        ("budget/bad%20id", ("target_id",)),
    ],
)
async def test_what_cannot_be_followed_is_refused_with_a_problem(
    api: Api, path: str, words: tuple[str, ...]
) -> None:
    response = await api.client.put(f"{BASE}/contacts/{RESIDENT}/follows/{path}", headers=ME)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert all(word in response.text for word in words), response.text
    assert await api.follows_in_database(RESIDENT) == []


async def test_erasure_removes_what_the_person_follows_and_nobody_elses(api: Api) -> None:
    for person in (RESIDENT, "resident-18"):
        for path in (f"neighbourhood/{AREA}", "budget/budget-centrum-2026"):
            response = await api.client.put(
                f"{BASE}/contacts/{person}/follows/{path}", headers=STAFF
            )
            assert response.status_code == 200, response.text
    contact = await api.client.put(
        f"{BASE}/contacts/{RESIDENT}", json={"email": "r17@example.org"}, headers=ME
    )
    assert contact.status_code == 200, contact.text

    erased = await api.client.delete(f"{BASE}/contacts/{RESIDENT}", headers=ME)

    assert erased.status_code == 204
    assert await api.follows_in_database(RESIDENT) == []
    assert len(await api.follows_in_database("resident-18")) == 2
    listed = await api.client.get(f"{BASE}/contacts/{RESIDENT}/follows", headers=ME)
    assert listed.status_code == 200 and listed.json() == []
