"""Erasure leaves no contact detail anywhere: not in the database, the logs, or on Kafka.

A person's e-mail address and phone number are used for real (an e-mail reaches a real SMTP
server; an SMS is attempted without a gateway, so it fails and is logged), then the person is
erased through the API. Afterwards every text column of every table, everything the service
logged, and every record (value, key and headers) on every topic the test's namespace holds
are searched for the address and the number, on the real broker.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from shared.auth import Role
from shared.contracts import initiatives, notifications
from shared.contracts.envelope import Envelope
from shared.testing.events import publish
from shared.testing.helpers import eventually, read_envelopes, running, token
from tests.integration.notifications_support import (
    INITIATIVES_SOURCE,
    M,
    MailDrop,
    smtp_server,
    start_app,
)

PERSON = "resident-erasure-1"
EMAIL = "erase.me.q7x@example.org"
PHONE = "+31687654321"
# The forms a phone number or address could be written in elsewhere.
NEEDLES = (EMAIL, EMAIL.split("@")[0], PHONE, PHONE.lstrip("+"), "687654321")
SMTP_SERVER_LOGGER = "mail.log"


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[tuple[MailDrop, int]]:
    with smtp_server() as served:
        yield served


class LogCapture(logging.Handler):
    """Every record any logger emits, formatted with its arguments and traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(SMTP_SERVER_LOGGER):
            return  # the test's own SMTP server (aiosmtpd) logs its dialogue; it is not ours
        self.lines.append(self.format(record))
        self.lines.append(repr(record.__dict__))  # extra fields too, not only the message


@pytest.fixture
def captured_logs() -> Iterator[LogCapture]:
    capture, root = LogCapture(), logging.getLogger()
    level = root.level
    root.addHandler(capture)
    # The service's default LOG_LEVEL (what `python -m services.notifications serve` configures).
    root.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(level)


def database_text(database: Path) -> list[tuple[str, str, str]]:
    """(table, column, value) of every non-empty text-like value in every table."""
    found = []
    with sqlite3.connect(database) as connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", errors="replace")
                    if isinstance(value, str) and value:
                        found.append((table, column, value))
    return found


def every_record(kafka: str, namespace: str) -> list[str]:
    """Key, value and headers of every record on every topic of this test's namespace."""
    probe = KafkaConsumer(bootstrap_servers=kafka)
    topics = sorted(t for t in probe.topics() if t.startswith(namespace))
    probe.close()
    consumer = KafkaConsumer(
        *topics,
        bootstrap_servers=kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    texts = []
    try:
        for record in consumer:
            parts = [record.topic, (record.key or b"").decode(errors="replace")]
            parts.append((record.value or b"").decode(errors="replace"))
            parts += [f"{name}={value.decode(errors='replace')}" for name, value in record.headers]
            texts.append(" | ".join(parts))
    finally:
        consumer.close()
    return texts


def mentions(texts: list[str]) -> list[str]:
    return [text[:300] for text in texts if any(needle in text for needle in NEEDLES)]


async def test_after_erasure_no_contact_detail_is_in_the_database_logs_or_topics(
    kafka: str,
    namespace: str,
    tmp_path: Path,
    smtp_server: tuple[MailDrop, int],
    captured_logs: LogCapture,
) -> None:
    inbox, smtp_port = smtp_server
    database = tmp_path / "notifications.sqlite3"  # where start_app keeps it
    app = await start_app(
        kafka, namespace, tmp_path, smtp_port=smtp_port, dispatch_retry_initial_seconds=600
    )
    person = token(Role.RESIDENT, subject=PERSON)
    contact_url = f"/v1/municipalities/{M}/contacts/{PERSON}"
    decisions = [
        Envelope.wrap(
            initiatives.InitiativeDecided(
                municipality=M,
                initiative_id=f"init-erasure-{n}",
                title="Moestuin op het plein",
                neighbourhood="BU03620001",
                theme="groen",
                initiative_type="buurt-klein",
                requested_amount_cents=80_000,
                funding_source=initiatives.FundingSource.NEIGHBOURHOOD_BUDGET,
                initiator_id=PERSON,
                decision=initiatives.Decision.APPROVED if n else initiatives.Decision.REJECTED,
                reasons="Past binnen het buurtbudget.",
                decided_by="holder-1",
                decided_at=datetime.now(UTC),
            ),
            source=INITIATIVES_SOURCE,
        )
        for n in range(2)
    ]

    async with running(app) as client:
        response = await client.put(
            contact_url, json={"email": EMAIL, "phone": PHONE, "language": "nl"}, headers=person
        )
        assert response.status_code == 200, response.text
        await asyncio.to_thread(publish, kafka, f"{namespace}initiatives.events.v1", decisions[:1])
        await eventually(lambda: [r for r, _ in inbox.received if EMAIL in r])
        # The address was really used: the e-mail went to it.
        assert any(EMAIL in rcpt for rcpt, _ in inbox.received)
        await asyncio.sleep(0.5)  # let the dispatcher record the delivery (and its event)

        response = await client.delete(contact_url, headers=person)
        assert response.status_code == 204, response.text
        # Something arriving after the erasure finds no contact details to use.
        await asyncio.to_thread(publish, kafka, f"{namespace}initiatives.events.v1", decisions[1:])
        await asyncio.to_thread(
            read_envelopes,
            kafka,
            f"{namespace}notifications.events.v1",
            until=lambda seen: any(e.type == notifications.PersonErased.event_type() for e in seen),
        )
        await asyncio.sleep(1.0)  # the second decision is consumed; the relay has swept
        gone = await client.get(contact_url, headers=token(Role.SYSTEM))

    assert gone.status_code == 404
    in_database = [
        f"{table}.{column}: {value[:200]}"
        for table, column, value in database_text(database)
        if any(needle in value for needle in NEEDLES)
    ]
    assert in_database == []
    assert captured_logs.lines, "the service's logs were not captured"
    assert mentions(captured_logs.lines) == []
    records = await asyncio.to_thread(every_record, kafka, namespace)
    assert any("person-erased" in record for record in records)
    assert mentions(records) == []
