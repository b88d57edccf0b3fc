"""Who is told what (rules as data), preferences, digests, quiet hours, feed and fan-out.

Events go through the consumer's routes into a real SQLite database; the API runs without
Kafka. The feed's server-sent-events stream is read from a real uvicorn server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn

from services.notifications import handlers
from services.notifications.app import create_app
from services.notifications.domain.model import MessageStatus
from services.notifications.entrypoints import consumers
from services.notifications.fanout import FanoutWorker
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from services.notifications.settings import NotificationsSettings
from shared.auth import Role
from shared.contracts import advisory, initiatives
from shared.contracts.base import EventData
from shared.contracts.envelope import Envelope
from shared.migrations import upgrade_to_head
from shared.testing.helpers import eventually, settings_for, token
from shared.testing.processes import free_port

M = "GM0362"
BASE = f"/v1/municipalities/{M}"
STAFF = token(Role.CIVIL_SERVANT, subject="ambtenaar-1")
INITIATIVES = "urn:nld:gemeente-GM0362:systeem:inspraak-initiatives"
ADVISORY = "urn:nld:gemeente-GM0362:systeem:inspraak-advisory"


class Service:
    def __init__(self, app: Any, client: httpx.AsyncClient) -> None:
        self.app, self.client = app, client

    def uow(self) -> NotificationsUnitOfWork:
        uow = self.app.state.unit_of_work()
        assert isinstance(uow, NotificationsUnitOfWork)
        return uow

    async def consume(self, *events: EventData, source: str = INITIATIVES) -> list[Envelope]:
        envelopes = [Envelope.wrap(e, source=source) for e in events]
        async with self.uow() as uow:
            for envelope in envelopes:
                await consumers.routes.handlers[envelope.type](envelope, uow)
            await uow.commit()
        return envelopes

    async def contact(self, person: str, **extra: Any) -> None:
        response = await self.client.put(
            f"{BASE}/contacts/{person}",
            json={"email": f"{person}@example.org", **extra},
            headers=STAFF,
        )
        assert response.status_code == 200, response.text

    async def told(self, person: str) -> list[tuple[str, str, str]]:
        async with self.uow() as uow:
            found = await uow.messages.list_for(M, person, feed=True)
        return sorted((m.kind.value, m.channel.value, m.status.value) for m in found)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    url = f"sqlite+aiosqlite:///{tmp_path}/notifications.sqlite3"
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    settings = settings_for(
        NotificationsSettings,
        kafka="127.0.0.1:1",
        namespace="t.",
        database_url=url,
        feed_poll_seconds=0.2,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Service(app, client)
    await app.state.runtime.engine.dispose()


def submitted(initiative: str = "init-1", neighbourhood: str = "BU03620001") -> EventData:
    return initiatives.InitiativeSubmitted(
        municipality=M,
        initiative_id=initiative,
        title="Bankjes in het park",
        neighbourhood=neighbourhood,
        theme="groen",
        initiative_type="buurt-klein",
        requested_amount_cents=80_000,
        funding_source=initiatives.FundingSource.NEIGHBOURHOOD_BUDGET,
        initiator_id="initiator-1",
        submitted_at=datetime.now(UTC),
    )


def ready(initiative: str = "init-1") -> EventData:
    return initiatives.InitiativeReadyForDecision(
        municipality=M,
        initiative_id=initiative,
        advice_round_id="round-1",
        advice_positions=["positive"],
        requested_amount_cents=80_000,
    )


def decided(decision: initiatives.Decision) -> EventData:
    return initiatives.InitiativeDecided(
        municipality=M,
        initiative_id="init-1",
        title="Bankjes in het park",
        neighbourhood="BU03620001",
        theme="groen",
        initiative_type="buurt-klein",
        requested_amount_cents=80_000,
        funding_source=initiatives.FundingSource.NEIGHBOURHOOD_BUDGET,
        initiator_id="initiator-1",
        decision=decision,
        reasons="Past bij het buurtplan.",
        decided_by="holder-1",
        decided_at=datetime.now(UTC),
    )


def support(person: str, *, withdrawn: bool = False) -> EventData:
    model = initiatives.SupportWithdrawn if withdrawn else initiatives.SupportRegistered
    return model(municipality=M, initiative_id="init-1", supporter_id=person, support_count=1)


async def test_budget_holders_of_the_neighbourhood_are_told_and_a_municipality_can_turn_it_off(
    service: Service,
) -> None:
    for holder, neighbourhoods in (
        ("holder-centrum", ["BU03620001"]),
        ("holder-all", []),
        ("holder-noord", ["BU03620009"]),
    ):
        response = await service.client.put(
            f"{BASE}/budget-holders/{holder}",
            json={"neighbourhoods": neighbourhoods},
            headers=STAFF,
        )
        assert response.status_code == 200, response.text
    await service.consume(submitted(), ready())

    assert await service.told("holder-centrum") == [
        ("ready_for_decision", "email", "undeliverable"),
        ("ready_for_decision", "feed", "sent"),
    ]
    assert await service.told("holder-all") != []
    assert await service.told("holder-noord") == []

    rules = (await service.client.get(f"{BASE}/notification-rules", headers=STAFF)).json()
    assert {"municipality": "*", "audience": "budget_holders"}.items() <= next(
        r for r in rules if r["notice"] == "ready_for_decision"
    ).items()
    off = await service.client.put(
        f"{BASE}/notification-rules",
        json={
            "event_type": initiatives.InitiativeReadyForDecision.event_type(),
            "audience": "budget_holders",
            "notice": "ready_for_decision",
            "enabled": False,
        },
        headers=STAFF,
    )
    assert off.status_code == 200, off.text
    await service.consume(submitted("init-2"), ready("init-2"))
    async with service.uow() as uow:
        messages = await uow.messages.list_for(M, "holder-all", feed=True)
    assert len(messages) == 2  # only the first initiative's


async def test_council_members_hear_of_overdue_advice_and_only_chair_and_secretary_of_escalation(
    service: Service,
) -> None:
    council = advisory.CouncilKind.NEIGHBOURHOOD_COUNCIL
    members = [
        advisory.CouncilMemberAppointed(
            municipality=M,
            council_id="council-1",
            member_id=person,
            role=role,
            council_kind=council,
        )
        for person, role in (
            ("m-chair", advisory.MemberRole.CHAIR),
            ("m-secretary", advisory.MemberRole.SECRETARY),
            ("m-member", advisory.MemberRole.MEMBER),
        )
    ]
    deadline = datetime.now(UTC) - timedelta(hours=1)
    await service.consume(submitted())
    await service.consume(
        *members,
        advisory.AdviceOverdue(
            municipality=M,
            round_id="round-1",
            subject_kind=advisory.SubjectKind.INITIATIVE,
            subject_id="init-1",
            request_id="req-1",
            council_id="council-1",
            deadline=deadline,
        ),
        advisory.AdviceRoundCompleted(
            municipality=M,
            round_id="round-1",
            subject_kind=advisory.SubjectKind.INITIATIVE,
            subject_id="init-1",
            advice=[advisory.GivenAdvice(council_id="council-1", position=None, motivation="")],
            closed_after_escalation=True,
            completed_at=datetime.now(UTC),
        ),
        source=ADVISORY,
    )

    kinds = {
        person: {kind for kind, channel, _ in await service.told(person) if channel == "feed"}
        for person in ("m-chair", "m-secretary", "m-member")
    }
    # Without ``escalate_to`` (an older advisory), the officers are found in the council view;
    # they hear the escalation instead of the reminder, and the round's closing adds nothing.
    assert kinds == {
        "m-chair": {"advice_overdue_escalated"},
        "m-secretary": {"advice_overdue_escalated"},
        "m-member": {"advice_overdue"},
    }
    async with service.uow() as uow:
        [overdue] = [
            m
            for m in await uow.messages.list_for(M, "m-member", feed=True)
            if m.kind.value == "advice_overdue" and m.channel.value == "feed"
        ]
    assert "Bankjes in het park" in overdue.subject  # the title from initiatives' events


async def test_supporters_at_the_decision_are_told_in_batches_that_resume_without_duplicates(
    service: Service,
) -> None:
    people = [f"supporter-{n:02d}" for n in range(7)]
    await service.consume(submitted(), *(support(p) for p in people))
    await service.consume(support("supporter-03", withdrawn=True))
    envelope, *_ = await service.consume(decided(initiatives.Decision.APPROVED))

    worker = FanoutWorker(unit_of_work=service.uow, batch_size=2, idle_seconds=0.1)
    assert await worker.step() == 2  # one batch, then "crash": a new worker resumes
    async with service.uow() as uow:  # the same event again: no second job
        await consumers.routes.handlers[envelope.type](envelope, uow)
        await uow.commit()
    await FanoutWorker(unit_of_work=service.uow, batch_size=2, idle_seconds=0.1).drain()

    told = {p: await service.told(p) for p in people}
    assert told.pop("supporter-03") == []
    assert all(
        t
        == [
            ("supported_initiative_decided", "email", "undeliverable"),
            ("supported_initiative_decided", "feed", "sent"),
        ]
        for t in told.values()
    ), told
    # An approval reaches the initiator with the money (budgets): only the submission so far.
    assert {kind for kind, _, _ in await service.told("initiator-1")} == {"initiative_submitted"}


async def test_a_daily_digest_bundles_held_messages_and_quiet_hours_hold_what_is_immediate(
    service: Service,
) -> None:
    await service.contact("m-digest")
    await service.contact("m-quiet")
    digest = await service.client.put(
        f"{BASE}/contacts/m-digest/preferences",
        json={"frequencies": {"advice": "daily"}},
        headers=token(Role.COUNCIL_MEMBER, subject="m-digest"),
    )
    assert digest.status_code == 200, digest.text
    now = datetime.now(UTC)
    local = now.astimezone(ZoneInfo("Europe/Amsterdam"))
    window = {
        "start": (local - timedelta(hours=1)).strftime("%H:%M"),
        "end": (local + timedelta(hours=1)).strftime("%H:%M"),
    }
    quiet = await service.client.put(
        f"{BASE}/contacts/m-quiet/preferences", json={"quiet_hours": window}, headers=STAFF
    )
    assert quiet.status_code == 200, quiet.text
    council = advisory.CouncilKind.NEIGHBOURHOOD_COUNCIL
    appointments = [
        advisory.CouncilMemberAppointed(
            municipality=M,
            council_id="council-1",
            member_id=person,
            role=advisory.MemberRole.MEMBER,
            council_kind=council,
        )
        for person in ("m-digest", "m-quiet")
    ]
    requests = [
        advisory.AdviceRequested(
            municipality=M,
            round_id=f"round-{n}",
            subject_kind=advisory.SubjectKind.POLICY,
            subject_id=f"policy-{n}",
            request_id=f"req-{n}",
            council_id="council-1",
            council_kind=council,
            title=f"Beleidsstuk {n}",
            deadline=now + timedelta(days=14),
        )
        for n in (1, 2)
    ]
    await service.consume(*appointments, *requests, source=ADVISORY)

    async with service.uow() as uow:
        held = await uow.messages.list_for(M, "m-digest")
        quiet_ones = await uow.messages.list_for(M, "m-quiet")
    assert {m.status for m in held} == {MessageStatus.HELD}
    due = held[0].next_attempt_at
    assert due is not None and due > now
    assert all(m.status is MessageStatus.PENDING for m in quiet_ones)
    assert all(
        m.next_attempt_at and m.next_attempt_at > now + timedelta(minutes=50) for m in quiet_ones
    )

    for _ in range(2):  # a repeated sweep (e.g. after a crash) composes nothing new
        async with service.uow() as uow:
            assert await handlers.bundle_digests(uow, now=now, limit=10) == 0
            await handlers.bundle_digests(uow, now=due, limit=10)
            await uow.commit()
    async with service.uow() as uow:
        after = await uow.messages.list_for(M, "m-digest")
    [digest_message] = [m for m in after if m.kind.value == "digest"]
    assert digest_message.status is MessageStatus.PENDING
    assert "Beleidsstuk 1" in digest_message.body and "Beleidsstuk 2" in digest_message.body
    assert digest_message.html and "Beleidsstuk 2" in digest_message.html
    bundled = [m for m in after if m.kind.value == "advice_requested"]
    assert {(m.status, m.bundled_into) for m in bundled} == {
        (MessageStatus.BUNDLED, digest_message.id)
    }


async def test_the_feed_lists_marks_read_and_streams_new_entries_as_server_sent_events(
    service: Service,
) -> None:
    me = token(Role.INITIATOR, subject="initiator-1")
    await service.consume(submitted())
    await service.consume(decided(initiatives.Decision.REJECTED))
    submission, first = (
        await service.client.get(f"{BASE}/contacts/initiator-1/feed", headers=me)
    ).json()
    assert submission["kind"] == "initiative_submitted"
    assert first["kind"] == "initiative_rejected" and first["read_at"] is None
    others = await service.client.get(
        f"{BASE}/contacts/initiator-1/feed", headers=token(Role.RESIDENT, subject="nosy")
    )
    assert others.status_code == 403
    read = await service.client.post(
        f"{BASE}/contacts/initiator-1/feed/{first['id']}/read", headers=me
    )
    assert read.status_code == 204

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(service.app, host="127.0.0.1", port=port, lifespan="off", log_level="error")
    )
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started, timeout_s=10, interval_s=0.02)
        received: list[dict[str, Any]] = []
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
            client.stream(
                "GET",
                f"{BASE}/contacts/initiator-1/feed/stream",
                headers={**me, "Last-Event-ID": first["id"]},
            ) as stream,
        ):
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            budget = initiatives.InitiativeDecided  # a second event for the same person
            await service.consume(
                budget.model_validate(
                    {**decided(initiatives.Decision.REJECTED).model_dump(), "title": "Tweede"}
                )
            )
            async with asyncio.timeout(5):
                async for line in lines:
                    if line.startswith("data: "):
                        received.append(json.loads(line[6:]))
                        break
    finally:
        server.should_exit = True
        await serving
    [entry] = received
    assert entry["id"] != first["id"] and "Tweede" in entry["subject"]
