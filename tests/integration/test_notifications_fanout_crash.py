"""SIGKILL of a notifications process in the middle of a fan-out to 2,000 supporters.

After the restart the fan-out resumes from its last committed batch, and every supporter has
exactly one message (as many distinct idempotency keys, hence e-mail Message-IDs, as
supporters). Sending is kept out of the way here (nobody listens on the SMTP port and retries
wait): that a resend after a crash carries the same Message-ID is proven in
test_notifications_dispatcher.py, and e-mail to a real SMTP server in test_notifications_flow.py.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.contracts import initiatives
from shared.testing.events import publish
from shared.testing.helpers import create_test_topics
from shared.testing.processes import ServiceProcess, free_port

M = "GM0362"
SUPPORTERS = 2_000
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


def test_a_fanout_killed_midway_resumes_and_tells_every_supporter_once(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    create_test_topics(kafka, namespace)
    database = tmp_path / "notifications.sqlite3"
    service = ServiceProcess(
        "notifications",
        {
            "INSPRAAK_ENVIRONMENT": "development",
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "KAFKA_TOPIC_NAMESPACE": namespace,
            "NOTIFICATIONS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "NOTIFICATIONS_SMTP_PORT": str(free_port()),  # nobody listens
            "NOTIFICATIONS_DISPATCH_RETRY_INITIAL_SECONDS": "3600",
            "NOTIFICATIONS_FANOUT_BATCH_SIZE": "100",
            "CONSUMER_BATCH_SIZE": "500",
        },
        tmp_path,
    )
    service.migrate()
    people = [f"supporter-{n:05d}" for n in range(SUPPORTERS)]
    now = datetime.now(UTC).isoformat()
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO contact (municipality, person_id, email, phone, language, updated_at)"
            " VALUES (?, ?, ?, NULL, 'nl', ?)",
            [(M, p, f"{p}@example.org", now) for p in people],
        )
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
    kills: list[int] = []
    try:
        service.start()
        publish(kafka, f"{namespace}initiatives.events.v1", [submitted, *supports, decided])
        # Same key, same partition: the decision comes after every support.
        kills.append(_wait(lambda: (n := _count(database)) >= 500 and n))
        service.kill()
        service.start()
        _wait(lambda: _count(database) >= SUPPORTERS, timeout_s=60)
        _wait(lambda: _jobs_done(database) == 1, timeout_s=10)
        time.sleep(0.5)  # a duplicate, if there were one, would show up now
    finally:
        service.stop()

    assert all(n < SUPPORTERS for n in kills), f"the fan-out ended before a kill: {kills}"
    with sqlite3.connect(database) as connection:
        rows, keys, recipients = connection.execute(
            "SELECT count(*), count(DISTINCT idempotency_key), count(DISTINCT recipient_id)"
            " FROM message WHERE kind = ? AND channel = 'email'",
            (KIND,),
        ).fetchone()
        [jobs] = connection.execute("SELECT count(*) FROM fanout_job WHERE done").fetchone()
    assert (rows, keys, recipients, jobs) == (SUPPORTERS, SUPPORTERS, SUPPORTERS, 1)
    print(f"killed with {kills} of {SUPPORTERS} composed")
