"""Waits on the services' Kafka events, as a reader outside the services would.

A driver that polls the APIs while it waits measures its own polling more than the event-driven
work (and no resident polls every 10 ms). :class:`EventWatch` instead tails the four
``<namespace><service>.events.v1`` topics with one consumer and wakes whoever waits for an event
of a type about an id (an initiative's id; for advice rounds the initiative they advise on).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka import KafkaConsumer

from shared.contracts import advisory, budgets, initiatives
from shared.contracts.envelope import Envelope, InvalidEvent, parse_record

log = logging.getLogger(__name__)

SERVICES = ("initiatives", "advisory", "budgets", "notifications")
# What a flow waits for (stack.flow.FlowDriver); everything else is skipped on its headers.
FLOW_EVENT_TYPES = frozenset(
    event.event_type()
    for event in (
        advisory.AdviceRequested,
        initiatives.InitiativeReadyForDecision,
        budgets.BudgetAllocated,
        budgets.AllocationRejected,
    )
)
KEEP_EVENTS = 50_000
Key = tuple[str, str]  # (id, event type)


def _header(headers: Iterable[tuple[str, bytes]], name: str) -> bytes | None:
    for header, value in headers:
        if header == name:
            return value
    return None


def _partitions(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    """Every partition of ``topics``, asked of the broker now.

    kafka-python fetches a topic's metadata when asked; aiokafka answers from a cache that
    need not know topics created after the client started.
    """
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        return [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
    finally:
        consumer.close()


class EventWatch:
    """One consumer (no group, nothing committed) from the end of the topics, and waiters.

    Events that arrive before anyone waits for them are kept (the newest ``keep``), so a waiter
    registered after its event still resolves: a flow registers its next wait only after the
    POST that causes the event has answered, and the event may well be faster than that answer.
    """

    def __init__(
        self,
        bootstrap: str,
        namespace: str,
        *,
        types: Iterable[str] = FLOW_EVENT_TYPES,
        keep: int = KEEP_EVENTS,
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = [f"{namespace}{service}.events.v1" for service in SERVICES]
        self._types = {event_type.encode() for event_type in types}
        self._keep = keep
        self._seen: OrderedDict[Key, Envelope] = OrderedDict()
        self._waiters: dict[Key, list[asyncio.Future[Envelope]]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._tail: asyncio.Task[None] | None = None
        self.records = 0  # read from the topics, for the report
        self.decoded = 0  # of which of a wanted type, so parsed

    async def start(self) -> None:
        """Assign every partition and seek to its end; only events after this are seen."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False
        )
        partitions = await asyncio.to_thread(_partitions, self._bootstrap, self._topics)
        if not partitions:
            raise RuntimeError(f"none of {self._topics} exists on {self._bootstrap}")
        await consumer.start()
        try:
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            for partition in partitions:  # resolve the positions now, not at the first fetch
                await consumer.position(partition)
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        self._tail = asyncio.create_task(self._run(), name="event-watch")

    async def stop(self) -> None:
        if self._tail is not None:
            self._tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tail
            self._tail = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
        for futures in self._waiters.values():
            for future in futures:
                future.cancel()
        self._waiters.clear()

    async def __aenter__(self) -> EventWatch:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def waiting(self) -> int:
        """Waits registered and not yet answered or given up."""
        return len({id(future) for futures in self._waiters.values() for future in futures})

    async def wait_for(self, about: str, types: str | Iterable[str], timeout_s: float) -> Envelope:
        """The first event of one of ``types`` about ``about``, kept or still to come.

        Raises :class:`TimeoutError` when none arrives within ``timeout_s``.
        """
        wanted = (types,) if isinstance(types, str) else tuple(types)
        for event_type in wanted:
            envelope = self._seen.get((about, event_type))
            if envelope is not None:
                return envelope
        future: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        keys = [(about, event_type) for event_type in wanted]
        for key in keys:
            self._waiters.setdefault(key, []).append(future)
        try:
            return await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            raise TimeoutError(f"no {' or '.join(wanted)} about {about} in {timeout_s}s") from None
        finally:
            for key in keys:
                waiting = self._waiters.get(key)
                if waiting is not None:
                    with contextlib.suppress(ValueError):
                        waiting.remove(future)
                    if not waiting:
                        del self._waiters[key]

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    self._take(record)

    def _take(self, record: Any) -> None:
        self.records += 1
        # The type is in a header: skip the records nobody waits for before touching the body.
        event_type = _header(record.headers, "ce_type")
        if event_type not in self._types:
            return
        try:
            envelope = parse_record(record.headers, record.value)
        except InvalidEvent as error:  # not ours to dead-letter; a waiter will time out
            log.warning(
                "skipping an invalid event at %s@%s: %s", record.topic, record.offset, error
            )
            return
        if envelope is None:
            return
        self.decoded += 1
        # Advice rounds are keyed by round; a flow knows the initiative they advise on.
        about = {envelope.subject, getattr(envelope.data, "subject_id", envelope.subject)}
        for subject in about:
            self._keep_and_wake((subject, envelope.type), envelope)

    def _keep_and_wake(self, key: Key, envelope: Envelope) -> None:
        if key not in self._seen:  # the first one counts: it is what a waiter acts on
            self._seen[key] = envelope
            if len(self._seen) > self._keep:
                self._seen.popitem(last=False)
        for future in self._waiters.pop(key, []):
            if not future.done():
                future.set_result(envelope)
