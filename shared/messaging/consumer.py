"""Batch consumption with effectively-once effects.

One batch of Kafka records becomes one database transaction: inbox rows, state changes and
outbox rows commit together, and only then is the offset committed. What can never succeed
goes to the dead-letter topic; anything else is a transient failure: back off, rewind to the
batch's first record and let Kafka deliver it again.

On SQLite a transaction holds the database's only write lock, which the outbox relay and the
timer wheel need too; there the consumer can bound a transaction by time and apply a large
batch in several transactions. Each claims its own events in the inbox, so a crash between them
redelivers the batch and the inbox skips what already committed; the offset is still committed
once, after the last.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from opentelemetry.trace import SpanKind

from shared.contracts.base import EventData
from shared.contracts.envelope import Envelope, InvalidEvent, parse_record
from shared.messaging.dead_letters import DeadLetters, KafkaRecord
from shared.messaging.inbox import claim_unseen
from shared.messaging.unit_of_work import UnitOfWork
from shared.metrics import (
    CONSUMER_LAG,
    EVENTS_CONSUMED,
    EVENTS_DUPLICATE,
    EVENTS_FAILED,
    HANDLE_SECONDS,
)
from shared.telemetry import context_from_headers, tracer

log = logging.getLogger(__name__)

U = TypeVar("U", bound=UnitOfWork)
E = TypeVar("E", bound=EventData)
R = TypeVar("R")
# What a service writes: a function of its event's data, typed with the model it is routed
# for (the envelope comes along for the causation, correlation and trace it carries).
Handler = Callable[[E, Envelope, U], Awaitable[None]]
Preparer = Callable[[Sequence[E], U], Awaitable[None]]
# What the consumer calls: any envelope of the route's type; the route narrows it to a Handler.
EventHandler = Callable[[Envelope, U], Awaitable[None]]
BatchPreparer = Callable[[Sequence[Envelope], U], Awaitable[None]]
# With a time bound, events are claimed in the inbox in steps of this many, so a transaction
# can end after any step; without one, a batch is claimed in one statement.
CLAIM_STEP = 50


class BatchMessage(Protocol):
    """What the kit needs of FastStream's Kafka message in a batch subscriber."""

    raw_message: Any
    consumer: Any

    async def ack(self) -> None: ...
    async def nack(self) -> None: ...


class EventMismatch(InvalidEvent):
    """An envelope whose data is not the model its type is routed for.

    The contract registry parses a type into the model its route is normally registered for,
    so this is a fault in the code (a route for an outdated copy of a model, say), and the same
    record would fail again: the consumer dead-letters it like an event the domain rejects,
    and no handler ever sees it.
    """


class _Rejected(Exception):
    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index, self.reason = index, reason


@dataclass
class Backoff:
    """Exponential backoff with jitter for transient failures, reset by a success."""

    initial_s: float = 0.2
    maximum_s: float = 10.0
    failures: int = 0

    def next_delay(self) -> float:
        self.failures += 1
        delay = min(self.maximum_s, self.initial_s * 2 ** (self.failures - 1))
        return delay * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.failures = 0


@dataclass
class EventRoutes(Generic[U]):
    """Which handler applies which event type, for one consumer group.

    ``handlers`` and ``preparers`` hold what the consumer calls with envelopes; ``on`` and
    ``prepare`` register functions typed with their model's data and narrow each envelope to
    it once, here, so no handler has to check what it was given.
    """

    handlers: dict[str, EventHandler[U]] = field(default_factory=dict)
    preparers: dict[str, BatchPreparer[U]] = field(default_factory=dict)

    def on(self, model: type[E]) -> Callable[[Handler[E, U]], Handler[E, U]]:
        """Register the handler of ``model``'s events: it gets the event's data as ``model``.

        An envelope of this type whose data is not a ``model`` raises :class:`EventMismatch`
        (the consumer dead-letters it) and never reaches the handler.
        """

        def register(handler: Handler[E, U]) -> Handler[E, U]:
            _add_route(self.handlers, model, "handler", _narrowing_handler(model, handler))
            return handler

        return register

    def prepare(self, model: type[E]) -> Callable[[Preparer[E, U]], Preparer[E, U]]:
        """Register a function that sees a transaction's new events of this type at once,
        before their handlers: to read in one query what each handler would look up alone.

        It runs in the unit of work the handlers get; it only reads (an error in it is a
        transient failure of the batch, never a reason to dead-letter one event). It gets the
        events' data as ``model``; one that is not is left out, and its handler refuses it.
        """

        def register(preparer: Preparer[E, U]) -> Preparer[E, U]:
            _add_route(self.preparers, model, "preparer", _narrowing_preparer(model, preparer))
            return preparer

        return register


