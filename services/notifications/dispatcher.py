"""The dispatcher: sends composed messages, like the outbox relay publishes outbox rows.

Each sweep claims due messages and commits them as 'sending' before any SMTP call, so a crash
mid-send stays visible. A message left 'sending' longer than the lease is sent again with the
same ``Message-ID`` (derived from its idempotency key), which is what lets a receiver drop the
duplicate: an e-mail cannot be exactly once, only at least once with a dedupe key. Marking a
message sent and publishing ``MessageDelivered`` happen in one transaction (via the outbox).
On PostgreSQL replicas claim with ``FOR UPDATE SKIP LOCKED`` and never send the same message
at the same time.

Sends run concurrently, as wide as the mailer's SMTP pool. Their outcomes are recorded in
shared transactions (a group commit: what finishes while one commit runs goes into the next),
because one transaction per message, not SMTP, is then what limits a large fan-out; the sends
in one such transaction are marked sent in one statement. A send keeps its slot until its
outcome is committed, so a crash repeats at most as many e-mails as there are slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from opentelemetry.trace import SpanKind
from prometheus_client import Counter

from services.notifications import handlers
from services.notifications.domain import events
from services.notifications.domain.model import (
    Channel,
    Contact,
    Message,
    RetryPolicy,
)
from services.notifications.emails import build_email
from services.notifications.integration import to_contract
from services.notifications.mailer import DeliveryError, Mailer
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from services.notifications.rendering import Renderer
from services.notifications.settings import NotificationsSettings
from services.notifications.sms import NoSmsGateway, SmsGateway
from shared import clock
from shared.contracts.envelope import Envelope
from shared.telemetry import context_from, tracer

log = logging.getLogger(__name__)

MESSAGES_DISPATCHED = Counter(
    "inspraak_messages_dispatched_total",
    "Delivery attempts of composed messages by outcome (sent, retry, failed, undeliverable)",
    ["channel", "outcome"],
)


def _utcnow() -> datetime:
    return clock.now()


Record = Callable[[NotificationsUnitOfWork], Awaitable[None]]


class GroupCommit:
    """Writes the outcomes of concurrent sends in as few transactions as they allow.

    ``record(write)`` returns once ``write`` is committed. While one transaction commits, the
    writes that arrive wait and then share the next one. If a shared transaction fails, each of
    its writes is tried in a transaction of its own, so one bad row holds back no other.
    """

    def __init__(self, unit_of_work: Callable[[], NotificationsUnitOfWork]) -> None:
        self._unit_of_work = unit_of_work
        self._waiting: list[tuple[Record, asyncio.Future[None]]] = []
        self._turn = asyncio.Lock()
        self.transactions = 0

    async def record(self, write: Record) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((write, done))
        async with self._turn:
            if not done.done():
                group, self._waiting = self._waiting, []
                await self._commit(group)
        await done

    async def _commit(self, group: list[tuple[Record, asyncio.Future[None]]]) -> None:
        try:
            try:
                await self._run([write for write, _ in group])
            except Exception as error:
                if len(group) == 1:
                    group[0][1].set_exception(error)
                    return
                log.warning(
                    "recording %d outcomes together failed (%s); one by one", len(group), error
                )
                for write, done in group:
                    try:
                        await self._run([write])
                    except Exception as alone:
                        done.set_exception(alone)
                    else:
                        done.set_result(None)
                return
            for _, done in group:
                done.set_result(None)
        finally:
            for _, done in group:  # cancelled mid-commit: nobody may wait for ever
                if not done.done():
                    done.cancel()

    async def _run(self, writes: list[Record]) -> None:
        async with self._unit_of_work() as uow:
            sends = [write for write in writes if isinstance(write, Sent)]
            if sends:
                await record_sent(uow, sends)
            for write in writes:
                if not isinstance(write, Sent):
                    await write(uow)
            await uow.commit()
        self.transactions += 1


@dataclass(frozen=True)
class Sent:
    """A send to record: the message marked sent and told as ``message-delivered``.

    The sends a group commit holds are marked in one statement, not one each.
    """

    message: Message
    sent_at: datetime

    async def __call__(self, uow: NotificationsUnitOfWork) -> None:
        await record_sent(uow, [self])


async def record_sent(uow: NotificationsUnitOfWork, sends: list[Sent]) -> None:
    # One moment for the group: the latest of its sends, never before any of them.
    sent_at = max(send.sent_at for send in sends)
    still_sending = await uow.messages.mark_many_sent([s.message.id for s in sends], sent_at)
    for send in sends:
        message = send.message
        if message.id not in still_sending:
            log.info("message %s was sent but erased meanwhile; nothing recorded", message.id)
            continue
        delivered = events.MessageDelivered(
            municipality=message.municipality,
            recipient_id=message.recipient_id,
            channel=message.channel.value,
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
        # As wide as the SMTP pool, so no pooled session waits idle while messages are due.
        self._concurrency = max(settings.dispatch_concurrency, settings.smtp_connections)
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
        self.records = GroupCommit(unit_of_work)

    async def run(self) -> None:
        """Dispatch until stopped or cancelled; a failed sweep is logged and retried later."""
        try:
            await self._sweep_until_stopped()
        finally:
            # Pooled SMTP sessions are closed politely (QUIT) rather than left to time out.
            close = getattr(self._mailer, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()

    async def _sweep_until_stopped(self) -> None:
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
            # The slot is held until the outcome is committed: what a crash can repeat is
            # bounded by the number of slots, not by the batch.
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

            async def undeliverable(uow: NotificationsUnitOfWork) -> None:
                await uow.messages.mark_undeliverable(
                    message.id, "contact details removed before sending"
                )

            await self.records.record(undeliverable)
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
            await self.records.record(Sent(message, self._clock()))
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

        async def failure(uow: NotificationsUnitOfWork) -> None:
            if retry_at is not None:
                await uow.messages.mark_retry(message.id, str(error), retry_at)
                return
            if not await uow.messages.mark_failed(message.id, str(error)):
                return
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

        await self.records.record(failure)
        outcome = "failed" if retry_at is None else f"retry at {retry_at:%Y-%m-%dT%H:%M:%SZ}"
        MESSAGES_DISPATCHED.labels(message.channel.value, outcome.split()[0]).inc()
        log.warning(
            "%s message %s (%s) attempt %d of %d: %s; %s",
            message.channel.value,
            message.id,
            message.kind.value,
            message.attempts,
            self._policy.max_attempts,
            error,
            outcome,
        )
