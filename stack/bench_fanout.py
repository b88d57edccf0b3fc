"""`make bench`, the notifications part: a decision told to every supporter, by e-mail.

One notifications service process (``python -m services.notifications serve``, SQLite) with
``recipients`` contacts who support one initiative (stored directly, or with
``--supports-over-kafka`` published as ``support-registered`` events); then the decision is
published on Kafka.
The service composes the fan-out batch by batch and its dispatcher sends one e-mail per
supporter, over a pool of ``smtp_connections`` persistent SMTP sessions, to a local SMTP sink
(aiosmtpd) that counts e-mails, distinct Message-IDs and sessions.

``fanout_per_s`` is e-mails received per second, from the moment the decision is on the broker
(after every support is stored) until the last e-mail arrives: composing and sending, not
loading the supports. ``fanout_duplicates`` is e-mails received minus distinct Message-IDs.
``stack.bench`` calls :func:`measure_fanout` with its broker and namespace. Uses
``KAFKA_BOOTSTRAP_SERVERS`` (or the running stack's broker, or a broker of its own) and a
topic namespace of its own. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from shared.contracts import initiatives
from shared.testing.events import publish
from shared.testing.helpers import create_test_topics
from shared.testing.processes import ServiceProcess, free_port
from stack.demo_round import answers, read_stack_env

M = "GM0362"
STARTED = time.perf_counter()


def say(text: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {text}", file=sys.stderr, flush=True)


class CountingSink:
    """An SMTP server that keeps only what is counted: e-mails and their Message-IDs."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received = 0
        self.message_ids: set[str] = set()
        self.sessions = 0  # connections made: one per message without reuse
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._parser = BytesHeaderParser()
        self._controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = self._parser.parsebytes(envelope.original_content or envelope.content)
        self.message_ids.add(str(headers.get("Message-ID", "")).strip())
        self.received += 1
        now = time.perf_counter()
        self.first_at = self.first_at or now
        self.last_at = now
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


@contextlib.contextmanager
def kafka_bootstrap() -> Iterator[str]:
    stack_env = read_stack_env() or {}
    # `.run/stack.env` outlives the stack: its broker counts only while the stack answers.
    running = answers(stack_env["NOTIFICATIONS_URL"]) if "NOTIFICATIONS_URL" in stack_env else False
    existing = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or (
        stack_env.get("KAFKA_BOOTSTRAP_SERVERS") if running else None
    )
    if existing:
        say(f"Kafka: using {existing}")
        yield existing
        return
    from shared.devstack.kafka import LocalKafkaBroker

    say("Kafka: starting a local broker")
    broker = LocalKafkaBroker()
    try:
        yield broker.start()
    finally:
        broker.stop()


def _insert_contacts(database: Path, people: list[str]) -> None:
    now = datetime.now(UTC).isoformat()
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO contact (municipality, person_id, email, phone, language, updated_at)"
            " VALUES (?, ?, ?, NULL, 'nl', ?)",
            [(M, p, f"{p}@example.org", now) for p in people],
        )


def _insert_supporters(database: Path, initiative_id: str, people: list[str]) -> None:
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO supporter (municipality, initiative_id, supporter_id) VALUES (?, ?, ?)",
            [(M, initiative_id, p) for p in people],
        )


def _composed(database: Path) -> int:
    with sqlite3.connect(database, timeout=10) as connection:
        return int(
            connection.execute(
                "SELECT count(*) FROM message WHERE channel = 'email' AND kind = ?",
                ("supported_initiative_decided",),
            ).fetchone()[0]
        )


def _events(initiative_id: str, people: list[str]) -> tuple[list[Any], Any]:
    submitted = initiatives.InitiativeSubmitted(
        municipality=M,
        initiative_id=initiative_id,
        title="Een park voor de hele stad",
        neighbourhood="BU03620001",
        theme="groen",
        initiative_type="stad",
        requested_amount_cents=5_000_000,
        funding_source=initiatives.FundingSource.INITIATIVES_FUND,
        initiator_id="initiator-bench",
        submitted_at=datetime.now(UTC),
    )
    supports = [
        initiatives.SupportRegistered(
            municipality=M, initiative_id=initiative_id, supporter_id=p, support_count=n + 1
        )
        for n, p in enumerate(people)
    ]
    decided = initiatives.InitiativeDecided(
        **{
            **submitted.model_dump(exclude={"submitted_at"}),
            "decision": initiatives.Decision.APPROVED,
            "reasons": "Veel steun uit de hele stad.",
            "decided_by": "holder-bench",
            "decided_at": datetime.now(UTC),
        }
    )
    return [submitted, *supports], decided


def _supporters(database: Path, initiative_id: str) -> int:
    with sqlite3.connect(database, timeout=10) as connection:
        return int(
            connection.execute(
                "SELECT count(*) FROM supporter WHERE initiative_id = ?", (initiative_id,)
            ).fetchone()[0]
        )


async def _wait_for(check: Any, service: ServiceProcess, timeout_s: float, what: str) -> None:
    deadline = time.perf_counter() + timeout_s
    while not await asyncio.to_thread(check):
        if not service.alive():
            raise RuntimeError(f"notifications stopped: {service.log_tail()}")
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what} not within {timeout_s:g} s")
        await asyncio.sleep(0.2)


