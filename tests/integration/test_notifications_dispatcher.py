"""The dispatcher on a real database: claim, send, record; retries, crashes and replicas.

The mail server is a fake here (what it refuses is the point); the end-to-end test with a real
SMTP server is in test_notifications_flow.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.notifications import handlers
from services.notifications.bootstrap import bootstrap
from services.notifications.dispatcher import Dispatcher
from services.notifications.domain import commands
from services.notifications.domain.model import Cause, Message, MessageStatus
from services.notifications.mailer import DeliveryError
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from services.notifications.rendering import Renderer
from services.notifications.settings import NotificationsSettings
from shared.contracts.envelope import ce_attributes
from shared.messaging.outbox import decode_headers
from shared.migrations import upgrade_to_head
from shared.runtime import Runtime, ensure_outbox_slots
from shared.testing.helpers import settings_for

M = "GM0362"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeMailer:
    """Accepts everything, or refuses the next ``refusals`` sends with the given error."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.sent: list[EmailMessage] = []
        self.refusals: list[DeliveryError] = []
        self.delay_s = delay_s

    async def send(self, message: EmailMessage) -> None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.refusals:
            raise self.refusals.pop(0)
        self.sent.append(message)


def make_settings(url: str, **extra: Any) -> NotificationsSettings:
    return settings_for(
        NotificationsSettings,
        kafka="127.0.0.1:1",
        namespace="t.",
        database_url=url,
        dispatch_max_attempts=3,
        dispatch_retry_initial_seconds=60,
        dispatch_retry_max_seconds=600,
        dispatch_lease_seconds=300,
        **extra,
    )


async def start(url: str) -> Runtime:
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    runtime = bootstrap(make_settings(url))
    await ensure_outbox_slots(runtime)
    return runtime


def dispatcher(runtime: Runtime, mailer: FakeMailer, clock: Clock) -> Dispatcher:
    settings = runtime.settings
    assert isinstance(settings, NotificationsSettings)
    assert runtime.unit_of_work is not None
    return Dispatcher(
        unit_of_work=runtime.unit_of_work,  # type: ignore[arg-type]
        mailer=mailer,
        renderer=Renderer(settings.public_base_url),
        settings=settings,
        clock=clock,
    )


def uow_of(runtime: Runtime) -> NotificationsUnitOfWork:
    assert runtime.unit_of_work is not None
    uow = runtime.unit_of_work()
    assert isinstance(uow, NotificationsUnitOfWork)
    return uow


async def compose_rejections(runtime: Runtime, people: list[str], *, contacts: bool = True) -> None:
    """One 'initiative rejected' message per person, each from its own event."""
    for person in people:
        async with uow_of(runtime) as uow:
            if contacts:
                await handlers.save_contact(
                    commands.SaveContact(email=f"{person}@example.org"),
                    municipality=M,
                    person_id=person,
                    uow=uow,
                )
        async with uow_of(runtime) as uow:
            await handlers.notify_initiative_decided(
                commands.NotifyInitiativeDecided(
                    cause=Cause(
                        source="urn:nld:gemeente-GM0362:systeem:inspraak-initiatives",
                        event_id=f"decided-{person}",
                        event_type="nl.inspraak.initiatives.initiative-decided",
                        correlation_id=f"corr-{person}",
                    ),
                    initiative_id=f"init-{person}",
                    initiator_id=person,
                    title="Bankjes",
                    decision="rejected",
                    reasons="Geen ruimte in het park.",
                ),
                municipality=M,
                uow=uow,
            )
            await uow.commit()


async def only_message(runtime: Runtime, person: str) -> Message:
    async with uow_of(runtime) as uow:
        [message] = await uow.messages.list_for(M, person)
    return message


async def outbox_rows(runtime: Runtime) -> list[Any]:
    async with runtime.engine.connect() as connection:
        return list((await connection.execute(select(runtime.tables.outbox))).all())


@pytest.fixture
async def sqlite_runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = await start(f"sqlite+aiosqlite:///{tmp_path}/notifications.sqlite3")
    yield runtime
    await runtime.engine.dispose()


