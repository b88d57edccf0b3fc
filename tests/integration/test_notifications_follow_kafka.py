"""A resident follows a neighbourhood and a budget; budgets' events reach their mailbox.

The whole path on a real broker and a real SMTP server: budgets' events published the way the
budgets service publishes them (CloudEvents binary mode, key = partitionkey), the consumer,
the rules, the fan-out worker, the dispatcher, an e-mail in the follower's language.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
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


def round_results() -> Envelope:
    return Envelope.wrap(
        budgets.RoundResultsPublished(
            municipality=M,
            round_id="round-centrum-2026",
            neighbourhood=AREA,
            rule="greedy",
            ballots=318,
            budget_cents=5_000_000,
            funded_cost_cents=4_250_000,
            projects=[
                budgets.ProjectOutcome(
                    project_id="p-1",
                    title="Speeltuin Oost",
                    cost_cents=4_250_000,
                    votes=201,
                    funded=True,
                ),
                budgets.ProjectOutcome(
                    project_id="p-2",
                    title="Fietsenrek",
                    cost_cents=900_000,
                    votes=117,
                    funded=False,
                ),
            ],
        ),
        source=BUDGETS_SOURCE,
    )


def spending() -> Envelope:
    return Envelope.wrap(
        budgets.SpendingReported(
            municipality=M,
            initiative_id="init-1",
            budget_id=BUDGET,
            amount_cents=45_000,
            description="Twee parkbankjes",
        ),
        source=BUDGETS_SOURCE,
    )


async def test_budgets_events_reach_the_mailbox_of_whoever_follows_the_area_or_budget(
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
    people = {"follows-area": "nl", "follows-budget": "en", "follows-nothing": "nl"}

    async with running(app) as client:
        for person, language in people.items():
            me = token(Role.RESIDENT, subject=person)
            response = await client.put(
                f"{BASE}/contacts/{person}",
                json={"email": f"{person}@example.org", "language": language},
                headers=me,
            )
            assert response.status_code == 200, response.text
        for person, path in (
            ("follows-area", f"neighbourhood/{AREA}"),
            ("follows-budget", f"budget/{BUDGET}"),
        ):
            me = token(Role.RESIDENT, subject=person)
            followed = await client.put(f"{BASE}/contacts/{person}/follows/{path}", headers=me)
            assert followed.status_code == 200, followed.text

        results, spent = round_results(), spending()
        await asyncio.to_thread(publish, kafka, f"{namespace}budgets.events.v1", [results, spent])

        await eventually(
            lambda: drop.to("follows-area@example.org") and drop.to("follows-budget@example.org"),
            timeout_s=30,
        )
        await asyncio.sleep(1.0)  # room for a wrong or second message to show up

    [area_mail] = drop.to("follows-area@example.org")
    assert area_mail["Subject"] == f"Uitslag buurtbegroting {AREA}"
    body = area_mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "- Speeltuin Oost: 201 stemmen, € 42.500,00" in text
    assert f"U volgt de buurt {AREA}." in text
    cause = Cause(
        source=BUDGETS_SOURCE,
        event_id=results.id,
        event_type=results.type,
        correlation_id=results.correlationid,
    )
    assert area_mail["Message-ID"].startswith(
        f"<{idempotency_key(cause, 'follows-area', Channel.EMAIL)}@"
    )

    [budget_mail] = drop.to("follows-budget@example.org")
    assert budget_mail["Subject"] == 'Spending booked for "init-1": €450.00'
    budget_body = budget_mail.get_body(preferencelist=("plain",))
    assert budget_body is not None
    assert "You follow this budget." in budget_body.get_content()
    assert drop.to("follows-nothing@example.org") == []
    assert len(drop.received) == 2, [m["Subject"] for _, m in drop.received]
