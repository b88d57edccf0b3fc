"""The notifications use cases on a real database (SQLite), without a broker.

Composing a message only inserts rows; these tests read the rows back to prove the
exactly-once key, the wait for a decision and erasure.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.notifications import handlers
from services.notifications.bootstrap import bootstrap
from services.notifications.domain import commands
from services.notifications.domain.model import Cause, Language, MessageStatus, NoticeKind
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from services.notifications.settings import NotificationsSettings
from shared.contracts.envelope import ce_attributes
from shared.messaging.outbox import decode_headers
from shared.migrations import upgrade_to_head
from shared.runtime import Runtime
from shared.testing.helpers import settings_for

M = "GM0362"


def cause(event_id: str, event_type: str = "nl.inspraak.advisory.advice-requested") -> Cause:
    return Cause(
        source="urn:nld:gemeente-GM0362:systeem:inspraak-advisory",
        event_id=event_id,
        event_type=event_type,
        correlation_id=f"corr-{event_id}",
    )


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    url = f"sqlite+aiosqlite:///{tmp_path}/notifications.sqlite3"
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


async def save_contact(runtime: Runtime, person: str, language: Language = Language.DUTCH) -> None:
    async with uow_of(runtime) as uow:
        await handlers.save_contact(
            commands.SaveContact(email=f"{person}@example.org", language=language),
            municipality=M,
            person_id=person,
            uow=uow,
        )


async def appoint(uow: NotificationsUnitOfWork, member: str, council: str = "council-1") -> None:
    await handlers.record_council_member(
        commands.RecordCouncilMember(
            council_id=council,
            member_id=member,
            role="member",
            council_kind="neighbourhood_council",
        ),
        municipality=M,
        uow=uow,
    )


def advice_requested(event_id: str, council: str = "council-1") -> commands.NotifyAdviceRequested:
    return commands.NotifyAdviceRequested(
        cause=cause(event_id),
        request_id="req-1",
        round_id="round-1",
        council_id=council,
        council_kind="neighbourhood_council",
        subject_kind="initiative",
        subject_id="init-1",
        title="Bankjes in het park",
        deadline=datetime(2026, 1, 9, 16, 0, tzinfo=UTC),
    )


async def messages_of(runtime: Runtime, person: str) -> list[tuple[str, str, str, str]]:
    async with uow_of(runtime) as uow:
        found = await uow.messages.list_for(M, person)
    return [(m.kind.value, m.status.value, m.language.value, m.subject) for m in found]


async def test_the_same_event_composes_one_message_per_recipient_even_without_the_inbox(
    runtime: Runtime,
) -> None:
    await save_contact(runtime, "m-1")
    await save_contact(runtime, "m-2", Language.ENGLISH)
    async with uow_of(runtime) as uow:
        await appoint(uow, "m-1")
        await appoint(uow, "m-2")
        await appoint(uow, "m-9", council="council-2")
        await uow.commit()

    for _ in range(2):  # the second time is what a redelivery past the inbox would do
        async with uow_of(runtime) as uow:
            await handlers.notify_advice_requested(advice_requested("e-1"), municipality=M, uow=uow)
            await uow.commit()

    assert await messages_of(runtime, "m-1") == [
        ("advice_requested", "pending", "nl", "Vraag om advies: Bankjes in het park")
    ]
    assert await messages_of(runtime, "m-2") == [
        ("advice_requested", "pending", "en", "Request for advice: Bankjes in het park")
    ]
    assert await messages_of(runtime, "m-9") == []


async def test_a_member_without_contact_details_is_kept_as_undeliverable(
    runtime: Runtime,
) -> None:
    async with uow_of(runtime) as uow:
        await appoint(uow, "m-3")
        await handlers.notify_advice_requested(advice_requested("e-2"), municipality=M, uow=uow)
        await uow.commit()

    assert [s for _, s, _, _ in await messages_of(runtime, "m-3")] == ["undeliverable"]


async def test_a_member_who_left_is_no_longer_told_even_within_one_batch(
    runtime: Runtime,
) -> None:
    await save_contact(runtime, "m-4")
    async with uow_of(runtime) as uow:
        await appoint(uow, "m-4")
        await handlers.remove_council_member(
            commands.RemoveCouncilMember(council_id="council-1", member_id="m-4"),
            municipality=M,
            uow=uow,
        )
        await handlers.notify_advice_requested(advice_requested("e-3"), municipality=M, uow=uow)
        await uow.commit()

    assert await messages_of(runtime, "m-4") == []


async def test_a_budget_allocation_seen_before_the_decision_is_told_when_the_decision_arrives(
    runtime: Runtime,
) -> None:
    await save_contact(runtime, "resident-7")
    allocated = commands.NotifyBudgetAllocated(
        cause=cause("b-1", "nl.inspraak.budgets.budget-allocated"),
        initiative_id="init-1",
        budget_id="budget-1",
        amount_cents=125_000,
    )
    async with uow_of(runtime) as uow:
        await handlers.record_initiative(
            commands.RecordInitiative(
                initiative_id="init-1", initiator_id="resident-7", title="Bankjes in het park"
            ),
            municipality=M,
            uow=uow,
        )
        await handlers.notify_budget_allocated(allocated, municipality=M, uow=uow)
        await uow.commit()
    assert await messages_of(runtime, "resident-7") == []

    async with uow_of(runtime) as uow:
        await handlers.record_decision(
            commands.RecordDecision(
                initiative_id="init-1",
                initiator_id="resident-7",
                title="Bankjes in het park",
                decision="approved",
                reasons="Goed voor ouderen in de buurt.",
                conditions=["Overleg met de buren"],
                decided_at=datetime.now(UTC),
            ),
            municipality=M,
            uow=uow,
        )
        await uow.commit()

    async with uow_of(runtime) as uow:
        [message] = await uow.messages.list_for(M, "resident-7")
    assert message.kind is NoticeKind.BUDGET_ALLOCATED
    assert message.cause.event_id == "b-1"
    assert "€ 1.250,00" in message.body
    assert "Goed voor ouderen in de buurt." in message.body
    assert "- Overleg met de buren" in message.body

    # A later decision event (e.g. redelivered) finds nothing parked any more.
    async with uow_of(runtime) as uow:
        assert await uow.parked.waiting_for(M, "init-1") == []


async def test_erasure_removes_contact_and_unsent_messages_and_publishes_person_erased(
    runtime: Runtime,
) -> None:
    await save_contact(runtime, "m-5")
    async with uow_of(runtime) as uow:
        await appoint(uow, "m-5")
        await handlers.notify_advice_requested(advice_requested("e-5"), municipality=M, uow=uow)
        await uow.commit()
    async with uow_of(runtime) as uow:
        [message] = await uow.messages.list_for(M, "m-5")
        claimed = await uow.messages.claim_due(
            now=datetime.now(UTC) + timedelta(seconds=1),
            stale_before=datetime.now(UTC),
            limit=10,
        )
        assert [m.id for m in claimed] == [message.id]
        await uow.messages.mark_sent(message.id, datetime.now(UTC))
        await uow.commit()
    async with uow_of(runtime) as uow:
        await handlers.notify_advice_requested(advice_requested("e-6"), municipality=M, uow=uow)
        await uow.commit()
    assert [s for _, s, _, _ in await messages_of(runtime, "m-5")] == ["sent", "pending"]

    async with uow_of(runtime) as uow:
        await handlers.erase_person(municipality=M, person_id="m-5", uow=uow)

    async with uow_of(runtime) as uow:
        assert await uow.contacts.get(M, "m-5") is None
        history = await uow.messages.list_for(M, "m-5")
        outbox = (
            await (await uow.session.connection()).execute(select(runtime.tables.outbox))
        ).all()
    assert [(m.status, m.subject, m.body) for m in history] == [(MessageStatus.SENT, "", "")]
    assert history[0].recipient_id == "m-5"  # the pseudonymous history stays
    [row] = outbox
    assert row.topic == "t.notifications.events.v1"
    assert row.key == "m-5"
    assert ce_attributes(decode_headers(row.headers))["type"] == (
        "nl.inspraak.notifications.person-erased"
    )
    assert json.loads(row.value)["person_id"] == "m-5"
