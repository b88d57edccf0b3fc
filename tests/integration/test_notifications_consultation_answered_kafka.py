"""A resident who gave input on a policy consultation hears the municipality's answer, once.

The whole path on a real broker and a real SMTP server: advisory's events published the way
the advisory service publishes them (CloudEvents binary mode, key = partitionkey), the answer
delivered twice (at least once is all Kafka promises), the consumer, the rules seeded by the
migrations, the dispatcher, one e-mail per resident in their language.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from services.notifications.app import create_app
from services.notifications.domain.model import Cause, Channel, idempotency_key
from services.notifications.settings import NotificationsSettings
from shared.auth import Role
from shared.contracts import advisory
from shared.contracts.envelope import Envelope
from shared.migrations import upgrade_to_head
from shared.testing.events import publish
from shared.testing.helpers import create_test_topics, eventually, running, settings_for, token
from tests.integration.test_notifications_alternative_budget_kafka import MailDrop, text_of

M = "GM0362"
BASE = f"/v1/municipalities/{M}"
ADVISORY_SOURCE = "urn:nld:gemeente-GM0362:systeem:inspraak-advisory"
CONSULTATION = "cons-speelruimte-2026"
ANSWERED_AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
RESIDENT, OTHER_RESIDENT = "resident-7", "resident-8"


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


def opened() -> Envelope:
    return Envelope.wrap(
        advisory.ConsultationOpened(
            municipality=M,
            consultation_id=CONSULTATION,
            title="Speelruimteplan 2026",
            summary="Waar kinderen spelen.",
            link="https://gemeente.example/speelruimteplan.pdf",
            open_to_residents=True,
            closes_at=ANSWERED_AT - timedelta(days=14),
        ),
        source=ADVISORY_SOURCE,
    )


def answered() -> Envelope:
    return Envelope.wrap(
        advisory.ConsultationAnswered(
            municipality=M,
            consultation_id=CONSULTATION,
            answered_at=ANSWERED_AT,
            adopted=3,
            partly_adopted=1,
            not_adopted=2,
            contributor_ids=[RESIDENT, OTHER_RESIDENT],
        ),
        source=ADVISORY_SOURCE,
    )


async def test_a_consultation_answer_reaches_each_contributing_resident_exactly_once(
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
    people = {RESIDENT: "nl", OTHER_RESIDENT: "en", "bystander": "nl"}

    async with running(app) as client:
        for person, language in people.items():
            response = await client.put(
                f"{BASE}/contacts/{person}",
                json={"email": f"{person}@example.org", "language": language},
                headers=token(Role.RESIDENT, subject=person),
            )
            assert response.status_code == 200, response.text

        event = answered()
        # The answer twice, as a redelivery after a lost acknowledgement would bring it; same
        # key as the opening, so it arrives after it.
        topic = f"{namespace}advisory.events.v1"
        await asyncio.to_thread(publish, kafka, topic, [opened(), event, event])

        await eventually(
            lambda: drop.to(f"{RESIDENT}@example.org") and drop.to(f"{OTHER_RESIDENT}@example.org"),
            timeout_s=30,
        )
        await asyncio.sleep(1.5)  # room for a second or wrong message to show up

    [mail] = drop.to(f"{RESIDENT}@example.org")
    assert mail["Subject"] == "Wat de gemeente met uw inbreng heeft gedaan: Speelruimteplan 2026"
    text = text_of(mail)
    assert "- Overgenomen: 3\n- Voor een deel overgenomen: 1\n- Niet overgenomen: 2\n" in text
    assert f"/{M}/consultations/{CONSULTATION}/participation-paragraph" in text
    assert "https://gemeente.example/speelruimteplan.pdf" in text
    assert OTHER_RESIDENT not in text
    cause = Cause(
        source=ADVISORY_SOURCE,
        event_id=event.id,
        event_type=event.type,
        correlation_id=event.correlationid,
    )
    assert mail["Message-ID"].startswith(f"<{idempotency_key(cause, RESIDENT, Channel.EMAIL)}@")

    [english] = drop.to(f"{OTHER_RESIDENT}@example.org")
    assert english["Subject"] == "What the municipality did with your input: Speelruimteplan 2026"
    assert "- Adopted: 3\n- Partly adopted: 1\n- Not adopted: 2\n" in text_of(english)
    assert drop.to("bystander@example.org") == []
    assert len(drop.received) == 2, [m["Subject"] for _, m in drop.received]
