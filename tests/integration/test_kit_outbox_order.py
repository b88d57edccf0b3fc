"""The outbox relay keeps per-key order through publish failures, also with two relays."""

from __future__ import annotations

import asyncio
import json
import random
from collections import defaultdict
from collections.abc import Awaitable
from typing import Any

from kafka import KafkaConsumer
from sqlalchemy import MetaData, func, insert, select

from shared.messaging.outbox import OutgoingRecord, encode_headers, slot_for
from shared.messaging.producer import Producer
from shared.messaging.relay import OutboxRelay, producer_send
from shared.messaging.tables import OUTBOX_SLOTS, MessagingTables
from shared.messaging.topics import TopicSpec, ensure_topics
from shared.persistence import create_engine
from shared.settings import ServiceSettings

KEYS, EVENTS_PER_KEY, PARTITIONS = 100, 20, 6


class FlakySend:
    """Fails a random tenth of the publish attempts, as a broker hiccup would."""

    def __init__(self, send: Any, seed: int) -> None:
        self._send, self._random, self.failures = send, random.Random(seed), 0

    async def __call__(self, topic: str, value: bytes, key: bytes, headers: Any) -> Awaitable[Any]:
        if self._random.random() < 0.1:
            self.failures += 1
            raise ConnectionError("injected publish failure")
        result: Awaitable[Any] = await self._send(topic, value, key, headers)
        return result


async def test_two_relays_with_publish_failures_keep_key_order_and_publish_each_row_once(
    kafka: str, postgres_url: str, namespace: str
) -> None:
    topic = f"{namespace}order.v1"
    await asyncio.to_thread(ensure_topics, kafka, [TopicSpec(topic, PARTITIONS, 1)])
    metadata = MetaData()
    tables = MessagingTables(metadata)
    engine = create_engine(postgres_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(
            insert(tables.outbox_slot), [{"slot": n} for n in range(OUTBOX_SLOTS)]
        )
    # Commit order: interleaved keys, one transaction per event, as services would write them.
    order = [(f"key-{k}", seq) for seq in range(EVENTS_PER_KEY) for k in range(KEYS)]
    random.Random(7).shuffle(order)
    next_seq: dict[str, int] = defaultdict(int)
    async with engine.begin() as connection:
        for key, _ in order:
            seq = next_seq[key]
            next_seq[key] += 1
            record = OutgoingRecord(
                topic,
                key,
                [("ce_id", f"{key}/{seq}".encode())],
                json.dumps({"key": key, "seq": seq}).encode(),
            )
            await connection.execute(
                insert(tables.outbox),
                {
                    "slot": slot_for(key),
                    "topic": record.topic,
                    "key": record.key,
                    "headers": encode_headers(record.headers),
                    "value": record.value,
                },
            )

    settings = ServiceSettings(environment="development", kafka_bootstrap_servers=kafka)
    producers = [Producer(settings), Producer(settings)]
    relays, flaky = [], []
    for seed, producer in enumerate(producers):
        await producer.start()
        send = FlakySend(producer_send(producer), seed)
        flaky.append(send)
        relays.append(
            OutboxRelay(
                engine=engine,
                tables=tables,
                send=send,
                service="test",
                batch_size=100,
                idle_seconds=0.01,
            )
        )
    tasks = [asyncio.create_task(relay.run()) for relay in relays]

    async def drained() -> bool:
        async with engine.connect() as connection:
            return (await connection.scalar(select(func.count()).select_from(tables.outbox))) == 0

    try:
        for _ in range(600):
            if await drained():
                break
            await asyncio.sleep(0.1)
        assert await drained()
    finally:
        for relay in relays:
            await relay.stop()
        await asyncio.gather(*tasks)
        for producer in producers:
            await producer.stop()
        await engine.dispose()
    assert all(f.failures > 0 for f in flaky), "both relays must have met failures"

    received = await asyncio.to_thread(_read_all, kafka, topic, KEYS * EVENTS_PER_KEY)
    per_key: dict[str, list[int]] = defaultdict(list)
    for value in received:
        event = json.loads(value)
        per_key[event["key"]].append(event["seq"])
    assert len(received) == KEYS * EVENTS_PER_KEY, "every row published exactly once"
    assert all(seqs == list(range(EVENTS_PER_KEY)) for seqs in per_key.values())


def _read_all(kafka: str, topic: str, expected: int) -> list[bytes]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=kafka, auto_offset_reset="earliest", consumer_timeout_ms=3000
    )
    values = [record.value for record in consumer]
    consumer.close()
    return values
