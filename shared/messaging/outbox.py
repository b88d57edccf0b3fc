"""The transactional outbox: events are written in the same transaction as the state change."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from shared.contracts.envelope import Envelope
from shared.messaging.tables import OUTBOX_SLOTS, MessagingTables
from shared.telemetry import current_traceparent


@dataclass(frozen=True)
class OutgoingRecord:
    """One Kafka record waiting in the outbox."""

    topic: str
    key: str
    headers: list[tuple[str, bytes]]
    value: bytes
    traceparent: str | None = None

    @classmethod
    def from_envelope(cls, envelope: Envelope, topic: str) -> OutgoingRecord:
        """The record for an event, carrying the trace context it was recorded in."""
        return cls(
            topic,
            envelope.partitionkey,
            envelope.kafka_headers(),
            envelope.kafka_value(),
            current_traceparent(),
        )


def slot_for(key: str) -> int:
    return zlib.crc32(key.encode()) % OUTBOX_SLOTS


def encode_headers(headers: Sequence[tuple[str, bytes]]) -> str:
    return json.dumps([[name, value.decode()] for name, value in headers])


def decode_headers(raw: str) -> list[tuple[str, bytes]]:
    return [(name, value.encode()) for name, value in json.loads(raw)]


async def write_outbox(
    executor: AsyncSession | AsyncConnection,
    tables: MessagingTables,
    records: Sequence[OutgoingRecord],
) -> None:
    """Insert records in the order they were recorded (the relay publishes in id order)."""
    if not records:
        return
    connection = executor if isinstance(executor, AsyncConnection) else await executor.connection()
    await connection.execute(
        insert(tables.outbox),
        [
            {
                "slot": slot_for(record.key),
                "topic": record.topic,
                "key": record.key,
                "headers": encode_headers(record.headers),
                "value": record.value,
                "traceparent": record.traceparent,
            }
            for record in records
        ],
    )
