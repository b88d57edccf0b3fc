"""Webhook deliveries: CloudEvents over HTTP for systems without Kafka (ZGW Notificaties style).

Like the e-mail dispatcher: each sweep claims due deliveries and commits them 'sending' before
any HTTP call, so a crash mid-call is visible and the delivery goes out again after the lease,
with the same delivery id (``Inspraak-Delivery`` header, also the CloudEvents ``id`` is the
event's own) so the receiver can drop the repeat. Every call is logged as an attempt. A 2xx
answer delivers; anything else, a refused connection or a timeout is retried with exponential
backoff. A subscription whose calls keep failing is suspended and its owner told; its
deliveries wait until it is reactivated.

Signature: ``Inspraak-Signature: sha256=<hex>``, the HMAC-SHA256 with the subscription's secret
over ``<Inspraak-Timestamp>.<body>``. A receiver recomputes it over the raw body and rejects
a timestamp too far from its clock (replays).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1.event import CloudEvent
from prometheus_client import Counter

from services.notifications import handlers
from services.notifications.domain.model import (
    ContentMode,
    DeliveryAttempt,
    DeliveryStatus,
    RetryPolicy,
    WebhookDelivery,
    WebhookSubscription,
    signature,
)
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from services.notifications.settings import NotificationsSettings
from shared import clock

log = logging.getLogger(__name__)

WEBHOOK_CALLS = Counter(
    "inspraak_webhook_calls_total",
    "Webhook delivery attempts by outcome (delivered, retry, failed, suspended)",
    ["outcome"],
)
SIGNATURE_HEADER = "Inspraak-Signature"
TIMESTAMP_HEADER = "Inspraak-Timestamp"
DELIVERY_HEADER = "Inspraak-Delivery"


def _utcnow() -> datetime:
    return clock.now()


def http_request(
    delivery: WebhookDelivery, subscription: WebhookSubscription, timestamp: int
) -> tuple[dict[str, str], bytes]:
    """Headers and body of one call, in the subscription's CloudEvents content mode, signed."""
    attributes = {k: v for k, v in delivery.event.items() if k != "data"}
    attributes["time"] = datetime.fromisoformat(str(attributes["time"]).replace("Z", "+00:00"))
    event = CloudEvent(attributes=attributes, data=delivery.event.get("data"))
    if subscription.content_mode is ContentMode.BINARY:
        message = ce_http.to_binary_event(event)
    else:
        message = ce_http.to_structured_event(event)
    headers = dict(message.headers)
    headers[DELIVERY_HEADER] = delivery.id
    headers[TIMESTAMP_HEADER] = str(timestamp)
    headers[SIGNATURE_HEADER] = signature(subscription.secret, timestamp, message.body)
    if subscription.auth:
        headers["Authorization"] = subscription.auth
    return headers, message.body


