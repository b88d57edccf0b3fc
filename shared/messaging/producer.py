"""The one way to build a Kafka producer: acks=all and idempotence, never aiokafka's defaults."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from shared.settings import ServiceSettings


class Producer:
    """A producer made when started: aiokafka needs a running event loop to build one."""

    def __init__(self, settings: ServiceSettings, **overrides: Any) -> None:
        self._settings = settings
        self._overrides = overrides
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = create_producer(self._settings, **self._overrides)
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    @property
    def client(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("the producer is not started")
        return self._producer

    async def send(self, topic: str, **record: Any) -> Any:
        return await self.client.send(topic, **record)

    async def send_and_wait(self, topic: str, **record: Any) -> Any:
        return await self.client.send_and_wait(topic, **record)


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
