"""Inspecting and replaying dead letters (kafka-python, synchronous: a tool for operators)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from shared.messaging.dead_letters import DLQ_HEADER_PREFIX, original_headers


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    def info(self, name: str) -> str:
        wanted = DLQ_HEADER_PREFIX + name
        return next((v.decode() for k, v in self.headers if k == wanted), "")

    def summary(self) -> dict[str, Any]:
        attributes = {k[3:]: v.decode() for k, v in self.headers if k.startswith("ce_")}
        return {
            "partition": self.partition,
            "offset": self.offset,
            "type": attributes.get("type", ""),
            "id": attributes.get("id", ""),
            "reason": self.info("reason"),
            "original": f"{self.info('original_topic')}[{self.info('original_partition')}]"
            f"@{self.info('original_offset')}",
            "failed_at": self.info("failed_at"),
        }


def read_dead_letters(
    bootstrap_servers: str, topic: str, config: Mapping[str, Any] | None = None
) -> Iterator[DeadLetter]:
    """Every record on a dead-letter topic, from the beginning to the current end."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        **(config or {}),
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        if not partitions:
            raise LookupError(f"topic {topic} does not exist")
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > consumer.position(tp)}
        while remaining:
            for tp, records in consumer.poll(timeout_ms=1000).items():
                for record in records:
                    yield DeadLetter(
                        record.partition,
                        record.offset,
                        record.key,
                        record.value,
                        list(record.headers),
                    )
                if consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        consumer.close()


def replay(
    bootstrap_servers: str,
    letter: DeadLetter,
    *,
    value: bytes | None = None,
    config: Mapping[str, Any] | None = None,
) -> str:
    """Publish a dead letter back to its original topic, optionally with corrected data.

    The CloudEvents id stays the same, so a consumer's inbox applies it at most once however
    often it is replayed.
    """
    topic = letter.info("original_topic")
    if not topic:
        raise ValueError("dead letter has no original topic header")
    producer = KafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        **(config or {}),
    )
    try:
        producer.send(
            topic,
            key=letter.key,
            value=letter.value if value is None else value,
            headers=original_headers(letter.headers),
        ).get(timeout=30)
        producer.flush()
    finally:
        producer.close()
    return topic
