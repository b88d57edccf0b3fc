"""An alternative budget adopted by the municipal council reaches its drafter and co-signers.

The whole path on a real broker and a real SMTP server: budgets' event published the way the
budgets service publishes it (CloudEvents binary mode, key = partitionkey) and delivered twice
(at least once is all Kafka promises), the consumer, the rules seeded by the migrations, the
dispatcher, one e-mail per person in their language.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.notifications.app import create_app
from services.notifications.domain.model import Cause, Channel, idempotency_key
from services.notifications.settings import NotificationsSettings
from shared.auth import Role
from shared.contracts import budgets
from shared.contracts.envelope import Envelope
from shared.migrations import upgrade_to_head
from shared.testing.events import publish
from shared.testing.helpers import create_test_topics, eventually, running, settings_for, token

M = "GM0362"
BASE = f"/v1/municipalities/{M}"
BUDGETS_SOURCE = "urn:nld:gemeente-GM0362:systeem:inspraak-budgets"
AREA, BUDGET = "BU03620001", "budget-centrum-2026"
DRAFTER, CO_SIGNER = "drafter-1", "co-signer-1"


class MailDrop:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for rcpt, message in self.received if address in rcpt]


@pytest.fixture
def mailbox() -> Iterator[tuple[MailDrop, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    drop = MailDrop()
    controller = Controller(drop, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield drop, port
    finally:
        controller.stop()


def adopted() -> Envelope:
    return Envelope.wrap(
        budgets.AlternativeBudgetAdopted(
            municipality=M,
            alternative_budget_id="alt-centrum-2026",
            budget_id=BUDGET,
            neighbourhood=AREA,
            drafter_id=DRAFTER,
            co_signer_ids=[CO_SIGNER],
            adoption=budgets.AdoptionExtent.PARTLY,
            lines=[
                budgets.AdoptedLine(
                    theme="groen", proposed_cents=3_000_000, adopted_cents=3_000_000
                ),
                budgets.AdoptedLine(
                    theme="jeugd",
                    proposed_cents=2_000_000,
                    adopted_cents=1_250_000,
                    reasons="De speelplek kan goedkoper.",
                ),
            ],
            reasons="Het voorstel past bij het buurtplan.",
            decided_on=date(2026, 3, 12),
            recorded_by="griffie-1",
        ),
        source=BUDGETS_SOURCE,
    )


def text_of(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


async def test_an_adopted_alternative_budget_reaches_drafter_and_co_signer_once_each(
    kafka: str, namespace: str, tmp_path: Path, mailbox: tuple[MailDrop, int]
) -> None:
    drop, port = mailbox
    url = f"sqlite+aiosqlite:///{tmp_path}/notifications.sqlite3"
    await asyncio.to_thread(create_test_topics, kafka, namespace)
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    settings = settings_for(
        NotificationsSettings,
        kafka=kafka,
        namespace=namespace,
        database_url=url,
        dispatch_idle_seconds=0.1,
        smtp_port=port,
    )
    app = create_app(settings)
    people = {DRAFTER: "nl", CO_SIGNER: "en", "bystander": "nl"}

    async with running(app) as client:
        for person, language in people.items():
            response = await client.put(
                f"{BASE}/contacts/{person}",
                json={"email": f"{person}@example.org", "language": language},
                headers=token(Role.RESIDENT, subject=person),
            )
            assert response.status_code == 200, response.text

        event = adopted()
        # The same event twice, as a redelivery after a lost acknowledgement would bring it.
        topic = f"{namespace}budgets.events.v1"
        await asyncio.to_thread(publish, kafka, topic, [event, event])

        await eventually(
            lambda: drop.to(f"{DRAFTER}@example.org") and drop.to(f"{CO_SIGNER}@example.org"),
            timeout_s=30,
        )
        await asyncio.sleep(1.5)  # room for a second or wrong message to show up

    [drafter_mail] = drop.to(f"{DRAFTER}@example.org")
    assert drafter_mail["Subject"] == (
        f"De gemeenteraad heeft uw alternatieve begroting voor een deel aangenomen: buurt {AREA}"
    )
    drafter_text = text_of(drafter_mail)
    assert "- groen: € 30.000,00\n- jeugd: € 12.500,00 (voorgesteld: € 20.000,00)\n" in (
        drafter_text
    )
    assert "Samen is dat € 42.500,00." in drafter_text
    assert "De gemeenteraad schrijft: Het voorstel past bij het buurtplan." in drafter_text
    assert "U heeft deze alternatieve begroting opgesteld." in drafter_text
    cause = Cause(
        source=BUDGETS_SOURCE,
        event_id=event.id,
        event_type=event.type,
        correlation_id=event.correlationid,
    )
    assert drafter_mail["Message-ID"].startswith(
        f"<{idempotency_key(cause, DRAFTER, Channel.EMAIL)}@"
    )

    [co_signer_mail] = drop.to(f"{CO_SIGNER}@example.org")
    assert co_signer_mail["Subject"] == (
        f"The municipal council partly adopted your alternative budget: neighbourhood {AREA}"
    )
    co_signer_text = text_of(co_signer_mail)
    assert "- jeugd: €12,500.00 (proposed: €20,000.00)" in co_signer_text
    assert "You co-signed this alternative budget." in co_signer_text
    assert drop.to("bystander@example.org") == []
    assert len(drop.received) == 2, [m["Subject"] for _, m in drop.received]
