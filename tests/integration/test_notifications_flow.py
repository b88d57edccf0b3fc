"""The notifications service on a real broker, a real SMTP server and SQLite.

Events are published the way advisory and initiatives publish them (CloudEvents binary mode,
key = partitionkey), then published again to prove a redelivery sends nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from shared.auth import Role
from shared.contracts import advisory, initiatives, notifications
from shared.contracts.base import EventData
from shared.contracts.envelope import Envelope
from shared.testing.events import publish
from shared.testing.helpers import eventually, read_envelopes, running, token
from tests.integration.notifications_support import (
    ADVISORY_SOURCE,
    INITIATIVES_SOURCE,
    M,
    MailDrop,
    free_port,
    message_id_prefix,
    put_contact,
    smtp_server,
    start_app,
)


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[tuple[MailDrop, int]]:
    with smtp_server() as served:
        yield served


def wrap(data: EventData, source: str = ADVISORY_SOURCE) -> Envelope:
    return Envelope.wrap(data, source=source)


def appointed(member: str, council: str) -> Envelope:
    return wrap(
        advisory.CouncilMemberAppointed(
            municipality=M,
            council_id=council,
            member_id=member,
            role=advisory.MemberRole.MEMBER,
            council_kind=advisory.CouncilKind.NEIGHBOURHOOD_COUNCIL,
        )
    )


def advice_requested(council: str, request: str, deadline: datetime) -> Envelope:
    return wrap(
        advisory.AdviceRequested(
            municipality=M,
            round_id="round-1",
            subject_kind=advisory.SubjectKind.INITIATIVE,
            subject_id="init-1",
            request_id=request,
            council_id=council,
            council_kind=advisory.CouncilKind.NEIGHBOURHOOD_COUNCIL,
            title="Bankjes in het park",
            deadline=deadline,
        )
    )


async def test_every_council_member_gets_exactly_one_email_also_when_events_are_redelivered(
    kafka: str, namespace: str, tmp_path: Path, smtp_server: tuple[MailDrop, int]
) -> None:
    drop, port = smtp_server
    app = await start_app(kafka, namespace, tmp_path, smtp_port=port)
    advisory_topic = f"{namespace}advisory.events.v1"
    deadline = datetime(2026, 1, 9, 16, 0, tzinfo=UTC)  # 17.00 uur in Amsterdam
    membership = [
        appointed("member-a", "council-1"),
        appointed("member-b", "council-1"),
        appointed("member-x", "council-1"),
        appointed("member-gone", "council-1"),
        wrap(
            advisory.CouncilMemberLeft(
                municipality=M, council_id="council-1", member_id="member-gone"
            )
        ),
        appointed("member-c", "council-2"),
    ]
    request = advice_requested("council-1", "req-1", deadline)
    # Same round, so same key and partition as `request`: once it is mailed, the redelivered
    # `request` before it has been consumed too.
    sentinel = advice_requested("council-2", "req-2", deadline)

    async with running(app) as client:
        await put_contact(client, "member-a", "nl", token(Role.COUNCIL_MEMBER, subject="member-a"))
        await put_contact(client, "member-b", "en", token(Role.SYSTEM, subject="advisory"))
        await put_contact(
            client, "member-c", "nl", token(Role.CIVIL_SERVANT, subject="civil-servant-1")
        )
        await put_contact(client, "member-gone", "nl", token(Role.SYSTEM))

        await asyncio.to_thread(publish, kafka, advisory_topic, membership)

        async def council(council_id: str) -> list[str]:
            uow = app.state.unit_of_work()
            assert isinstance(uow, NotificationsUnitOfWork)
            async with uow:
                return [m.member_id for m in await uow.councils.members(M, council_id)]

        # The request travels on another key (another partition) than the appointments.
        await eventually(
            lambda: _equals(council("council-1"), ["member-a", "member-b", "member-x"])
        )
        await eventually(lambda: _equals(council("council-2"), ["member-c"]))

        await asyncio.to_thread(publish, kafka, advisory_topic, [request])
        await eventually(lambda: len(drop.received) >= 2)

        await asyncio.to_thread(publish, kafka, advisory_topic, [*membership, request, sentinel])
        await eventually(lambda: drop.to("member-c@example.org"))
        delivered = await asyncio.to_thread(
            read_envelopes,
            kafka,
            f"{namespace}notifications.events.v1",
            until=lambda seen: len(seen) >= 3,
        )
        await asyncio.sleep(1.0)  # room for a duplicate to show up, if there were one

        undeliverable = await client.get(
            f"/v1/municipalities/{M}/contacts/member-x/messages", headers=token(Role.SYSTEM)
        )
        gone = await client.get(
            f"/v1/municipalities/{M}/contacts/member-gone/messages", headers=token(Role.SYSTEM)
        )

    assert sorted(rcpt for rcpts, _ in drop.received for rcpt in rcpts) == [
        "member-a@example.org",
        "member-b@example.org",
        "member-c@example.org",
    ]
    [dutch] = drop.to("member-a@example.org")
    [english] = drop.to("member-b@example.org")
    assert dutch["Message-ID"] == f"{message_id_prefix(request, 'member-a')}inspraak.example>"
    assert english["Message-ID"] != dutch["Message-ID"]
    assert dutch["Subject"] == "Vraag om advies: Bankjes in het park"
    assert "vrijdag 9 januari 2026 om 17.00 uur" in dutch.get_body(("plain",)).get_content()
    assert english["Subject"] == "Request for advice: Bankjes in het park"
    english_text = english.get_body(("plain",)).get_content()
    assert "Friday 9 January 2026 at 17:00 (Amsterdam time)" in english_text

    assert len(delivered) == 3
    assert {e.type for e in delivered} == {notifications.MessageDelivered.event_type()}
    by_recipient = {
        e.data.recipient_id: e
        for e in delivered
        if isinstance(e.data, notifications.MessageDelivered)
    }
    assert sorted(by_recipient) == ["member-a", "member-b", "member-c"]
    assert by_recipient["member-a"].data.cause_event_id == request.id  # type: ignore[attr-defined]
    assert by_recipient["member-a"].causationid == request.id

    assert undeliverable.status_code == 200
    assert [(m["kind"], m["status"]) for m in undeliverable.json()] == [
        ("advice_requested", "undeliverable")
    ]
    assert gone.json() == []


async def _equals(found: Any, expected: list[str]) -> bool:
    return bool(await found == expected)


async def test_erasure_removes_contact_and_pending_messages_and_publishes_person_erased(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    closed_port = free_port()  # nobody listens: every send fails and the message stays pending
    app = await start_app(
        kafka, namespace, tmp_path, smtp_port=closed_port, dispatch_retry_initial_seconds=600
    )
    resident = token(Role.RESIDENT, subject="resident-9")
    contact_url = f"/v1/municipalities/{M}/contacts/resident-9"
    decided = Envelope.wrap(
        initiatives.InitiativeDecided(
            municipality=M,
            initiative_id="init-9",
            title="Moestuin op het plein",
            neighbourhood="BU03620001",
            theme="groen",
            initiative_type="buurt-klein",
            requested_amount_cents=80_000,
            funding_source=initiatives.FundingSource.NEIGHBOURHOOD_BUDGET,
            initiator_id="resident-9",
            decision=initiatives.Decision.REJECTED,
            reasons="Het plein wordt volgend jaar opnieuw ingericht.",
            decided_by="holder-1",
            decided_at=datetime.now(UTC) - timedelta(minutes=1),
        ),
        source=INITIATIVES_SOURCE,
    )

    async with running(app) as client:
        response = await client.put(contact_url, json={"email": "r9@example.org"}, headers=resident)
        assert response.status_code == 200, response.text
        assert response.json()["language"] == "nl"
        forbidden = [
            await client.put(
                contact_url,
                json={"email": "x@example.org"},
                headers=token(Role.RESIDENT, subject="resident-10"),
            ),
            await client.delete(contact_url, headers=token(Role.CIVIL_SERVANT)),
            await client.delete(contact_url, headers=token(Role.SYSTEM, municipality="GM0363")),
        ]
        assert [r.status_code for r in forbidden] == [403, 403, 403]
        assert forbidden[0].headers["content-type"] == "application/problem+json"

        await asyncio.to_thread(publish, kafka, f"{namespace}initiatives.events.v1", [decided])

        async def told() -> list[dict[str, Any]]:
            response = await client.get(f"{contact_url}/messages", headers=resident)
            messages: list[dict[str, Any]] = response.json()
            return [m for m in messages if m["attempts"] >= 1 and m["status"] == "pending"]

        [pending] = await eventually(told)
        assert pending["kind"] == "initiative_rejected"

        response = await client.delete(contact_url, headers=resident)
        assert response.status_code == 204, response.text

        after_contact = await client.get(contact_url, headers=token(Role.SYSTEM))
        after_messages = await client.get(f"{contact_url}/messages", headers=resident)
        erased = await asyncio.to_thread(
            read_envelopes,
            kafka,
            f"{namespace}notifications.events.v1",
            until=lambda seen: any(e.type == notifications.PersonErased.event_type() for e in seen),
        )

    assert after_contact.status_code == 404
    assert after_messages.json() == []
    [event] = [e for e in erased if isinstance(e.data, notifications.PersonErased)]
    assert event.data.person_id == "resident-9"  # type: ignore[attr-defined]
    assert event.subject == event.partitionkey == "resident-9"
    assert event.municipality == M
    assert "r9@example.org" not in event.kafka_value().decode()
