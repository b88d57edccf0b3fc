"""Test helpers shared by unit, integration and end-to-end tests."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from kafka import KafkaConsumer

from shared.auth import Role, issue_development_token
from shared.contracts.envelope import Envelope, parse_record
from shared.messaging.topics import ensure_topics
from shared.messaging.topology import topic_specs
from shared.settings import DEVELOPMENT_JWT_SECRET, ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def settings_for(cls: type[S], *, kafka: str, namespace: str, database_url: str, **extra: Any) -> S:
    """Service settings for a test: development auth, its own namespace and database."""
    return cls(
        environment="development",
        kafka_bootstrap_servers=kafka,
        kafka_topic_namespace=namespace,
        database_url=database_url,
        relay_idle_seconds=0.02,
        **extra,
    )


def create_test_topics(kafka: str, namespace: str, partitions: int = 3) -> None:
    ensure_topics(
        kafka,
        topic_specs(
            partitions=partitions,
            replication_factor=1,
            min_insync_replicas=1,
            namespace=namespace,
        ),
    )


def token(role: Role, municipality: str = "GM0362", subject: str = "person-1") -> dict[str, str]:
    """An Authorization header with a development token."""
    signed = issue_development_token(
        DEVELOPMENT_JWT_SECRET, subject=subject, role=role, municipality=municipality
    )
    return {"Authorization": f"Bearer {signed}"}


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (Kafka, relay, consumers) and give a client for its API."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def read_envelopes(
    kafka: str,
    topic: str,
    *,
    until: Callable[[list[Envelope]], bool],
    timeout_s: float = 30.0,
) -> list[Envelope]:
    """Read a topic from the beginning until ``until`` holds; fail loudly on timeout."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=500,
    )
    seen: list[Envelope] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                for record in batch:
                    envelope = parse_record(record.headers, record.value)
                    if envelope is not None:
                        seen.append(envelope)
            if until(seen):
                return seen
    finally:
        consumer.close()
    raise AssertionError(f"timed out on {topic}; saw {[e.type for e in seen]}")


async def eventually(
    check: Callable[[], Any], timeout_s: float = 30.0, interval_s: float = 0.1
) -> Any:
    """Await ``check`` until it returns something truthy, failing after ``timeout_s``."""
    import asyncio
    import inspect

    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s}s (last: {last!r})")