async def test_a_sent_message_is_marked_sent_and_delivery_is_published_in_one_go(
    sqlite_runtime: Runtime,
) -> None:
    runtime, mailer, clock = sqlite_runtime, FakeMailer(), Clock()
    await compose_rejections(runtime, ["resident-1"])
    clock.now = datetime.now(UTC) + timedelta(seconds=1)

    assert await dispatcher(runtime, mailer, clock).dispatch_batch() == 1

    message = await only_message(runtime, "resident-1")
    assert (message.status, message.attempts, message.sent_at) == (MessageStatus.SENT, 1, clock.now)
    [email] = mailer.sent
    assert email["To"] == "resident-1@example.org"
    assert email["From"] == "Inspraak <no-reply@inspraak.example>"
    assert email["Message-ID"] == f"<{message.idempotency_key}@inspraak.example>"
    assert email["Content-Language"] == "nl"
    assert email["List-Unsubscribe"] == (
        "<https://inspraak.example.nl/GM0362/notifications/unsubscribe?person=resident-1>"
    )
    assert "Geen ruimte in het park." in email.get_body(("plain",)).get_content()
    [row] = await outbox_rows(runtime)
    attributes = ce_attributes(decode_headers(row.headers))
    assert attributes["type"] == "nl.inspraak.notifications.message-delivered"
    assert attributes["correlationid"] == "corr-resident-1"
    assert attributes["causationid"] == "decided-resident-1"
    assert json.loads(row.value) == {
        "municipality": M,
        "recipient_id": "resident-1",
        "channel": "email",
        "cause_event_id": "decided-resident-1",
        "cause_event_type": "nl.inspraak.initiatives.initiative-decided",
        "message_key": message.idempotency_key,
        "notice": "initiative_rejected",
    }
    assert email.get_content_type() == "multipart/alternative"
    html = email.get_body(("html",))
    assert html is not None and "Geen ruimte in het park." in html.get_content()
    # Nothing is due any more: a second sweep sends nothing.
    assert await dispatcher(runtime, mailer, clock).dispatch_batch() == 0
    assert len(mailer.sent) == 1


async def test_a_refused_send_is_retried_with_backoff_and_fails_after_the_last_attempt(
    sqlite_runtime: Runtime,
) -> None:
    runtime, mailer, clock = sqlite_runtime, FakeMailer(), Clock()
    await compose_rejections(runtime, ["resident-2"])
    clock.now = datetime.now(UTC) + timedelta(seconds=1)
    mailer.refusals = [DeliveryError("451 try later", permanent=False) for _ in range(3)]
    worker = dispatcher(runtime, mailer, clock)

    assert await worker.dispatch_batch() == 1
    message = await only_message(runtime, "resident-2")
    assert (message.status, message.attempts, message.last_error) == (
        MessageStatus.PENDING,
        1,
        "451 try later",
    )
    assert message.next_attempt_at == clock.now + timedelta(seconds=60)

    clock.advance(59)
    assert await worker.dispatch_batch() == 0  # not due yet: no hot loop
    clock.advance(1)
    assert await worker.dispatch_batch() == 1
    message = await only_message(runtime, "resident-2")
    assert message.next_attempt_at == clock.now + timedelta(seconds=120)

    clock.advance(120)
    assert await worker.dispatch_batch() == 1
    message = await only_message(runtime, "resident-2")
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 3)
    clock.advance(10_000)
    assert await worker.dispatch_batch() == 0
    assert mailer.sent == []
    [row] = await outbox_rows(runtime)  # the failure is told, once
    attributes = ce_attributes(decode_headers(row.headers))
    assert attributes["type"] == "nl.inspraak.notifications.message-failed"
    assert attributes["causationid"] == "decided-resident-2"
    assert json.loads(row.value) == {
        "municipality": M,
        "recipient_id": "resident-2",
        "channel": "email",
        "cause_event_id": "decided-resident-2",
        "cause_event_type": "nl.inspraak.initiatives.initiative-decided",
        "message_key": message.idempotency_key,
        "notice": "initiative_rejected",
        "attempts": 3,
        "reason": "451 try later",
    }


async def test_a_permanent_refusal_fails_at_once(sqlite_runtime: Runtime) -> None:
    runtime, mailer, clock = sqlite_runtime, FakeMailer(), Clock()
    await compose_rejections(runtime, ["resident-3"])
    clock.now = datetime.now(UTC) + timedelta(seconds=1)
    mailer.refusals = [DeliveryError("recipient refused: [550]", permanent=True)]

    await dispatcher(runtime, mailer, clock).dispatch_batch()

    message = await only_message(runtime, "resident-3")
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)


async def test_a_crash_mid_send_is_visible_and_resent_after_the_lease_with_the_same_message_id(
    sqlite_runtime: Runtime,
) -> None:
    runtime, mailer, clock = sqlite_runtime, FakeMailer(), Clock()
    await compose_rejections(runtime, ["resident-4"])
    clock.now = datetime.now(UTC) + timedelta(seconds=1)
    async with uow_of(runtime) as uow:  # a dispatcher claims, then its process dies
        await uow.messages.claim_due(now=clock.now, stale_before=clock.now, limit=10)
        await uow.commit()
    assert (await only_message(runtime, "resident-4")).status is MessageStatus.SENDING

    worker = dispatcher(runtime, mailer, clock)
    clock.advance(299)
    assert await worker.dispatch_batch() == 0  # it may still be sending: leave it alone
    clock.advance(2)
    assert await worker.dispatch_batch() == 1

    message = await only_message(runtime, "resident-4")
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
    [email] = mailer.sent
    assert email["Message-ID"] == f"<{message.idempotency_key}@inspraak.example>"


