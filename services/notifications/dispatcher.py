"""The dispatcher: sends composed messages, like the outbox relay publishes outbox rows.

Each sweep claims due messages and commits them as 'sending' before any SMTP call, so a crash
mid-send stays visible. A message left 'sending' longer than the lease is sent again with the
same ``Message-ID`` (derived from its idempotency key), which is what lets a receiver drop the
duplicate: an e-mail cannot be exactly once, only at least once with a dedupe key. Marking a
message sent and publishing ``MessageDelivered`` happen in one transaction (via the outbox).
On PostgreSQL replicas claim with ``FOR UPDATE SKIP LOCKED`` and never send the same message
at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from opentelemetry.trace import SpanKind
from prometheus_client import Counter

from services.notifications import handlers
from services.notifications.domain import events
from services.notifications.domain.model import (
    Channel,
    Contact,
    Message,
    RetryPolicy,
    message_id,
)
from services.notifications.integration import to_contract
from services.notifications.mailer import DeliveryError, Mailer
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from services.notifications.rendering import Renderer
from services.notifications.settings import NotificationsSettings
from services.notifications.sms import NoSmsGateway, SmsGateway
from shared.contracts.envelope import Envelope
from shared.telemetry import context_from, tracer

log = logging.getLogger(__name__)

MESSAGES_DISPATCHED = Counter(
    "inspraak_messages_dispatched_total",
    "Delivery attempts of composed messages by outcome (sent, retry, failed, undeliverable)",
    ["channel", "outcome"],
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def build_email(
    message: Message, contact: Contact, *, sender: str, domain: str, unsubscribe_url: str
) -> EmailMessage:
    """The e-mail for a message; every attempt builds the same headers and body."""
    email = EmailMessage()
    # Body first: set_content() drops every Content-* header set before it.
    email.set_content(message.body)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    email["From"] = sender
    email["To"] = contact.email
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = message_id(message.idempotency_key, domain)
    email["Content-Language"] = message.language.value
    email["Auto-Submitted"] = "auto-generated"
    email["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    return email


class Dispatcher:
    """Sweeps due messages: claim, send, then record the outcome."""

    def __init__(
        self,
        *,
        unit_of_work: Callable[[], NotificationsUnitOfWork],
        mailer: Mailer,
        renderer: Renderer,
        settings: NotificationsSettings,
        signal: asyncio.Event | None = None,
        clock: Callable[[], datetime] = _utcnow,
        sms: SmsGateway | None = None,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._mailer = mailer
        self._sms = sms or NoSmsGateway()
        self._renderer = renderer
        self._clock = clock
        self._batch_size = settings.dispatch_batch_size
        self._concurrency = settings.dispatch_concurrency
        self._idle_seconds = settings.dispatch_idle_seconds
        self._lease = timedelta(seconds=settings.dispatch_lease_seconds)
        self._policy = RetryPolicy(
            max_attempts=settings.dispatch_max_attempts,
            initial_s=settings.dispatch_retry_initial_seconds,
            maximum_s=settings.dispatch_retry_max_seconds,
        )
        self._sender = settings.mail_from
        self.domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "inspraak.invalid"
        self.signal = signal or asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Dispatch until stopped or cancelled; a failed sweep is logged and retried later."""
        failures = 0
        while not self._stopping.is_set():
            try:
                await self.bundle_digests()
                claimed = await self.dispatch_batch()
                failures = 0
            except Exception:
                failures += 1
                log.exception("message dispatch sweep failed")
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

    async def bundle_digests(self) -> int:
        """Compose the digests that are due; they are sent by the next dispatch sweeps."""
        total = 0
        while True:
            async with self._unit_of_work() as uow:
                bundled = await handlers.bundle_digests(
                    uow, now=self._clock(), limit=self._batch_size
                )
                await uow.commit()
            total += bundled
            if bundled < self._batch_size:
                return total

    async def dispatch_batch(self) -> int:
        """Claim and deliver one batch of due messages; return how many were claimed."""
        now = self._clock()
        async with self._unit_of_work() as uow:
            claimed = await uow.messages.claim_due(
                now=now, stale_before=now - self._lease, limit=self._batch_size
            )
            contacts: dict[tuple[str, str], Contact] = {}
            for municipality in {m.municipality for m in claimed}:
                ids = [m.recipient_id for m in claimed if m.municipality == municipality]
                found = await uow.contacts.get_many(municipality, ids)
                contacts.update({(municipality, pid): c for pid, c in found.items()})
            await uow.commit()
        if not claimed:
            return 0
        gate = asyncio.Semaphore(self._concurrency)

        async def deliver(message: Message) -> None:
            async with gate:
                await self._deliver(
                    message, contacts.get((message.municipality, message.recipient_id))
                )

        results = await asyncio.gather(*(deliver(m) for m in claimed), return_exceptions=True)
        for message, result in zip(claimed, results, strict=True):
            if isinstance(result, BaseException):
                # The message stays 'sending' and is tried again once its lease runs out.
                log.error("delivering message %s failed unexpectedly", message.id, exc_info=result)
        return len(claimed)

    async def _deliver(self, message: Message, contact: Contact | None) -> None:
        channel = message.channel.value
        if contact is None:
            async with self._unit_of_work() as uow:
                await uow.messages.mark_undeliverable(
                    message.id, "contact details removed before sending"
                )
                await uow.commit()
            MESSAGES_DISPATCHED.labels(channel, "undeliverable").inc()
            return
        # The send and its `message-delivered` event join the trace of the event they tell of.
        with tracer().start_as_current_span(
            f"send {channel}",
            context=context_from(message.cause.traceparent),
            kind=SpanKind.CLIENT,
            attributes={"messaging.message.id": message.idempotency_key},
        ):
            try:
                await self._send(message, contact)
            except DeliveryError as error:
                await self._record_failure(message, error)
                return
            async with self._unit_of_work() as uow:
                if await uow.messages.mark_sent(message.id, self._clock()):
                    delivered = events.MessageDelivered(
                        municipality=message.municipality,
                        recipient_id=message.recipient_id,
                        channel=channel,
                        cause_event_id=message.cause.event_id,
                        cause_event_type=message.cause.event_type,
                        message_key=message.idempotency_key,
                        notice=message.kind.value,
                    )
                    uow.publish(
                        Envelope.wrap(
                            to_contract(delivered),
                            source=uow.settings.source_urn(message.municipality),
                            correlationid=message.cause.correlation_id,
                            causationid=message.cause.event_id,
                        )
                    )
                else:
                    log.info(
                        "message %s was sent but erased meanwhile; nothing recorded", message.id
                    )
                await uow.commit()
        MESSAGES_DISPATCHED.labels(channel, "sent").inc()

    async def _send(self, message: Message, contact: Contact) -> None:
        if message.channel is Channel.SMS:
            if not contact.phone:
                raise DeliveryError("no phone number for this person", permanent=True)
            await self._sms.send(to=contact.phone, text=message.body, key=message.idempotency_key)
        else:
            unsubscribe_url = self._renderer.unsubscribe_url(
                message.municipality, message.recipient_id
            )
            email = build_email(
                message,
                contact,
                sender=self._sender,
                domain=self.domain,
                unsubscribe_url=unsubscribe_url,
            )
            await self._mailer.send(email)

    async def _record_failure(self, message: Message, error: DeliveryError) -> None:
        retry_at = self._policy.next_attempt(
            message.attempts, permanent=error.permanent, now=self._clock()
        )
        async with self._unit_of_work() as uow:
            if retry_at is None:
                if await uow.messages.mark_failed(message.id, str(error)):
                    failed = events.MessageFailed(
                        municipality=message.municipality,
                        recipient_id=message.recipient_id,
                        channel=message.channel.value,
                        cause_event_id=message.cause.event_id,
                        cause_event_type=message.cause.event_type,
                        message_key=message.idempotency_key,
                        notice=message.kind.value,
                        attempts=message.attempts,
                        reason=str(error),
                    )
                    uow.publish(
                        Envelope.wrap(
                            to_contract(failed),
                            source=uow.settings.source_urn(message.municipality),
                            correlationid=message.cause.correlation_id,
                            causationid=message.cause.event_id,
                        )
                    )
            else:
                await uow.messages.mark_retry(message.id, str(error), retry_at)
            await uow.commit()
        outcome = "failed" if retry_at is None else "retry"
        MESSAGES_DISPATCHED.labels(message.channel.value, outcome).inc()
        log.warning("message %s attempt %d: %s (%s)", message.id, message.attempts, error, outcome)