def _add_route(routes: dict[str, R], model: type[EventData], kind: str, route: R) -> None:
    event_type = model.event_type()
    if event_type in routes:
        # A second registration would silently replace the first one's behaviour.
        raise ValueError(f"a {kind} for {event_type} is registered already")
    routes[event_type] = route


def _narrowing_handler(model: type[E], handler: Handler[E, U]) -> EventHandler[U]:
    async def handle(envelope: Envelope, uow: U) -> None:
        data = envelope.data
        if not isinstance(data, model):
            raise EventMismatch(
                f"{envelope.type} is routed for {model.__qualname__}, "
                f"but carries {type(data).__qualname__} data"
            )
        await handler(data, envelope, uow)

    return handle


def _narrowing_preparer(model: type[E], preparer: Preparer[E, U]) -> BatchPreparer[U]:
    async def prepare(envelopes: Sequence[Envelope], uow: U) -> None:
        events = [e.data for e in envelopes if isinstance(e.data, model)]
        if events:
            await preparer(events, uow)

    return prepare


class BatchConsumer(Generic[U]):
    """Applies batches of events for one consumer group of one service."""

    def __init__(
        self,
        *,
        service: str,
        group: str,
        routes: EventRoutes[U],
        unit_of_work: Callable[[], U],
        dead_letters: DeadLetters,
        rejections: tuple[type[Exception], ...] = (),
        backoff: Backoff | None = None,
        max_transaction_s: float | None = None,
    ) -> None:
        """``max_transaction_s``: commit and start a new transaction once one has run this
        long (checked every ``CLAIM_STEP`` events); ``None`` applies a batch in one."""
        self.service = service
        self.group = group
        self._handlers: Mapping[str, EventHandler[U]] = routes.handlers
        self._preparers: Mapping[str, BatchPreparer[U]] = routes.preparers
        self._unit_of_work = unit_of_work
        self._dead_letters = dead_letters
        # A mismatching envelope is refused like one the domain rejects: it would never succeed.
        self._rejections: tuple[type[Exception], ...] = (EventMismatch, *rejections)
        self._backoff = backoff or Backoff()
        self._max_transaction_s = max_transaction_s
        self._lag: dict[tuple[str, int], int] = {}

    async def process(self, message: BatchMessage) -> None:
        """Apply a batch, then commit its offsets; never raise into FastStream's loop.

        Raising would let the consumer move past the batch without committing it, and a later
        commit would then skip it: every failure path ends in ack (done) or nack (redeliver).
        """
        raw = message.raw_message
        records: Sequence[KafkaRecord] = raw if isinstance(raw, tuple) else (raw,)
        try:
            with HANDLE_SECONDS.labels(self.service).time():
                await self._process(records)
        except asyncio.CancelledError:
            raise
        except Exception:
            EVENTS_FAILED.labels(self.service, "consume").inc()
            delay = self._backoff.next_delay()
            log.exception("batch of %d records failed; redelivering in %.2fs", len(records), delay)
            await asyncio.sleep(delay)
            await message.nack()
            return
        self._backoff.reset()
        await message.ack()
        self._record_lag(message.consumer, records)

    async def _process(self, records: Sequence[KafkaRecord]) -> None:
        accepted: list[tuple[KafkaRecord, Envelope]] = []
        for record in records:
            try:
                envelope = parse_record(record.headers, record.value)
            except InvalidEvent as error:
                await self._dead_letters.send(record, str(error))
                continue
            if envelope is not None and envelope.type in self._handlers:
                accepted.append((record, envelope))
        rejected: dict[int, str] = {}
        committed: set[int] = set()
        pending = list(range(len(accepted)))
        while pending:
            try:
                pending = await self._apply(accepted, pending, committed)
            except _Rejected as rejection:
                # Roll back and apply the rest again without the rejected event.
                rejected[rejection.index] = rejection.reason
                pending = [i for i in pending if i not in committed and i not in rejected]
        for record, _ in accepted:
            EVENTS_CONSUMED.labels(self.service, record.topic).inc()
        for index, reason in rejected.items():
            await self._dead_letters.send(accepted[index][0], reason)

    async def _apply(
        self,
        accepted: list[tuple[KafkaRecord, Envelope]],
        pending: list[int],
        committed: set[int],
    ) -> list[int]:
        """Apply ``pending`` events in one transaction, or as many as its time bound allows;
        return those left for the next transaction."""
        started, limit = time.monotonic(), self._max_transaction_s
        step = len(pending) if limit is None else CLAIM_STEP
        applied: list[int] = []
        unit_of_work = self._unit_of_work()
        async with unit_of_work:
            uow = unit_of_work
            while len(applied) < len(pending):
                chunk = pending[len(applied) : len(applied) + step]
                await self._apply_chunk(uow, accepted, chunk)
                applied += chunk
                if limit is not None and time.monotonic() - started >= limit:
                    break
            await uow.commit()
        committed.update(applied)
        return pending[len(applied) :]

    async def _apply_chunk(
        self, uow: U, accepted: list[tuple[KafkaRecord, Envelope]], chunk: list[int]
    ) -> None:
        candidates = [accepted[index][1] for index in chunk]
        unseen = {
            id(env) for env in await claim_unseen(uow.session, uow.tables, self.group, candidates)
        }
        EVENTS_DUPLICATE.labels(self.service).inc(len(candidates) - len(unseen))
        await self._prepare(uow, [env for env in candidates if id(env) in unseen])
        for index in chunk:
            record, envelope = accepted[index]
            if id(envelope) not in unseen:
                continue
            with tracer().start_as_current_span(
                f"process {envelope.type}",
                context=context_from_headers(dict(record.headers)),
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.consumer.group.name": self.group,
                    "cloudevents.event_id": envelope.id,
                },
            ):
                try:
                    await self._handlers[envelope.type](envelope, uow)
                except self._rejections as error:
                    raise _Rejected(index, f"{type(error).__name__}: {error}") from error

    async def _prepare(self, uow: U, envelopes: list[Envelope]) -> None:
        by_type: dict[str, list[Envelope]] = {}
        for envelope in envelopes:
            if envelope.type in self._preparers:
                by_type.setdefault(envelope.type, []).append(envelope)
        for event_type, of_type in by_type.items():
            await self._preparers[event_type](of_type, uow)

    def _record_lag(self, consumer: Any, records: Sequence[KafkaRecord]) -> None:
        highwater = getattr(consumer, "highwater", None)
        if highwater is None:
            return
        from aiokafka import TopicPartition

        last: dict[tuple[str, int], int] = {}
        for record in records:
            last[(record.topic, record.partition)] = record.offset
        for (topic, partition), offset in last.items():
            end = highwater(TopicPartition(topic, partition))
            if end is not None:
                self._lag[(topic, partition)] = max(0, end - offset - 1)
        for topic in {t for t, _ in last}:
            total = sum(lag for (t, _), lag in self._lag.items() if t == topic)
            CONSUMER_LAG.labels(self.service, topic).set(total)
