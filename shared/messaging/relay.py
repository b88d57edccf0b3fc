"""The outbox relay: publishes committed outbox rows to Kafka, in order per key, at least once.

On PostgreSQL several replicas may run a relay: each publishes only the slots whose row lock
it holds (``FOR UPDATE SKIP LOCKED``), so no row is published twice and rows of one key (one
slot) are never published out of order by two relays. SQLite is single-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry.trace import SpanKind
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.messaging.outbox import decode_headers
from shared.messaging.tables import MessagingTables
from shared.metrics import EVENTS_FAILED, EVENTS_PUBLISHED, OUTBOX_BACKLOG
from shared.telemetry import context_from, current_traceparent, tracer

log = logging.getLogger(__name__)

# send(topic, value, key, headers) -> awaitable that resolves once the broker has the record
SendFunction = Callable[[str, bytes, bytes, list[tuple[str, bytes]]], Awaitable[Awaitable[Any]]]
BACKLOG_REFRESH_S = 2.0


def producer_send(producer: Any) -> SendFunction:
    """Adapt an AIOKafkaProducer: ``send`` queues the record and returns its delivery future."""

    async def send(
        topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> Awaitable[Any]:
        future: Awaitable[Any] = await producer.send(topic, value=value, key=key, headers=headers)
        return future

    return send


class OutboxRelay:
    """Sweeps the outbox: publishes what is committed, retries what failed, keeps key order."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        tables: MessagingTables,
        send: SendFunction,
        service: str,
        batch_size: int = 500,
        idle_seconds: float = 0.05,
        signal: asyncio.Event | None = None,
    ) -> None:
        self._engine = engine
        self._tables = tables
        self._send = send
        self._service = service
        self._batch_size = batch_size
        self._idle_seconds = idle_seconds
        self.signal = signal or asyncio.Event()
        self._locks_slots = engine.dialect.name == "postgresql"
        self._stopping = asyncio.Event()
        self._backlog_checked = 0.0

    async def run(self) -> None:
        """Publish until :meth:`stop`; a failed sweep is logged and retried after a pause."""
        failures = 0
        while not self._stopping.is_set():
            try:
                published = await self.publish_batch()
                failures = 0
            except Exception:
                failures += 1
                EVENTS_FAILED.labels(self._service, "relay").inc()
                log.exception("outbox sweep failed")
                await self._pause(min(5.0, 0.1 * 2**failures))
                continue
            await self._refresh_backlog()
            if published < self._batch_size:
                await self._pause(self._idle_seconds)

    async def stop(self) -> None:
        self._stopping.set()
        self.signal.set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.signal.wait(), seconds)
        self.signal.clear()

    async def publish_batch(self) -> int:
        """Publish one batch of due rows and delete them; return how many were published."""
        outbox = self._tables.outbox
        async with self._engine.connect() as connection, connection.begin():
            query = select(outbox).order_by(outbox.c.id).limit(self._batch_size)
            if self._locks_slots:
                slots = await self._claim_slots(connection)
                if not slots:
                    return 0
                query = query.where(outbox.c.slot.in_(slots))
            rows = list((await connection.execute(query)).all())
            if not rows:
                return 0
            published = await self._publish(rows)
            if published:
                await connection.execute(delete(outbox).where(outbox.c.id.in_(published)))
        return len(published)

    async def _claim_slots(self, connection: AsyncConnection) -> list[int]:
        slot = self._tables.outbox_slot
        result = await connection.execute(select(slot.c.slot).with_for_update(skip_locked=True))
        return [row.slot for row in result]

    async def _publish(self, rows: list[Any]) -> list[int]:
        failed_keys: set[str] = set()
        pending: list[tuple[int, str, str, Awaitable[Any]]] = []  # id, key, topic, delivery
        for row in rows:
            if row.key in failed_keys:
                continue  # an earlier row of this key failed: keep the key's order
            try:
                delivery = await self._send_row(row)
            except Exception as error:
                failed_keys.add(row.key)
                EVENTS_FAILED.labels(self._service, "publish").inc()
                log.warning("publishing outbox row %s failed: %s", row.id, error)
                continue
            pending.append((row.id, row.key, row.topic, delivery))
        results = await asyncio.gather(*(p[3] for p in pending), return_exceptions=True)
        # Whatever the broker acknowledged is published and leaves the outbox; the rest stays
        # and is swept again. A failure raised by send() stops the key at once (see above);
        # only a delivery refused after every producer retry, while a later row of the same
        # key was acknowledged, can still put that key out of order.
        published: list[int] = []
        for (row_id, _, topic, _), result in zip(pending, results, strict=True):
            if isinstance(result, BaseException):
                EVENTS_FAILED.labels(self._service, "publish").inc()
                log.warning("outbox row %s was not acknowledged: %s", row_id, result)
                continue
            published.append(row_id)
            EVENTS_PUBLISHED.labels(self._service, topic).inc()
        return published

    async def _send_row(self, row: Any) -> Awaitable[Any]:
        headers = decode_headers(row.headers)
        parent = context_from(row.traceparent)
        with tracer().start_as_current_span(
            f"publish {row.topic}", context=parent, kind=SpanKind.PRODUCER
        ):
            traceparent = current_traceparent() or row.traceparent
            if traceparent:
                headers.append(("traceparent", traceparent.encode()))
            return await self._send(row.topic, row.value, row.key.encode(), headers)

    async def _refresh_backlog(self) -> None:
        now = time.monotonic()
        if now - self._backlog_checked < BACKLOG_REFRESH_S:
            return
        self._backlog_checked = now
        async with self._engine.connect() as connection:
            count = await connection.scalar(select(func.count()).select_from(self._tables.outbox))
        OUTBOX_BACKLOG.labels(self._service).set(count or 0)
