"""The notifications service on a real broker, a real SMTP server and SQLite: what the
notifications integration tests share to start it, feed it events and read the mail it sends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from services.notifications.app import create_app
from services.notifications.domain.model import Cause, Channel, idempotency_key
from services.notifications.settings import NotificationsSettings
from shared.auth import Role
from shared.contracts.envelope import Envelope
from shared.migrations import upgrade_to_head
from shared.testing.events import publish
from shared.testing.helpers import create_test_topics, eventually, running, settings_for, token
from shared.testing.processes import free_port

M = "GM0362"
BASE = f"/v1/municipalities/{M}"
# Where events come from, as each service stamps its own (the notifications' idempotency key
# includes it).
ADVISORY_SOURCE = "urn:nld:gemeente-GM0362:systeem:inspraak-advisory"
BUDGETS_SOURCE = "urn:nld:gemeente-GM0362:systeem:inspraak-budgets"
INITIATIVES_SOURCE = "urn:nld:gemeente-GM0362:systeem:inspraak-initiatives"


class MailDrop:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for rcpt, message in self.received if address in rcpt]

    async def wait_for(self, *addresses: str, settle_s: float) -> None:
        """Until every address has mail, then `settle_s` more: room for a second or wrong
        message to show up, which the caller's assertions would then catch."""
        await eventually(lambda: all(self.to(address) for address in addresses), timeout_s=30)
        await asyncio.sleep(settle_s)


@contextmanager
def smtp_server() -> Iterator[tuple[MailDrop, int]]:
    drop, port = MailDrop(), free_port()
    controller = Controller(drop, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield drop, port
    finally:
        controller.stop()


async def start_app(kafka: str, namespace: str, tmp_path: Path, **extra: Any) -> FastAPI:
    url = f"sqlite+aiosqlite:///{tmp_path}/notifications.sqlite3"
    await asyncio.to_thread(create_test_topics, kafka, namespace)
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    settings = settings_for(
        NotificationsSettings,
        kafka=kafka,
        namespace=namespace,
        database_url=url,
        dispatch_idle_seconds=0.1,
        **extra,
    )
    return create_app(settings)


async def put_contact(
    client: httpx.AsyncClient, person: str, language: str, headers: dict[str, str]
) -> None:
    response = await client.put(
        f"{BASE}/contacts/{person}",
        json={"email": f"{person}@example.org", "language": language},
        headers=headers,
    )
    assert response.status_code == 200, response.text


async def put_own_contacts(client: httpx.AsyncClient, languages: dict[str, str]) -> None:
    """Each resident registers their own address (person@example.org) in their language."""
    for person, language in languages.items():
        await put_contact(client, person, language, token(Role.RESIDENT, subject=person))


@asynccontextmanager
async def mailing_residents(
    kafka: str, namespace: str, tmp_path: Path, languages: dict[str, str]
) -> AsyncIterator[tuple[httpx.AsyncClient, MailDrop]]:
    """The service running against the broker and an SMTP server, each resident in `languages`
    registered; gives the service's API and the mail it sends, which outlives the service."""
    with smtp_server() as (drop, port):
        app = await start_app(kafka, namespace, tmp_path, smtp_port=port)
        async with running(app) as client:
            await put_own_contacts(client, languages)
            yield client, drop


async def publish_to(kafka: str, topic: str, events: list[Envelope]) -> None:
    await asyncio.to_thread(publish, kafka, topic, events)


def message_id_prefix(event: Envelope, recipient_id: str) -> str:
    """How the Message-ID of the e-mail telling `recipient_id` about `event` starts."""
    cause = Cause(
        source=event.source,
        event_id=event.id,
        event_type=event.type,
        correlation_id=event.correlationid,
    )
    return f"<{idempotency_key(cause, recipient_id, Channel.EMAIL)}@"


def text_of(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")
