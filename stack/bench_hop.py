"""Bench parts (a) and (b): the raw aiokafka ceiling and one real service hop through the kit.

Both read the same pre-loaded input: N ``InitiativeReadyForReview`` records in binary
CloudEvents mode on ``<namespace>initiatives.events.v1`` (6 partitions, key = initiative id).

(a) raw: an aiokafka consume -> produce pipe (``getmany`` batches, ``acks="all"`` with
    idempotence, same key, offsets committed per batch after the batch is acknowledged).
(b) hop: the advisory service in-process (its FastAPI lifespan: FastStream batch subscriber,
    one transaction per batch with inbox + state + outbox, the outbox relay), until all N
    ``AdviceRequested`` records are on ``<namespace>advisory.events.v1``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.advisory.app import create_app
from services.advisory.settings import AdvisorySettings
from shared.auth import Role
from shared.contracts import advisory as advisory_contract
from shared.contracts.envelope import Envelope
from shared.messaging.topics import TopicSpec, admin_client, ensure_topics
from shared.messaging.topology import consumer_group
from shared.migrations import upgrade_to_head
from shared.testing.events import TEST_SOURCE, ready_for_review
from shared.testing.helpers import settings_for, token
from stack.bench_profile import TOTAL, CpuClock, HopProbes

Say = Callable[[str], None]
PARTITIONS = 6
BATCH = 500  # the kit's default CONSUMER_BATCH_SIZE / RELAY_BATCH_SIZE
NEIGHBOURHOOD = "BU03620001"
COUNCIL = {
    "name": "Wijkraad Bench",
    "kind": "neighbourhood_council",
    "neighbourhoods": [NEIGHBOURHOOD],
}
ADVICE_REQUESTED = advisory_contract.AdviceRequested.event_type().encode()
HOP_TIMEOUT_S = 240.0  # keeps the bench bounded on a slow machine; reports what arrived
PROGRESS_S = 15.0


def input_topic(namespace: str) -> str:
    return f"{namespace}initiatives.events.v1"


def output_topic(namespace: str) -> str:
    return f"{namespace}advisory.events.v1"


def ensure_raw_output(kafka: str, namespace: str) -> str:
    topic = f"{namespace}bench.raw-out.v1"
    ensure_topics(kafka, [TopicSpec(topic, PARTITIONS, 1, {"min.insync.replicas": "1"})])
    return topic


async def preload(kafka: str, topic: str, count: int) -> float:
    """Put ``count`` events on ``topic`` and wait for every acknowledgement; return events/s."""
    envelopes = [
        Envelope.wrap(ready_for_review(NEIGHBOURHOOD, amount_cents=100), source=TEST_SOURCE)
        for _ in range(count)
    ]
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    started = time.perf_counter()
    try:
        for chunk in range(0, count, 2000):
            deliveries = [
                await producer.send(
                    topic,
                    key=e.partitionkey.encode(),
                    value=e.kafka_value(),
                    headers=e.kafka_headers(),
                )
                for e in envelopes[chunk : chunk + 2000]
            ]
            await asyncio.gather(*deliveries)
    finally:
        await producer.stop()
    return count / (time.perf_counter() - started)


async def raw_pipe(kafka: str, source: str, target: str, count: int, group: str) -> dict[str, Any]:
    """Consume ``count`` records and produce each to ``target``; time first record -> last ack."""
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=kafka,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    await consumer.start()
    done = batches = 0
    first: float | None = None
    clock: CpuClock | None = None
    try:
        while done < count:
            fetched = await consumer.getmany(timeout_ms=200, max_records=BATCH)
            if not fetched:
                continue
            if first is None:
                first, clock = time.perf_counter(), CpuClock()
            deliveries = [
                await producer.send(
                    target, key=record.key, value=record.value, headers=list(record.headers)
                )
                for records in fetched.values()
                for record in records
            ]
            await asyncio.gather(*deliveries)
            await consumer.commit()
            done += len(deliveries)
            batches += 1
        finished = time.perf_counter()
    finally:
        await consumer.stop()
        await producer.stop()
    assert first is not None and clock is not None
    seconds = finished - first
    return {
        "events": done,
        "seconds": round(seconds, 3),
        "events_per_s": round(done / seconds, 1),
        "batches": batches,
        "python_cpu_pct": clock.percent(),
        "machine_busy_pct": clock.machine_busy_percent(),
    }


@dataclass
class OutputWatch:
    """Counts records arriving on a topic by its end offsets (cheap: no records are fetched)."""

    kafka: str
    topic: str
    partitions: int
    baseline: dict[TopicPartition, int] = field(default_factory=dict)
    _consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.kafka, group_id=None)
        await self._consumer.start()
        self.baseline = await self._ends()

    async def _ends(self) -> dict[TopicPartition, int]:
        assert self._consumer is not None
        tps = [TopicPartition(self.topic, p) for p in range(self.partitions)]
        ends: dict[TopicPartition, int] = await self._consumer.end_offsets(tps)
        return ends

    async def arrived(self) -> int:
        ends = await self._ends()
        return sum(ends[tp] - self.baseline.get(tp, 0) for tp in ends)

    async def wait_for(
        self, count: int, timeout_s: float, say: Say, interval_s: float = 0.01
    ) -> tuple[float, int]:
        """Poll until ``count`` new records are on the topic or time runs out.

        Returns the moment and how many had arrived (fewer than ``count`` on a timeout).
        """
        started = time.perf_counter()
        deadline, report_at = started + timeout_s, started + PROGRESS_S
        arrived = 0
        while time.perf_counter() < deadline:
            arrived = await self.arrived()
            if arrived >= count:
                return time.perf_counter(), arrived
            if time.perf_counter() >= report_at:
                report_at += PROGRESS_S
                say(f"    ... {arrived:,}/{count:,} on {self.topic}")
            await asyncio.sleep(interval_s)
        say(f"    gave up after {timeout_s:.0f}s: {arrived:,} of {count:,} arrived")
        return time.perf_counter(), arrived

    async def count_types(self, wanted: bytes) -> tuple[int, int]:
        """Read what arrived since the baseline: (records of type ``wanted``, distinct keys)."""
        assert self._consumer is not None
        reader = AIOKafkaConsumer(bootstrap_servers=self.kafka, group_id=None)
        await reader.start()
        matched, keys = 0, set()
        try:
            ends = await self._ends()
            reader.assign(list(ends))
            for tp, offset in self.baseline.items():
                reader.seek(tp, offset)
            remaining = {tp for tp in ends if ends[tp] > self.baseline.get(tp, 0)}
            while remaining:
                for tp, records in (await reader.getmany(timeout_ms=500)).items():
                    for record in records:
                        if dict(record.headers).get("ce_type") == wanted:
                            matched += 1
                            keys.add(record.key)
                        if record.offset + 1 >= ends[tp]:
                            remaining.discard(tp)
        finally:
            await reader.stop()
        return matched, len(keys)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()


async def advisory_hop(
    kafka: str,
    namespace: str,
    database_url: str,
    count: int,
    *,
    label: str,
    say: Say,
    partitions: int = PARTITIONS,
    consumer_batch_size: int = BATCH,
    relay_batch_size: int = BATCH,
) -> dict[str, Any]:
    """Run the advisory service in-process over the pre-loaded input; time the hop."""
    await asyncio.to_thread(upgrade_to_head, "advisory", database_url)
    settings = settings_for(
        AdvisorySettings,
        kafka=kafka,
        namespace=namespace,
        database_url=database_url,
        log_level="WARNING",
        consumer_batch_size=consumer_batch_size,
        relay_batch_size=relay_batch_size,
    )
    app = create_app(settings)
    # The council is created through the API before the lifespan starts the subscriber, so
    # the pre-loaded events cannot race it (creating a council publishes nothing).
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        response = await client.post(
            "/v1/municipalities/GM0362/councils", json=COUNCIL, headers=token(Role.CIVIL_SERVANT)
        )
        response.raise_for_status()
    watch = OutputWatch(kafka, output_topic(namespace), partitions)
    await watch.start()
    probes = HopProbes()
    try:
        with probes.installed():
            started = time.perf_counter()
            clock = CpuClock()
            async with app.router.lifespan_context(app):
                done, arrived = await watch.wait_for(count, HOP_TIMEOUT_S, say)
                cpu_pct, machine_pct = clock.percent(), clock.machine_busy_percent()
                if arrived < count:  # stopping mid-batch cancels it: expected, not news
                    logging.getLogger(f"inspraak.{settings.service_name}.broker").disabled = True
        advice_requested, keys = await watch.count_types(ADVICE_REQUESTED)
    finally:
        await watch.stop()
    first = probes.first_call.get(TOTAL, started)
    seconds = done - first
    batches = probes.probes[TOTAL].calls
    result = {
        "database": label,
        "events": count,
        "complete": arrived >= count,
        "advice_requested_on_output": advice_requested,
        "distinct_keys_on_output": keys,
        "seconds_first_batch_to_all_published": round(seconds, 3),
        "seconds_including_startup": round(done - started, 3),
        "events_per_s": round(min(arrived, count) / seconds, 1),
        "consumer_batches": batches,
        "consumer_records": probes.probes["decode CloudEvents record"].calls
        if "decode CloudEvents record" in probes.probes
        else None,
        "consumer_batch_ms_mean": round(1000 * probes.batch_seconds() / max(1, batches), 1),
        "consumer_busy_pct": min(100.0, round(100 * probes.batch_seconds() / seconds, 1))
        if seconds
        else 0,
        "python_cpu_pct": cpu_pct,
        "machine_busy_pct": machine_pct,
        "consumer_batch_size": consumer_batch_size,
        "relay_batch_size": relay_batch_size,
        "breakdown": probes.breakdown(),
    }
    if advice_requested < arrived:
        say(f"    note: only {advice_requested} of {arrived} records are AdviceRequested")
    return result


def forget_group(kafka: str, namespace: str) -> None:
    """Drop the advisory consumer group so the next hop reads the input from the start."""
    group = consumer_group("advisory", namespace)
    with admin_client(kafka) as admin:
        errors: list[Any] = []
        for _ in range(40):  # the member that just left may still be counted for a moment
            outcome = admin.delete_groups([group])  # {group: error class}
            pairs = outcome.items() if isinstance(outcome, dict) else outcome
            errors = [error for _, error in pairs if getattr(error, "errno", 0) != 0]
            if not errors:
                return
            time.sleep(0.25)
    raise RuntimeError(f"could not delete consumer group {group}: {errors}")
