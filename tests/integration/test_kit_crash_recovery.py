"""A service process killed with SIGKILL mid-stream loses no event and applies none twice."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
from kafka import KafkaConsumer, TopicPartition

from shared.auth import Role
from shared.messaging.topology import consumer_group
from shared.testing.events import publish, ready_for_review
from shared.testing.helpers import create_test_topics, token
from shared.testing.processes import ServiceProcess

EVENTS = 1_000
KILL_AFTER = (150, 400, 600)  # well inside 100..900, even when a busy machine polls late


def _effects(database: Path) -> int:
    with sqlite3.connect(database, timeout=10) as connection:
        return int(connection.execute("SELECT count(*) FROM advice_round").fetchone()[0])


def _wait_for_effects(database: Path, at_least: int, timeout_s: float = 120) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        count = _effects(database)
        if count >= at_least:
            return count
        time.sleep(0.005)
    raise AssertionError(f"only {_effects(database)} effects after {timeout_s}s")


def _committed_and_end(kafka: str, group: str, topic: str) -> tuple[int, int]:
    # A consumer that never subscribes only reads the group's committed offsets.
    consumer = KafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        ends = consumer.end_offsets(partitions)
        return sum(consumer.committed(tp) or 0 for tp in partitions), sum(ends.values())
    finally:
        consumer.close()


def test_sigkill_three_times_mid_stream_applies_every_event_exactly_once(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    create_test_topics(kafka, namespace)
    database = tmp_path / "advisory.sqlite3"
    service = ServiceProcess(
        "advisory",
        {
            "INSPRAAK_ENVIRONMENT": "development",
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "KAFKA_TOPIC_NAMESPACE": namespace,
            "ADVISORY_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "CONSUMER_BATCH_SIZE": "10",
        },
        tmp_path,
    )
    service.migrate()
    try:
        service.start()
        council = httpx.post(
            f"{service.url}/v1/municipalities/GM0362/councils",
            json={
                "name": "Wijkraad Centrum",
                "kind": "neighbourhood_council",
                "neighbourhoods": ["BU03620001"],
            },
            headers=token(Role.CIVIL_SERVANT),
            timeout=10,
        )
        assert council.status_code == 201, council.text

        topic = f"{namespace}initiatives.events.v1"
        publish(kafka, topic, (ready_for_review() for _ in range(EVENTS)))

        effects_at_kill = []
        for threshold in KILL_AFTER:
            effects_at_kill.append(_wait_for_effects(database, threshold))
            service.kill()
            service.start()
        assert all(100 <= n < 900 for n in effects_at_kill), effects_at_kill

        _wait_for_effects(database, EVENTS)
        group = consumer_group("advisory", namespace)
        deadline = time.monotonic() + 30
        while _committed_and_end(kafka, group, topic)[0] < EVENTS and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # anything still in flight would show up as an extra effect now

    finally:
        service.stop()

    assert _effects(database) == EVENTS
    with sqlite3.connect(database) as connection:
        subjects = connection.execute(
            "SELECT count(DISTINCT subject_id), count(*) FROM advice_round"
        ).fetchone()
        inbox_rows = connection.execute("SELECT count(*) FROM inbox").fetchone()[0]
    assert subjects == (EVENTS, EVENTS)
    assert inbox_rows == EVENTS
    committed, end = _committed_and_end(kafka, group, topic)
    assert committed == end == EVENTS
    dead = KafkaConsumer(
        f"{topic}.{group}.dlq",
        bootstrap_servers=kafka,
        auto_offset_reset="earliest",
        consumer_timeout_ms=2000,
    )
    assert list(dead) == [], "a redelivered event was applied twice and refused"