async def measure_fanout(
    recipients: int = 50_000,
    *,
    kafka: str | None = None,
    namespace: str | None = None,
    smtp_connections: int = 8,
    dispatch_batch_size: int = 500,
    fanout_batch_size: int = 1_000,
    timeout_s: float = 300.0,
    supports_over_kafka: bool = False,
) -> dict[str, Any]:
    """Fan a decision out to ``recipients`` supporters; the numbers as one dict.

    ``kafka`` is a bootstrap address (default: ``KAFKA_BOOTSTRAP_SERVERS``, the running
    stack's broker, or a broker of its own); ``namespace`` a topic prefix under which this
    measurement makes a namespace of its own (``<namespace>fanout<run>.``), so ``make bench``
    can pass its own without other parts of the bench seeing these events. The audience is
    stored directly unless ``supports_over_kafka``. The clock starts when every support is
    stored and the decision is published: it measures composing and sending.
    """
    run = uuid.uuid4().hex[:8]
    with contextlib.ExitStack() as stack:
        bootstrap = kafka or stack.enter_context(kafka_bootstrap())
        topics = f"{namespace}fanout{run}." if namespace else f"benchfanout{run}."
        await asyncio.to_thread(create_test_topics, bootstrap, topics)
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-fanout-")))
        database = workdir / "notifications.sqlite3"
        sink = CountingSink(free_port())
        sink.start()
        stack.callback(sink.stop)
        service = ServiceProcess(
            "notifications",
            {
                "INSPRAAK_ENVIRONMENT": "development",
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "KAFKA_TOPIC_NAMESPACE": topics,
                "NOTIFICATIONS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
                "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
                "NOTIFICATIONS_SMTP_PORT": str(sink.port),
                "NOTIFICATIONS_SMTP_CONNECTIONS": str(smtp_connections),
                "NOTIFICATIONS_DISPATCH_CONCURRENCY": str(smtp_connections),
                "NOTIFICATIONS_DISPATCH_BATCH_SIZE": str(dispatch_batch_size),
                "NOTIFICATIONS_DISPATCH_IDLE_SECONDS": "0.05",
                "NOTIFICATIONS_FANOUT_BATCH_SIZE": str(fanout_batch_size),
                "CONSUMER_BATCH_SIZE": "500",
                "LOG_LEVEL": "WARNING",
            },
            workdir,
        )
        await asyncio.to_thread(service.migrate)
        people = [f"supporter-{n:06d}" for n in range(recipients)]
        await asyncio.to_thread(_insert_contacts, database, people)
        initiative_id = f"init-bench-{run}"
        supports, decided = _events(initiative_id, people)
        topic = f"{topics}initiatives.events.v1"
        if not supports_over_kafka:
            # The audience as its support events would have stored it: loading tens of
            # thousands of supports is bench_support's subject, and minutes here.
            await asyncio.to_thread(_insert_supporters, database, initiative_id, people)
            supports = supports[:1]  # the submission only
        await asyncio.to_thread(service.start)
        stack.callback(service.stop)
        say(f"publishing {len(supports) - 1} support-registered events")
        loaded = time.perf_counter()
        await asyncio.to_thread(publish, bootstrap, topic, supports)
        await _wait_for(
            lambda: _supporters(database, initiative_id) >= recipients,
            service,
            timeout_s,
            "every support stored",
        )
        say(f"supports stored in {time.perf_counter() - loaded:.1f} s")
        say("publishing the decision")
        await asyncio.to_thread(publish, bootstrap, topic, [decided])
        decided_at = time.perf_counter()
        deadline = decided_at + timeout_s
        while sink.received < recipients and time.perf_counter() < deadline:
            if not service.alive():
                raise RuntimeError(f"notifications stopped: {service.log_tail()}")
            await asyncio.sleep(0.2)
        finished = sink.last_at or time.perf_counter()
        await asyncio.sleep(1.0)  # a duplicate, if there were one, would arrive now
        composed = await asyncio.to_thread(_composed, database)
    elapsed = max(finished - decided_at, 1e-9)
    return {
        "fanout_recipients": recipients,
        "fanout_per_s": round(sink.received / elapsed, 1),
        "fanout_seconds": round(elapsed, 1),
        "fanout_first_mail_after_s": round((sink.first_at or finished) - decided_at, 2),
        "fanout_composed": composed,
        "fanout_emails_received": sink.received,
        "fanout_distinct_message_ids": len(sink.message_ids),
        "fanout_duplicates": sink.received - len(sink.message_ids),
        "fanout_smtp_sessions": sink.sessions,
        "fanout_complete": sink.received >= recipients and len(sink.message_ids) == recipients,
        "fanout_smtp_connections": smtp_connections,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.bench_fanout", description=__doc__)
    parser.add_argument("--recipients", type=int, default=50_000)
    parser.add_argument(
        "--connections", type=int, default=8, help="SMTP sessions kept open (and sends at once)"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for mail")
    parser.add_argument(
        "--supports-over-kafka",
        action="store_true",
        help="load the audience as support-registered events (slow) instead of directly",
    )
    args = parser.parse_args(argv)
    result = asyncio.run(
        measure_fanout(
            args.recipients,
            smtp_connections=args.connections,
            timeout_s=args.timeout,
            supports_over_kafka=args.supports_over_kafka,
        )
    )
    print(json.dumps(result))
    return 0 if result["fanout_complete"] else 1


if __name__ == "__main__":
    sys.exit(main())