async def test_contact_details_gone_before_sending_leave_the_message_undeliverable(
    sqlite_runtime: Runtime,
) -> None:
    runtime, mailer, clock = sqlite_runtime, FakeMailer(), Clock()
    await compose_rejections(runtime, ["resident-5"])
    async with uow_of(runtime) as uow:
        await uow.contacts.delete(M, "resident-5")
        await uow.commit()
    clock.now = datetime.now(UTC) + timedelta(seconds=1)

    await dispatcher(runtime, mailer, clock).dispatch_batch()

    message = await only_message(runtime, "resident-5")
    assert message.status is MessageStatus.UNDELIVERABLE
    assert mailer.sent == []


async def test_replicas_on_postgresql_never_send_the_same_message_twice(
    postgres_url: str,
) -> None:
    runtime = await start(postgres_url)
    try:
        people = [f"resident-{n}" for n in range(24)]
        await compose_rejections(runtime, people)
        settings = make_settings(postgres_url, dispatch_batch_size=5)
        clock = Clock()
        clock.now = datetime.now(UTC) + timedelta(seconds=1)
        mailers = [FakeMailer(delay_s=0.01) for _ in range(3)]
        workers = [
            Dispatcher(
                unit_of_work=runtime.unit_of_work,  # type: ignore[arg-type]
                mailer=mailer,
                renderer=Renderer(settings.public_base_url),
                settings=settings,
                clock=clock,
            )
            for mailer in mailers
        ]

        async def drain(worker: Dispatcher) -> None:
            while await worker.dispatch_batch():
                pass

        await asyncio.gather(*(drain(w) for w in workers))

        sent = [email["To"] for mailer in mailers for email in mailer.sent]
        assert sorted(sent) == sorted(f"{p}@example.org" for p in people)
        assert sum(1 for mailer in mailers if mailer.sent) > 1  # the work was shared
        assert len(await outbox_rows(runtime)) == len(people)
    finally:
        await runtime.engine.dispose()


async def test_concurrent_sends_share_transactions_and_one_bad_write_holds_back_no_other(
    sqlite_runtime: Runtime,
) -> None:
    runtime, mailer, clock = sqlite_runtime, FakeMailer(delay_s=0.01), Clock()
    people = [f"resident-g{n}" for n in range(12)]
    await compose_rejections(runtime, people)
    clock.now = datetime.now(UTC) + timedelta(seconds=1)
    settings = make_settings(str(runtime.engine.url), smtp_connections=6)
    worker = Dispatcher(
        unit_of_work=runtime.unit_of_work,  # type: ignore[arg-type]
        mailer=mailer,
        renderer=Renderer(settings.public_base_url),
        settings=settings,
        clock=clock,
    )

    assert await worker.dispatch_batch() == 12

    statuses = [(await only_message(runtime, p)).status for p in people]
    assert statuses == [MessageStatus.SENT] * 12 and len(mailer.sent) == 12
    assert len(await outbox_rows(runtime)) == 12  # one message-delivered each
    # Six sends at a time; their outcomes were committed together, not one by one.
    assert worker.records.transactions < 12

    extra = ["resident-h1", "resident-h2", "resident-h3"]
    await compose_rejections(runtime, extra)
    async with uow_of(runtime) as uow:
        claimed = await uow.messages.claim_due(
            now=clock.now + timedelta(seconds=5), stale_before=clock.now, limit=10
        )
        await uow.commit()
    by_person = {m.recipient_id: m for m in claimed}

    def sent(person: str) -> Any:
        async def write(uow: NotificationsUnitOfWork) -> None:
            if person == "resident-h2":
                raise RuntimeError("this row cannot be written")
            await uow.messages.mark_sent(by_person[person].id, clock.now)

        return write

    outcomes = await asyncio.gather(
        *(worker.records.record(sent(p)) for p in extra), return_exceptions=True
    )

    assert [type(o).__name__ for o in outcomes] == ["NoneType", "RuntimeError", "NoneType"]
    assert [(await only_message(runtime, p)).status for p in extra] == [
        MessageStatus.SENT,
        MessageStatus.SENDING,  # left for the lease, like a crash mid-send
        MessageStatus.SENT,
    ]