class WebhookDispatcher:
    """Sweeps due webhook deliveries: claim, call, log, then record the outcome."""

    def __init__(
        self,
        *,
        unit_of_work: Callable[[], NotificationsUnitOfWork],
        settings: NotificationsSettings,
        signal: asyncio.Event | None = None,
        clock: Callable[[], datetime] = _utcnow,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._batch_size = settings.webhook_batch_size
        self._concurrency = settings.webhook_concurrency
        self._idle_seconds = settings.dispatch_idle_seconds
        self._timeout = settings.webhook_timeout_seconds
        self._lease = timedelta(seconds=settings.webhook_timeout_seconds * 2 + 30)
        self._suspend_after = settings.webhook_suspend_after_failures
        self._policy = RetryPolicy(
            max_attempts=settings.webhook_max_attempts,
            initial_s=settings.webhook_retry_initial_seconds,
            maximum_s=settings.webhook_retry_max_seconds,
        )
        self._transport = transport
        self.signal = signal or asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Deliver until stopped or cancelled; a failed sweep is logged and retried later."""
        failures = 0
        async with self._client() as client:
            while not self._stopping.is_set():
                try:
                    claimed = await self.deliver_batch(client)
                    failures = 0
                except Exception:
                    failures += 1
                    log.exception("webhook sweep failed")
                    await self._pause(min(30.0, 0.5 * 2**failures))
                    continue
                if claimed < self._batch_size:
                    await self._pause(self._idle_seconds)

    async def stop(self) -> None:
        self._stopping.set()
        self.signal.set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.signal.wait(), seconds)
        self.signal.clear()

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self._timeout, transport=self._transport, follow_redirects=False
        )

    async def deliver_batch(self, client: httpx.AsyncClient | None = None) -> int:
        """Claim and deliver one batch; return how many deliveries were claimed."""
        if client is None:
            async with self._client() as own:
                return await self.deliver_batch(own)
        now = self._clock()
        async with self._unit_of_work() as uow:
            claimed = await uow.webhooks.claim_due(
                now=now, stale_before=now - self._lease, limit=self._batch_size
            )
            await uow.commit()
        if not claimed:
            return 0
        gate = asyncio.Semaphore(self._concurrency)
        # One subscription's calls run one after another: its failures count in order and a
        # suspension stops the rest of its batch.
        by_subscription: dict[str, list[tuple[WebhookDelivery, WebhookSubscription]]] = {}
        for delivery, subscription in claimed:
            by_subscription.setdefault(subscription.id, []).append((delivery, subscription))

        async def deliver_all(items: list[tuple[WebhookDelivery, WebhookSubscription]]) -> None:
            async with gate:
                for index, (delivery, subscription) in enumerate(items):
                    if await self._deliver(client, delivery, subscription):
                        await self._release([d.id for d, _ in items[index + 1 :]])
                        break

        results = await asyncio.gather(
            *(deliver_all(items) for items in by_subscription.values()), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                log.error("webhook delivery failed unexpectedly", exc_info=result)
        return len(claimed)

    async def _release(self, delivery_ids: list[str]) -> None:
        async with self._unit_of_work() as uow:
            await uow.webhooks.release(delivery_ids, self._clock())
            await uow.commit()

    async def _deliver(
        self,
        client: httpx.AsyncClient,
        delivery: WebhookDelivery,
        subscription: WebhookSubscription,
    ) -> bool:
        """One call and its bookkeeping; True if the subscription got suspended."""
        timestamp = int(time.time())  # wall time: receivers compare it with their clock
        headers, body = http_request(delivery, subscription, timestamp)
        status_code: int | None = None
        error: str | None = None
        started = time.perf_counter()
        try:
            response = await client.post(subscription.callback_url, content=body, headers=headers)
            status_code = response.status_code
            if not response.is_success:
                error = f"HTTP {status_code}"
        except httpx.TimeoutException:
            error = f"no answer within {self._timeout:g}s"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"
        duration_ms = int((time.perf_counter() - started) * 1000)
        now = self._clock()
        async with self._unit_of_work() as uow:
            await uow.webhooks.log_attempt(
                DeliveryAttempt(
                    delivery_id=delivery.id,
                    attempt=delivery.attempts,
                    at=now,
                    status_code=status_code,
                    error=error,
                    duration_ms=duration_ms,
                )
            )
            failures = await uow.webhooks.count_outcome(subscription.id, success=error is None)
            suspended = False
            if error is None:
                await uow.webhooks.finish(
                    delivery.id,
                    status=DeliveryStatus.DELIVERED,
                    now=now,
                    status_code=status_code,
                    error=None,
                )
                outcome = "delivered"
            else:
                retry_at = self._policy.next_attempt(delivery.attempts, permanent=False, now=now)
                await uow.webhooks.finish(
                    delivery.id,
                    status=DeliveryStatus.PENDING if retry_at else DeliveryStatus.FAILED,
                    now=now,
                    status_code=status_code,
                    error=error,
                    next_attempt_at=retry_at,
                )
                outcome = "retry" if retry_at else "failed"
                if failures >= self._suspend_after and await uow.webhooks.suspend(
                    subscription.id, now
                ):
                    suspended = True
                    await handlers.tell_suspension(
                        subscription.model_copy(
                            update={"consecutive_failures": failures, "suspended_at": now}
                        ),
                        reason=error,
                        uow=uow,
                    )
            await uow.commit()
        WEBHOOK_CALLS.labels("suspended" if suspended else outcome).inc()
        if error is not None:
            log.warning(
                "webhook delivery %s to subscription %s attempt %d: %s (%s)",
                delivery.id,
                subscription.id,
                delivery.attempts,
                error,
                "suspended" if suspended else outcome,
            )
        return suspended


def delivery_log(
    deliveries: list[WebhookDelivery], attempts: list[DeliveryAttempt]
) -> list[dict[str, Any]]:
    """Deliveries with their attempts, for the API's delivery log."""
    by_delivery: dict[str, list[DeliveryAttempt]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt.delivery_id, []).append(attempt)
    return [
        {
            **delivery.model_dump(exclude={"event"}),
            "attempt_log": [a.model_dump() for a in by_delivery.get(delivery.id, [])],
        }
        for delivery in deliveries
    ]
