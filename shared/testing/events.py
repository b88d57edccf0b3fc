"""Building and publishing contract events in tests, as a municipal system would."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from kafka import KafkaProducer

from shared.contracts import initiatives
from shared.contracts.base import EventData
from shared.contracts.envelope import Envelope

TEST_SOURCE = "urn:nld:gemeente-GM0362:systeem:inspraak-tests"


def ready_for_review(
    neighbourhood: str = "BU03620001", amount_cents: int = 50_000, theme: str = "groen"
) -> initiatives.InitiativeReadyForReview:
    return initiatives.InitiativeReadyForReview(
        municipality="GM0362",
        initiative_id=str(uuid.uuid4()),
        title="Geveltuintjes in de straat",
        neighbourhood=neighbourhood,
        theme=theme,
        initiative_type="buurt-demo",
        requested_amount_cents=amount_cents,
        funding_source=initiatives.FundingSource.NEIGHBOURHOOD_BUDGET,
        initiator_id=f"resident-{uuid.uuid4().hex[:8]}",
        support_count=0,
    )


def decided(
    *, amount_cents: int, neighbourhood: str = "BU03620001", approve: bool = True
) -> initiatives.InitiativeDecided:
    return initiatives.InitiativeDecided(
        **ready_for_review(neighbourhood, amount_cents).model_dump(exclude={"support_count"}),
        decision=initiatives.Decision.APPROVED if approve else initiatives.Decision.REJECTED,
        reasons="Past binnen het buurtbudget en de adviezen zijn positief.",
        decided_by="budget-holder-1",
        decided_at=datetime.now(UTC),
    )


def publish(kafka: str, topic: str, events: Iterable[EventData | Envelope]) -> list[Envelope]:
    """Publish events (binary CloudEvents mode) and wait until the broker has them all."""
    producer = KafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=5)
    sent: list[Envelope] = []
    try:
        for event in events:
            envelope = (
                event if isinstance(event, Envelope) else Envelope.wrap(event, source=TEST_SOURCE)
            )
            producer.send(
                topic,
                key=envelope.partitionkey.encode(),
                value=envelope.kafka_value(),
                headers=envelope.kafka_headers(),
            )
            sent.append(envelope)
        producer.flush(timeout=60)
    finally:
        producer.close()
    return sent
