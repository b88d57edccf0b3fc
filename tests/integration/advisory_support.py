"""An advisory service on its own SQLite database, driven through its API, handlers and timer
wheel, without Kafka: what it would publish is read back from its outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from services.advisory import handlers
from services.advisory.app import create_app
from services.advisory.domain import commands
from services.advisory.persistence.unit_of_work import AdvisoryUnitOfWork
from services.advisory.settings import AdvisorySettings
from shared.auth import Role
from shared.contracts.base import EventData
from shared.contracts.envelope import Envelope, parse_record
from shared.messaging.outbox import decode_headers
from shared.messaging.timers import TimerWheel
from shared.migrations import upgrade_to_head
from shared.testing.events import TEST_SOURCE, ready_for_review
from shared.testing.helpers import settings_for, token

BASE = "/v1/municipalities/GM0362"
OFFICIAL = token(Role.CIVIL_SERVANT, subject="civil-servant-1")


def member(person: str) -> dict[str, str]:
    return token(Role.COUNCIL_MEMBER, subject=person)


class Advisory:
    def __init__(self, tmp_path: Path, database_url: str | None = None) -> None:
        self.url = database_url or f"sqlite+aiosqlite:///{tmp_path}/advisory.sqlite3"
        self.app = create_app(
            settings_for(
                AdvisorySettings, kafka="localhost:1", namespace="t.", database_url=self.url
            )
        )
        self.uow: Callable[[], AdvisoryUnitOfWork] = self.app.state.unit_of_work
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://test"
        )

    async def start(self) -> Advisory:
        await asyncio.to_thread(upgrade_to_head, "advisory", self.url)
        return self

    async def close(self) -> None:
        await self.client.aclose()
        await self.app.state.runtime.engine.dispose()

    async def call(
        self,
        method: str,
        path: str,
        headers: dict[str, str] = OFFICIAL,
        expect: int = 0,
        **kwargs: Any,
    ) -> Any:
        response = await self.client.request(method, BASE + path, headers=headers, **kwargs)
        if expect:
            assert response.status_code == expect, response.text
        else:
            assert response.status_code < 300, response.text
        return response.json() if "json" in response.headers.get("content-type", "") else response

    async def council(self, members: dict[str, str | dict[str, Any]], **body: Any) -> Any:
        council = await self.call("POST", "/councils", json=body)
        for person, role in members.items():
            extra = role if isinstance(role, dict) else {"role": role}
            await self.call(
                "POST", f"/councils/{council['id']}/members", json={"person_id": person, **extra}
            )
        return council

    async def initiative_ready(self, now: datetime | None = None, **facts: Any) -> Any:
        """What the consumer does with `initiative ready for review`."""
        event = ready_for_review(**facts)
        async with self.uow() as uow:
            advice_round = await handlers.request_advice(
                commands.RequestAdvice(
                    subject_id=event.initiative_id,
                    title=event.title,
                    neighbourhood=event.neighbourhood,
                    theme=event.theme,
                    initiative_type=event.initiative_type,
                    amount_cents=event.requested_amount_cents,
                ),
                municipality="GM0362",
                cause=Envelope.wrap(event, source=TEST_SOURCE),
                uow=uow,
                now=now,
            )
            await uow.commit()
        return advice_round.model_dump(mode="json")

    def wheel(self, clock: Callable[[], datetime]) -> TimerWheel[AdvisoryUnitOfWork]:
        return TimerWheel(
            unit_of_work=self.uow, handlers=handlers.TIMERS, service="advisory", clock=clock
        )

    async def fire_at(self, moment: datetime) -> int:
        return await self.wheel(lambda: moment).fire_due()

    async def events(self, name: str | None = None) -> list[EventData]:
        async with self.uow() as uow:
            outbox = uow.tables.outbox
            rows = (
                await (await uow.session.connection()).execute(select(outbox).order_by(outbox.c.id))
            ).all()
        found = []
        for row in rows:
            envelope = parse_record(decode_headers(row.headers), row.value)
            assert envelope is not None
            if name is None or envelope.data.name == name:
                found.append(envelope.data)
        return found


def now() -> datetime:
    return datetime.now(UTC)
