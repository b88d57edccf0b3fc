"""Dead-letter topics: where events that can never succeed go, with the reason attached.

A dead letter keeps the original key, value and headers and adds ``dlq_*`` headers saying
what went wrong and where the record came from, so it can be inspected and replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.metrics import EVENTS_DEAD_LETTERED

DLQ_HEADER_PREFIX = "dlq_"


class KafkaRecord(Protocol):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


def dead_letter_topic(topic: str, group: str) -> str:
    return f"{topic}.{group}.dlq"


def dead_letter_headers(record: KafkaRecord, group: str, reason: str) -> list[tuple[str, bytes]]:
    extra = {
        "reason": reason[:4000],
        "original_topic": record.topic,
        "original_partition": str(record.partition),
        "original_offset": str(record.offset),
        "consumer_group": group,
        "failed_at": datetime.now(UTC).isoformat(),
    }
    return [*record.headers, *((DLQ_HEADER_PREFIX + k, v.encode()) for k, v in extra.items())]


def original_headers(headers: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    return [(k, v) for k, v in headers if not k.startswith(DLQ_HEADER_PREFIX)]


class DeadLetters:
    """Publishes dead letters for one consumer group and waits until the broker has them."""

    def __init__(self, producer: Any, *, service: str, group: str) -> None:
        self._producer = producer
        self._service = service
        self._group = group

    async def send(self, record: KafkaRecord, reason: str) -> None:
        topic = dead_letter_topic(record.topic, self._group)
        await self._producer.send_and_wait(
            topic,
            value=record.value,
            key=record.key,
            headers=dead_letter_headers(record, self._group, reason),
        )
        EVENTS_DEAD_LETTERED.labels(self._service, record.topic).inc()
