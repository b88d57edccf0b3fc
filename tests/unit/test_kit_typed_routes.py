"""Typed event routes: a handler gets its own model's data, narrowed once by the kit, and an
envelope whose data is another model's is refused, and dead-lettered by the consumer."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import Field
from sqlalchemy import MetaData

from shared.contracts import initiatives
from shared.contracts.base import EventData
from shared.contracts.envelope import Envelope, InvalidEvent
from shared.messaging.consumer import BatchConsumer, EventMismatch, EventRoutes
from shared.messaging.dead_letters import DeadLetters
from shared.messaging.tables import MessagingTables
from shared.messaging.unit_of_work import UnitOfWork
from shared.persistence import create_engine, session_factory
from shared.settings import ServiceSettings
from shared.testing.events import TEST_SOURCE, decided, ready_for_review

TOPIC = "initiatives.events.v1"
GROUP = "inspraak-tests"


class OutdatedInitiativeClosed(EventData):
    """A service's own, outdated copy of the contract's model: the same event type, but not
    the class the contract registry parses ``initiative-closed`` into."""

    producer: ClassVar[str] = "initiatives"
    name: ClassVar[str] = "initiative-closed"
    aggregate_field: ClassVar[str] = "initiative_id"

    initiative_id: str = Field(description="Id of the initiative.")
    reason: str = Field(description="Why it was closed.")


def closed() -> initiatives.InitiativeClosed:
    return initiatives.InitiativeClosed(
        municipality="GM0362", initiative_id="initiative-1", reason="Uitgevoerd."
    )


def disguised_as_closed(data: EventData) -> Envelope:
    """An envelope saying ``initiative-closed`` around another model's data."""
    envelope = Envelope.wrap(data, source=TEST_SOURCE)
    return dataclasses.replace(envelope, type=initiatives.InitiativeClosed.event_type())


@dataclass
class Seen:
    events: list[tuple[str, EventData]] = field(default_factory=list)

    async def closed(
        self, event: initiatives.InitiativeClosed, envelope: Envelope, uow: UnitOfWork
    ) -> None:
        self.events.append(("closed", event))

    async def decided(
        self, event: initiatives.InitiativeDecided, envelope: Envelope, uow: UnitOfWork
    ) -> None:
        self.events.append(("decided", event))

    async def prepared_closed(
        self, events: Sequence[initiatives.InitiativeClosed], uow: UnitOfWork
    ) -> None:
        self.events += [("prepared closed", event) for event in events]


def typed_routes(seen: Seen) -> EventRoutes[UnitOfWork]:
    routes: EventRoutes[UnitOfWork] = EventRoutes()
    routes.on(initiatives.InitiativeClosed)(seen.closed)
    routes.on(initiatives.InitiativeDecided)(seen.decided)
    routes.prepare(initiatives.InitiativeClosed)(seen.prepared_closed)
    return routes


async def test_a_route_hands_its_handler_only_data_of_its_own_model() -> None:
    seen = Seen()
    routes = typed_routes(seen)
    uow: Any = object()  # the handlers here never touch it
    closing, deciding = closed(), decided(amount_cents=10_000)

    for data in (closing, deciding):
        envelope = Envelope.wrap(data, source=TEST_SOURCE)
        await routes.handlers[envelope.type](envelope, uow)
    await routes.preparers[closing.event_type()](
        [Envelope.wrap(closing, source=TEST_SOURCE), disguised_as_closed(deciding)], uow
    )

    assert seen.events == [("closed", closing), ("decided", deciding), ("prepared closed", closing)]


async def test_an_envelope_with_another_models_data_is_refused_before_the_handler() -> None:
    seen = Seen()
    routes = typed_routes(seen)
    envelope = disguised_as_closed(ready_for_review())

    with pytest.raises(EventMismatch) as refused:
        await routes.handlers[envelope.type](envelope, object())  # type: ignore[arg-type]

    assert isinstance(refused.value, InvalidEvent)
    assert str(refused.value) == (
        "nl.inspraak.initiatives.initiative-closed is routed for InitiativeClosed, "
        "but carries InitiativeReadyForReview data"
    )
    # The preparer leaves it out too (its handler refuses it); with nothing left, no call.
    await routes.preparers[envelope.type]([envelope], object())  # type: ignore[arg-type]
    assert seen.events == []


