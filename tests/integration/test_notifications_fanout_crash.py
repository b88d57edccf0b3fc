"""SIGKILL of a notifications process in the middle of a large fan-out.

A decision comes in on Kafka after every support; the service composes the fan-out batch by
batch and its dispatcher sends the e-mails over a pool of SMTP sessions. After each kill the
process is started again and the fan-out resumes from its last committed batch.

- 10,000 supporters (stored up front, only the decision comes over Kafka), killed twice
  while the audience is composed: afterwards every supporter has exactly one message, with
  as many distinct idempotency keys, hence e-mail Message-IDs, as supporters. Sending is kept
  out of the way (the SMTP server never answers): composing is what is killed here, and
  sending 10,000 e-mails as well would take minutes.
- 10,000 supporters (their supports on Kafka too), e-mailed through a real SMTP server
  (aiosmtpd, keeping every Message-ID) and killed twice while the e-mails go out: the server
  ends with exactly one distinct Message-ID per supporter. An e-mail arrives twice only
  when a kill fell between handing it to SMTP and recording it sent: at most one per send
  slot (the SMTP pool) per kill. The raw duplicates are printed.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.notifications.domain.model import message_id
from shared.contracts import initiatives
from shared.testing.events import publish
from shared.testing.helpers import create_test_topics
from shared.testing.processes import ServiceProcess, free_port
from stack.bench_fanout import CountingSink

M = "GM0362"
SUPPORTERS = 10_000
SENT_SUPPORTERS = 10_000
SMTP_CONNECTIONS = 8
KIND = "supported_initiative_decided"


def _count(database: Path, where: str = "") -> int:
    with sqlite3.connect(database, timeout=10) as connection:
        query = f"SELECT count(*) FROM message WHERE kind = ? AND channel = 'email' {where}"
        return int(connection.execute(query, (KIND,)).fetchone()[0])


def _jobs_done(database: Path) -> int:
    with sqlite3.connect(database, timeout=10) as connection:
        return int(connection.execute("SELECT count(*) FROM fanout_job WHERE done").fetchone()[0])


def _wait(check: Any, timeout_s: float = 90) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.005)
    raise AssertionError(f"not reached within {timeout_s}s")


def _events(people: list[str]) -> list[Any]:
    submitted = initiatives.InitiativeSubmitted(
        municipality=M,
        initiative_id="init-big",
        title="Een park voor de hele stad",
        neighbourhood="BU03620001",
        theme="groen",
        initiative_type="stad",
        requested_amount_cents=5_000_000,
        funding_source=initiatives.FundingSource.INITIATIVES_FUND,
        initiator_id="initiator-1",
        submitted_at=datetime.now(UTC),
    )
    supports = [
        initiatives.SupportRegistered(
            municipality=M, initiative_id="init-big", supporter_id=p, support_count=n + 1
        )
        for n, p in enumerate(people)
    ]
    decided = initiatives.InitiativeDecided(
        **{
            **submitted.model_dump(exclude={"submitted_at"}),
            "decision": initiatives.Decision.APPROVED,
            "reasons": "Veel steun uit de hele stad.",
            "decided_by": "holder-1",
            "decided_at": datetime.now(UTC),
        }
    )
    # Same key, same partition: the decision comes after every support.
    return [submitted, *supports, decided]


@pytest.fixture
def sink() -> Any:
    server = CountingSink(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _service(
    kafka: str, namespace: str, tmp_path: Path, people: list[str], smtp_port: int, **env: str
) -> ServiceProcess:
    create_test_topics(kafka, namespace)
    database = tmp_path / "notifications.sqlite3"
    service = ServiceProcess(
        "notifications",
        {
            "INSPRAAK_ENVIRONMENT": "development",
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "KAFKA_TOPIC_NAMESPACE": namespace,
            "NOTIFICATIONS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "NOTIFICATIONS_SMTP_PORT": str(smtp_port),
            "NOTIFICATIONS_SMTP_CONNECTIONS": str(SMTP_CONNECTIONS),
            "NOTIFICATIONS_DISPATCH_CONCURRENCY": str(SMTP_CONNECTIONS),
            "NOTIFICATIONS_DISPATCH_BATCH_SIZE": "200",
            "NOTIFICATIONS_DISPATCH_IDLE_SECONDS": "0.1",
            "NOTIFICATIONS_FANOUT_BATCH_SIZE": "500",
            "CONSUMER_BATCH_SIZE": "500",
            "LOG_LEVEL": "WARNING",
            **env,
        },
        tmp_path,
    )
    service.migrate()
    now = datetime.now(UTC).isoformat()
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO contact (municipality, person_id, email, phone, language, updated_at)"
            " VALUES (?, ?, ?, NULL, 'nl', ?)",
            [(M, p, f"{p}@example.org", now) for p in people],
        )
    return service


def _one_message_per_supporter(database: Path, supporters: int) -> None:
    with sqlite3.connect(database) as connection:
        rows, keys, recipients = connection.execute(
            "SELECT count(*), count(DISTINCT idempotency_key), count(DISTINCT recipient_id)"
            " FROM message WHERE kind = ? AND channel = 'email'",
            (KIND,),
        ).fetchone()
        keys_of_all = [
            key
            for (key,) in connection.execute(
                "SELECT idempotency_key FROM message WHERE kind = ? AND channel = 'email'",
                (KIND,),
            )
        ]
    assert (rows, keys, recipients, _jobs_done(database)) == (supporters,) * 3 + (1,)
    # The Message-ID an e-mail carries is derived from the key alone, on every attempt.
    assert len({message_id(key, "inspraak.example") for key in keys_of_all}) == supporters


def test_a_fanout_to_10000_killed_twice_while_composing_tells_every_supporter_once(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    people = [f"supporter-{n:05d}" for n in range(SUPPORTERS)]
    database = tmp_path / "notifications.sqlite3"
    # An SMTP server that takes the connection and never says a word: the dispatcher waits
    # on its first e-mail, and composing, the part killed here, has the CPU to itself.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    service = _service(
        kafka,
        namespace,
        tmp_path,
        people,
        silent.getsockname()[1],
        NOTIFICATIONS_SMTP_TIMEOUT_SECONDS="600",
    )
    # The audience is stored as the support events would have stored it: the fan-out, not
    # consuming 10,000 supports, is what this test kills. The decision comes over Kafka.
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO supporter (municipality, initiative_id, supporter_id) VALUES (?, ?, ?)",
            [(M, "init-big", p) for p in people],
        )
    events = _events(people)
    started = time.monotonic()
    kills: list[int] = []
    try:
        service.start()
        publish(kafka, f"{namespace}initiatives.events.v1", [events[0], events[-1]])
        for threshold in (2_000, 6_000):
            kills.append(_wait(lambda t=threshold: (n := _count(database)) >= t and n))
            service.kill()
            service.start()
        _wait(lambda: _count(database) >= SUPPORTERS, timeout_s=120)
        _wait(lambda: _jobs_done(database) == 1, timeout_s=10)
        time.sleep(0.5)  # a duplicate, if there were one, would show up now
    finally:
        service.stop()
        silent.close()

    assert all(n < SUPPORTERS for n in kills), f"the fan-out ended before a kill: {kills}"
    _one_message_per_supporter(database, SUPPORTERS)
    print(f"\nkilled with {kills} of {SUPPORTERS} composed; {time.monotonic() - started:.0f} s")


def test_a_fanout_killed_twice_while_sending_delivers_every_message_id_once(
    kafka: str, namespace: str, tmp_path: Path, sink: CountingSink
) -> None:
    supporters = SENT_SUPPORTERS
    people = [f"supporter-{n:05d}" for n in range(supporters)]
    database = tmp_path / "notifications.sqlite3"
    service = _service(
        kafka,
        namespace,
        tmp_path,
        people,
        sink.port,
        # What a killed process left 'sending' is sent again soon, not after 5 minutes.
        NOTIFICATIONS_DISPATCH_LEASE_SECONDS="2",
    )
    started = time.monotonic()
    received_at_kill: list[int] = []
    try:
        service.start()
        publish(kafka, f"{namespace}initiatives.events.v1", _events(people))
        for threshold in (supporters // 4, supporters // 2):
            _wait(lambda t=threshold: sink.received >= t, timeout_s=300)
            received_at_kill.append(sink.received)
            service.kill()
            service.start()
        _wait(lambda: len(sink.message_ids) >= supporters, timeout_s=300)
        time.sleep(1.0)  # a duplicate, if there were one more, would arrive now
    finally:
        service.stop()

    kills = len(received_at_kill)
    duplicates = sink.received - len(sink.message_ids)
    print(
        f"\n{supporters} supporters, killed with {received_at_kill} e-mails received; "
        f"{sink.received} received, {len(sink.message_ids)} distinct Message-IDs, "
        f"{duplicates} raw duplicates (at most {kills} kills x {SMTP_CONNECTIONS} send slots); "
        f"{time.monotonic() - started:.0f} s"
    )
    assert all(n < supporters for n in received_at_kill), received_at_kill
    _one_message_per_supporter(database, supporters)
    with sqlite3.connect(database) as connection:
        [unsent] = connection.execute(
            "SELECT count(*) FROM message WHERE kind = ? AND status != 'sent'", (KIND,)
        ).fetchone()
    assert unsent == 0
    assert len(sink.message_ids) == supporters and "" not in sink.message_ids
    assert 0 <= duplicates <= kills * SMTP_CONNECTIONS
