"""A fan-out batch is written in one statement, on SQLite and PostgreSQL, and still only once.

``add_many_once`` is what composing a batch uses, ``mark_many_sent`` what the dispatcher's
group commit uses: both must keep the one-message-per-key guarantee and say exactly which
rows they wrote, or the dispatcher would not be woken (or would tell of a send twice).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.notifications.bootstrap import bootstrap
from services.notifications.domain.model import (
    Cause,
    Channel,
    Language,
    Message,
    MessageStatus,
    NoticeKind,
)
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from services.notifications.settings import NotificationsSettings
from shared.migrations import upgrade_to_head
from shared.runtime import Runtime
from shared.testing.helpers import settings_for

M = "GM0362"
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Runtime]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/notifications.sqlite3"
    else:
        url = request.getfixturevalue("postgres_url")
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    settings = settings_for(
        NotificationsSettings, kafka="127.0.0.1:1", namespace="t.", database_url=url
    )
    runtime = bootstrap(settings)  # builds objects only: nothing connects to Kafka here
    yield runtime
    await runtime.engine.dispose()


def uow_of(runtime: Runtime) -> NotificationsUnitOfWork:
    assert runtime.unit_of_work is not None
    uow = runtime.unit_of_work()
    assert isinstance(uow, NotificationsUnitOfWork)
    return uow


def message(person: str, attempt: int, status: MessageStatus = MessageStatus.PENDING) -> Message:
    """A message as a (re)composed batch builds it: a new row id, the same idempotency key."""
    return Message(
        id=f"{person}-{attempt}",
        idempotency_key=f"key-{person}",
        municipality=M,
        recipient_id=person,
        channel=Channel.EMAIL,
        kind=NoticeKind.SUPPORTED_INITIATIVE_DECIDED,
        language=Language.DUTCH,
        subject="Besluit",
        body="Tekst",
        cause=Cause(source="urn:x", event_id="e-1", event_type="t", correlation_id="c"),
        status=status,
        next_attempt_at=NOW,
        created_at=NOW,
    )


async def test_a_repeated_batch_adds_only_the_messages_that_were_not_there(
    runtime: Runtime,
) -> None:
    first = [message(f"p{n}", 1) for n in range(3)]
    async with uow_of(runtime) as uow:
        assert await uow.messages.add_many_once(first) == {"key-p0", "key-p1", "key-p2"}
        await uow.commit()

    # The batch again after a crash, one person more: only the new one goes in.
    again = [message(f"p{n}", 2) for n in range(4)]
    async with uow_of(runtime) as uow:
        assert await uow.messages.add_many_once(again) == {"key-p3"}
        await uow.commit()

    async with uow_of(runtime) as uow:
        stored = [await uow.messages.get(f"p{n}-1") for n in range(3)]
        assert all(m is not None for m in stored)
        assert await uow.messages.get("p0-2") is None
        assert await uow.messages.get("p3-2") is not None
        assert await uow.messages.add_many_once([]) == set()


async def test_many_sends_are_marked_in_one_go_except_what_is_no_longer_sending(
    runtime: Runtime,
) -> None:
    async with uow_of(runtime) as uow:
        await uow.messages.add_many_once([message(f"p{n}", 1) for n in range(3)])
        await uow.commit()
    async with uow_of(runtime) as uow:
        claimed = await uow.messages.claim_due(now=NOW, stale_before=NOW, limit=10)
        await uow.commit()
    assert {m.id for m in claimed} == {"p0-1", "p1-1", "p2-1"}
    async with uow_of(runtime) as uow:  # erased while its e-mail was on the way
        await uow.messages.erase_for(M, "p1")
        await uow.commit()

    async with uow_of(runtime) as uow:
        marked = await uow.messages.mark_many_sent(["p0-1", "p1-1", "p2-1"], NOW)
        await uow.commit()
    assert marked == {"p0-1", "p2-1"}

    async with uow_of(runtime) as uow:
        for message_id in ("p0-1", "p2-1"):
            sent = await uow.messages.get(message_id)
            assert sent is not None and sent.status is MessageStatus.SENT
            assert sent.sent_at == NOW
        # A second outcome for the same send writes nothing.
        assert await uow.messages.mark_many_sent(["p0-1"], NOW) == set()
