"""The messaging kit on the real broker: poison events, database failures, outside readers."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from kafka import KafkaConsumer
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from services.advisory.app import create_app
from services.advisory.entrypoints import consumers
from services.advisory.persistence.tables import AdviceRoundRow
from services.advisory.settings import AdvisorySettings
from shared.auth import Role
from shared.contracts import initiatives
from shared.contracts.envelope import Envelope
from shared.messaging.dead_letter_tool import read_dead_letters, replay
from shared.messaging.topology import consumer_group
from shared.migrations import upgrade_to_head
from shared.testing.events import TEST_SOURCE, publish, ready_for_review
from shared.testing.helpers import create_test_topics, eventually, running, settings_for, token

COUNCIL = {
    "name": "Wijkraad Centrum",
    "kind": "neighbourhood_council",
    "neighbourhoods": ["BU03620001"],
}


async def _advisory(kafka: str, namespace: str, tmp_path: Path) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path}/advisory.sqlite3"
    await asyncio.to_thread(create_test_topics, kafka, namespace)
    await asyncio.to_thread(upgrade_to_head, "advisory", url)
    return create_app(
        settings_for(AdvisorySettings, kafka=kafka, namespace=namespace, database_url=url)
    )


async def _rounds(app: Any) -> int:
    async with app.state.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AdviceRoundRow)) or 0)


async def test_poison_records_are_dead_lettered_and_the_events_behind_them_still_apply(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    app = await _advisory(kafka, namespace, tmp_path)
    topic = f"{namespace}initiatives.events.v1"
    dlq = f"{topic}.{consumer_group('advisory', namespace)}.dlq"
    broken = ready_for_review()
    invalid = Envelope.wrap(broken, source=TEST_SOURCE)
    async with running(app) as client:
        assert (
            await client.post(
                "/v1/municipalities/GM0362/councils",
                json=COUNCIL,
                headers=token(Role.CIVIL_SERVANT),
            )
        ).status_code == 201
        # An unparseable record, an event that breaks its schema, then two good events.
        await asyncio.to_thread(_send_raw, kafka, topic, invalid.kafka_headers(), b"{not json")
        wrong = json.loads(invalid.kafka_value())
        wrong["neighbourhood"] = "Centrum"
        await asyncio.to_thread(
            _send_raw, kafka, topic, invalid.kafka_headers(), json.dumps(wrong).encode()
        )
        await asyncio.to_thread(publish, kafka, topic, [ready_for_review(), ready_for_review()])
        await eventually(lambda: _count(_rounds(app), 2))

        letters = await eventually(lambda: _letters(kafka, dlq, 2))
        reasons = [letter.info("reason") for letter in letters]
        assert "data is not JSON" in reasons[0]
        assert "neighbourhood" in reasons[1]
        assert letters[1].info("original_topic") == topic

        # The municipality fixes the data and replays it -- twice, by accident: applied once.
        for _ in range(2):
            await asyncio.to_thread(replay, kafka, letters[1], value=invalid.kafka_value())
        await eventually(lambda: _count(_rounds(app), 3))
        await asyncio.sleep(1.0)
        assert await _rounds(app) == 3


async def _count(value: Any, expected: int) -> bool:
    return await value == expected


def _letters(kafka: str, topic: str, expected: int) -> list[Any]:
    letters = list(read_dead_letters(kafka, topic))
    return letters if len(letters) >= expected else []


def _send_raw(kafka: str, topic: str, headers: list[tuple[str, bytes]], value: bytes) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=kafka, acks="all")
    producer.send(topic, key=b"k", value=value, headers=headers).get(timeout=30)
    producer.close()


async def test_a_database_failure_in_a_handler_commits_no_offset_and_applies_once_on_redelivery(
    kafka: str, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await _advisory(kafka, namespace, tmp_path)
    event_type = initiatives.InitiativeReadyForReview.event_type()
    real_handler = consumers.routes.handlers[event_type]
    attempts: list[str] = []

    async def failing_twice(envelope: Any, uow: Any) -> None:
        attempts.append(envelope.id)
        if len(attempts) <= 2:
            await real_handler(envelope, uow)  # the effect is made, then the database fails
            raise OperationalError("INSERT", {}, Exception("connection to database lost"))
        await real_handler(envelope, uow)

    monkeypatch.setitem(consumers.routes.handlers, event_type, failing_twice)
    topic = f"{namespace}initiatives.events.v1"
    async with running(app) as client:
        assert (
            await client.post(
                "/v1/municipalities/GM0362/councils",
                json=COUNCIL,
                headers=token(Role.CIVIL_SERVANT),
            )
        ).status_code == 201
        [sent] = await asyncio.to_thread(publish, kafka, topic, [ready_for_review()])
        await eventually(lambda: len(attempts) >= 1)
        assert await asyncio.to_thread(_committed, kafka, namespace, topic) == 0
        await eventually(lambda: _count(_rounds(app), 1), timeout_s=30)
        await eventually(lambda: asyncio.to_thread(_committed, kafka, namespace, topic))
    assert attempts == [sent.id] * 3, "the failed batch was delivered again, by Kafka"
    assert await _rounds(app) == 1


def _committed(kafka: str, namespace: str, topic: str) -> int:
    from kafka import TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=kafka,
        enable_auto_commit=False,
        group_id=consumer_group("advisory", namespace),
    )
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        return sum(consumer.committed(TopicPartition(topic, p)) or 0 for p in partitions)
    finally:
        consumer.close()


PROFILE_TYPE = re.compile(r"^nl\.inspraak\.[a-z]+\.[a-z-]+(\.v\d+)?$")
SOURCE = re.compile(r"^urn:nld:(oin:\d{20}|gemeente-GM\d{4}):systeem:inspraak-[a-z]+$")


async def test_an_outside_reader_gets_nl_gov_cloudevents_with_the_official_sdk(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    app = await _advisory(kafka, namespace, tmp_path)
    async with running(app) as client:
        council = (
            await client.post(
                "/v1/municipalities/GM0362/councils",
                json=COUNCIL,
                headers=token(Role.CIVIL_SERVANT),
            )
        ).json()
        await client.post(
            f"/v1/municipalities/GM0362/councils/{council['id']}/members",
            json={"person_id": "member-1", "role": "chair"},
            headers=token(Role.CIVIL_SERVANT),
        )
        await asyncio.to_thread(
            publish, kafka, f"{namespace}initiatives.events.v1", [ready_for_review()]
        )
        records = await eventually(
            lambda: asyncio.to_thread(_raw_records, kafka, f"{namespace}advisory.events.v1", 2)
        )

    for record in records:
        event = ce_kafka.from_binary_event(
            ce_kafka.KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value)
        )
        attributes = event.get_attributes()
        assert attributes["specversion"] == "1.0"
        uuid.UUID(attributes["id"])
        assert SOURCE.match(attributes["source"]), attributes["source"]
        assert PROFILE_TYPE.match(attributes["type"]), attributes["type"]
        assert attributes["time"].tzinfo is not None
        assert attributes["datacontenttype"] == "application/json"
        assert attributes["dataschema"].startswith("https://")
        assert attributes["subject"] == attributes["partitionkey"] == record.key.decode()
        assert attributes["municipality"] == "GM0362"
        assert attributes["correlationid"]
        assert all(re.fullmatch(r"[a-z0-9]+", name) for name in attributes)
        assert event.get_data()["municipality"] == "GM0362"
    requested = [r for r in records if dict(r.headers)["ce_type"].endswith(b"advice-requested")]
    assert dict(requested[0].headers)["ce_causationid"]


def _raw_records(kafka: str, topic: str, expected: int) -> list[Any]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=kafka, auto_offset_reset="earliest", consumer_timeout_ms=1500
    )
    records = list(consumer)
    consumer.close()
    return records if len(records) >= expected else []
