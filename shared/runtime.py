"""Composition of what every service process runs: database, Kafka, relay and HTTP edge.

Nothing here connects at import time: :func:`create_runtime` only builds objects, and the
FastAPI lifespan made by :func:`create_service_app` starts and stops them in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI, Request, Response
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from faststream.security import BaseSecurity, SASLPlaintext
from opentelemetry.trace import SpanKind
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import clock
from shared.auth import TokenVerifier
from shared.http import install_operational_routes, install_problem_handlers
from shared.messaging.consumer import BatchConsumer, EventRoutes
from shared.messaging.dead_letters import DeadLetters
from shared.messaging.producer import Producer
from shared.messaging.relay import OutboxRelay, producer_send
from shared.messaging.tables import OUTBOX_SLOTS, MessagingTables
from shared.messaging.topology import consumed_topics, consumer_group
from shared.messaging.unit_of_work import UnitOfWork
from shared.metrics import HTTP_REQUESTS
from shared.persistence import create_engine, is_sqlite, reading_only, session_factory
from shared.settings import ServiceSettings
from shared.telemetry import configure_tracing, context_from_headers, tracer

log = logging.getLogger(__name__)
U = TypeVar("U", bound=UnitOfWork)
BackgroundTask = Callable[[], Any]
# SQLite has one write lock for the whole database: a consumer transaction holds it for no more
# than about this long, so the relay and the timer wheel get their turn within a batch.
SQLITE_MAX_TRANSACTION_S = 0.25


@dataclass
class Runtime:
    """The long-lived parts of one service process."""

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: MessagingTables
    broker: KafkaBroker
    producer: Producer
    relay: OutboxRelay
    unit_of_work: Callable[[], UnitOfWork] | None = None
    background: list[BackgroundTask] = field(default_factory=list)

    @property
    def outbox_signal(self) -> asyncio.Event:
        return self.relay.signal

    def batch_consumer(
        self,
        routes: EventRoutes[U],
        unit_of_work: Callable[[], U],
        rejections: tuple[type[Exception], ...],
    ) -> BatchConsumer[U]:
        """The service's consumer: its group, its dead-letter topics, its handlers.

        ``rejections`` are the errors that can never succeed on a retry (the domain refuses
        the event): those events go to the dead-letter topic instead of being redelivered.
        """
        group = self.consumer_group
        sqlite = is_sqlite(self.settings.resolved_database_url())
        return BatchConsumer(
            service=self.settings.service_name,
            group=group,
            routes=routes,
            unit_of_work=unit_of_work,
            dead_letters=DeadLetters(
                self.producer, service=self.settings.service_name, group=group
            ),
            rejections=rejections,
            max_transaction_s=SQLITE_MAX_TRANSACTION_S if sqlite else None,
        )

    def batch_subscriber(self, consumer: BatchConsumer[Any]) -> Callable[[Any], Any]:
        """FastStream's subscriber for a kit consumer: batches, manual acks, records kept raw.

        The body is left undecoded: FastStream would otherwise parse JSON before our code runs,
        and a record it cannot parse would be skipped without a dead letter.
        """
        return self.broker.subscriber(
            *self.consumed_topics,
            group_id=consumer.group,
            batch=True,
            max_records=self.settings.consumer_batch_size,
            # FastStream sleeps as long again after an empty poll; short polls keep an idle
            # consumer's latency at tens of milliseconds instead of ~400.
            batch_timeout_ms=25,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            decoder=_keep_raw,
        )

    @property
    def consumer_group(self) -> str:
        return consumer_group(self.settings.service_name, self.settings.kafka_topic_namespace)

    @property
    def consumed_topics(self) -> list[str]:
        return consumed_topics(self.settings.service_name, self.settings.kafka_topic_namespace)


async def _keep_raw(message: StreamMessage[Any]) -> Any:
    return message.body


def _broker_security(settings: ServiceSettings) -> BaseSecurity | None:
    ssl_context = settings.kafka_security().get("ssl_context")
    if settings.kafka_sasl_mechanism == "PLAIN":
        return SASLPlaintext(
            username=settings.kafka_sasl_username or "",
            password=settings.kafka_sasl_password or "",
            ssl_context=ssl_context,
        )
    if ssl_context is not None:
        return BaseSecurity(ssl_context=ssl_context)
    return None


def create_runtime(settings: ServiceSettings, tables: MessagingTables) -> Runtime:
    clock.use_offset_file(settings.clock_file)  # None (all but development): wall time
    engine = create_engine(settings.resolved_database_url())
    producer = Producer(settings)
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        security=_broker_security(settings),
        client_id=f"inspraak-{settings.service_name}",
        logger=logging.getLogger(f"inspraak.{settings.service_name}.broker"),
        log_level=logging.DEBUG,  # "Received"/"Processed" per batch is noise at INFO
    )
    relay = OutboxRelay(
        engine=engine,
        tables=tables,
        send=producer_send(producer),
        service=settings.service_name,
        batch_size=settings.relay_batch_size,
        idle_seconds=settings.relay_idle_seconds,
    )
    return Runtime(settings, engine, session_factory(engine), tables, broker, producer, relay)


async def ensure_outbox_slots(runtime: Runtime) -> None:
    slot = runtime.tables.outbox_slot
    async with runtime.engine.begin() as connection:
        present = set((await connection.scalars(select(slot.c.slot))).all())
        missing = [{"slot": n} for n in range(OUTBOX_SLOTS) if n not in present]
        if missing:
            await connection.execute(insert(slot), missing)


READ_ONLY_METHODS = frozenset({"GET", "HEAD"})  # no route answering these writes


def create_service_app(
    runtime: Runtime, *, title: str, description: str, routers: Sequence[APIRouter]
) -> FastAPI:
    settings = runtime.settings
    provider = configure_tracing(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_outbox_slots(runtime)
        await runtime.producer.start()
        await runtime.broker.start()
        tasks = [asyncio.create_task(runtime.relay.run(), name="outbox-relay")]
        tasks += [
            asyncio.create_task(job(), name=getattr(job, "__name__", "job"))
            for job in runtime.background
        ]
        log.info("%s started", settings.service_name)
        try:
            yield
        finally:
            # Stop taking new events first, then let the relay drain what is committed.
            await runtime.broker.stop()
            await runtime.relay.stop()
            for task in tasks[1:]:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await runtime.producer.stop()
            await runtime.engine.dispose()
            if provider is not None:
                provider.shutdown()
            log.info("%s stopped", settings.service_name)

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.unit_of_work = runtime.unit_of_work
    app.state.token_verifier = TokenVerifier(settings)
    install_problem_handlers(app)

    async def database_ready() -> None:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def kafka_ready() -> None:
        if not await runtime.broker.ping(timeout=3.0):
            raise ConnectionError(f"Kafka at {settings.kafka_bootstrap_servers} does not answer")

    install_operational_routes(app, {"database": database_ready, "kafka": kafka_ready})
    for router in routers:
        app.include_router(router)

    @app.middleware("http")
    async def trace_and_count(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        with (
            tracer().start_as_current_span(
                f"{request.method} {request.url.path}",
                context=context_from_headers(dict(request.headers)),
                kind=SpanKind.SERVER,
            ),
            reading_only(request.method in READ_ONLY_METHODS),
        ):
            response: Response = await call_next(request)
        HTTP_REQUESTS.labels(settings.service_name, request.method, str(response.status_code)).inc()
        log.debug(
            "%s %s %s %.1fms",
            request.method,
            request.url.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    return app