def test_a_second_route_for_one_event_type_is_refused_at_registration() -> None:
    routes = typed_routes(Seen())

    with pytest.raises(ValueError, match=r"a handler for .*initiative-closed is registered"):
        routes.on(initiatives.InitiativeClosed)(Seen().closed)
    with pytest.raises(ValueError, match=r"a preparer for .*initiative-closed is registered"):
        routes.prepare(initiatives.InitiativeClosed)(Seen().prepared_closed)


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


@dataclass
class Batch:
    raw_message: tuple[Record, ...]
    consumer: Any = None
    outcome: list[str] = field(default_factory=list)

    async def ack(self) -> None:
        self.outcome.append("ack")

    async def nack(self) -> None:
        self.outcome.append("nack")


@dataclass
class RecordingProducer:
    """Stands in for the Kafka producer the dead letters go through."""

    sent: list[tuple[str, bytes | None, dict[str, bytes]]] = field(default_factory=list)

    async def send_and_wait(
        self, topic: str, *, value: bytes | None, key: bytes | None, headers: Any
    ) -> None:
        self.sent.append((topic, value, dict(headers)))


def as_records(events: Sequence[EventData]) -> tuple[Record, ...]:
    envelopes = [Envelope.wrap(data, source=TEST_SOURCE) for data in events]
    return tuple(
        Record(TOPIC, 0, offset, e.partitionkey.encode(), e.kafka_value(), e.kafka_headers())
        for offset, e in enumerate(envelopes)
    )


@pytest.fixture
async def unit_of_work(tmp_path: Path) -> AsyncIterator[partial[UnitOfWork]]:
    metadata = MetaData()
    tables = MessagingTables(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/routes.sqlite3")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield partial(
        UnitOfWork, session_factory(engine), tables, ServiceSettings(environment="development")
    )
    await engine.dispose()


async def test_the_consumer_dead_letters_what_its_route_does_not_parse_into_and_applies_the_rest(
    unit_of_work: partial[UnitOfWork],
) -> None:
    """A route registered for a model the contract does not parse its type into (here an
    outdated copy) gets no event: each is dead-lettered with the reason, the batch goes on."""
    outdated: list[OutdatedInitiativeClosed] = []

    async def on_outdated_closed(
        event: OutdatedInitiativeClosed, envelope: Envelope, uow: UnitOfWork
    ) -> None:
        outdated.append(event)

    seen = Seen()
    routes: EventRoutes[UnitOfWork] = EventRoutes()
    routes.on(OutdatedInitiativeClosed)(on_outdated_closed)
    routes.on(initiatives.InitiativeDecided)(seen.decided)
    producer = RecordingProducer()
    consumer = BatchConsumer(
        service="tests",
        group=GROUP,
        routes=routes,
        unit_of_work=unit_of_work,
        dead_letters=DeadLetters(producer, service="tests", group=GROUP),
    )
    first, second = decided(amount_cents=10_000), decided(amount_cents=20_000)
    batch = Batch(as_records([first, closed(), second]))

    await consumer.process(batch)

    assert batch.outcome == ["ack"]
    assert outdated == []
    # The refusal rolled the transaction back and the rest was applied again, so the decided
    # handler ran more than twice; what it got were the decided events, parsed from the records.
    handled = {(kind, type(e), e.model_dump_json()) for kind, e in seen.events}
    assert handled == {
        ("decided", initiatives.InitiativeDecided, first.model_dump_json()),
        ("decided", initiatives.InitiativeDecided, second.model_dump_json()),
    }
    [(topic, value, headers)] = producer.sent
    assert topic == f"{TOPIC}.{GROUP}.dlq"
    assert value == batch.raw_message[1].value
    assert headers["dlq_reason"].decode() == (
        "EventMismatch: nl.inspraak.initiatives.initiative-closed is routed for "
        "OutdatedInitiativeClosed, but carries InitiativeClosed data"
    )
