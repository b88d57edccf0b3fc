"""The one way to build a Kafka producer: acks=all and idempotence, never aiokafka's defaults."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from shared.settings import ServiceSettings


def create_producer(settings: ServiceSettings, **overrides: Any) -> AIOKafkaProducer:
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "client_id": f"inspraak-{settings.service_name}",
        "acks": "all",
        "enable_idempotence": True,
        # A few milliseconds of lingering turns a relay sweep into a handful of requests.
        "linger_ms": 5,
        "max_batch_size": 512 * 1024,
        "request_timeout_ms": 30_000,
        **settings.kafka_security(),
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)
