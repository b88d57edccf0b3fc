"""The initiatives service on a real broker: its API writes state and events in one go."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from services.initiatives.app import create_app
from services.initiatives.settings import InitiativesSettings
from shared.auth import Role
from shared.contracts import initiatives as contract
from shared.migrations import upgrade_to_head
from shared.testing.helpers import (
    create_test_topics,
    eventually,
    read_envelopes,
    running,
    settings_for,
    token,
)

DEMO_TYPE = {
    "code": "buurt-demo",
    "name": "Demo",
    "support_threshold": 0,
    "max_amount_cents": 500_000,
    "funding_source": "neighbourhood_budget",
}
SUBMISSION = {
    "initiative_type": "buurt-demo",
    "title": "Bankjes in het park",
    "description": "Drie bankjes bij de speeltuin zodat ouderen kunnen rusten.",
    "neighbourhood": "BU03620001",
    "theme": "groen",
    "requested_amount_cents": 120_000,
}


async def test_submitting_an_initiative_publishes_submitted_and_ready_for_review(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/initiatives.sqlite3"
    await asyncio.to_thread(create_test_topics, kafka, namespace)
    await asyncio.to_thread(upgrade_to_head, "initiatives", url)
    app = create_app(
        settings_for(InitiativesSettings, kafka=kafka, namespace=namespace, database_url=url)
    )
    async with running(app) as client:
        response = await client.put(
            "/v1/municipalities/GM0362/initiative-types/buurt-demo",
            json=DEMO_TYPE,
            headers=token(Role.CIVIL_SERVANT),
        )
        assert response.status_code == 200, response.text
        response = await client.post(
            "/v1/municipalities/GM0362/initiatives",
            json=SUBMISSION,
            headers=token(Role.RESIDENT, subject="resident-7"),
        )
        assert response.status_code == 201, response.text
        initiative = response.json()
        assert initiative["status"] == "in_review"

        envelopes = await asyncio.to_thread(
            read_envelopes,
            kafka,
            f"{namespace}initiatives.events.v1",
            until=lambda seen: len(seen) >= 2,
        )
    assert [type(e.data) for e in envelopes] == [
        contract.InitiativeSubmitted,
        contract.InitiativeReadyForReview,
    ]
    assert all(e.subject == initiative["id"] for e in envelopes)
    assert envelopes[1].causationid is None
    assert envelopes[0].data.initiator_id == "resident-7"


async def test_the_running_service_fires_a_due_support_window_as_initiative_expired(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    """The timer wheel runs as the service's background task and survives as rows, not sleeps."""
    url = f"sqlite+aiosqlite:///{tmp_path}/initiatives.sqlite3"
    await asyncio.to_thread(create_test_topics, kafka, namespace)
    await asyncio.to_thread(upgrade_to_head, "initiatives", url)
    app = create_app(
        settings_for(InitiativesSettings, kafka=kafka, namespace=namespace, database_url=url)
    )
    async with running(app) as client:
        response = await client.put(
            "/v1/municipalities/GM0362/initiative-types/buurt-steun",
            json={**DEMO_TYPE, "code": "buurt-steun", "support_threshold": 10},
            headers=token(Role.CIVIL_SERVANT),
        )
        assert response.status_code == 200, response.text
        response = await client.post(
            "/v1/municipalities/GM0362/initiatives",
            json={**SUBMISSION, "initiative_type": "buurt-steun"},
            headers=token(Role.RESIDENT, subject="resident-7"),
        )
        initiative = response.json()
        assert initiative["status"] == "collecting_support"
        # Let the support window's end come now instead of in six weeks.
        async with app.state.unit_of_work() as uow:
            timer = uow.tables.timer
            connection = await uow.session.connection()
            moved = await connection.execute(
                update(timer)
                .where(timer.c.key == initiative["id"])
                .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
            )
            assert moved.rowcount == 1
            await uow.commit()

        async def expired() -> bool:
            found = await client.get(
                f"/v1/municipalities/GM0362/initiatives/{initiative['id']}",
                headers=token(Role.RESIDENT),
            )
            return bool(found.json()["status"] == "expired")

        await eventually(expired, timeout_s=10)
        envelopes = await asyncio.to_thread(
            read_envelopes,
            kafka,
            f"{namespace}initiatives.events.v1",
            until=lambda seen: any(e.type.endswith("initiative-expired") for e in seen),
        )
    assert [type(e.data) for e in envelopes] == [
        contract.InitiativeSubmitted,
        contract.InitiativeExpired,
    ]
