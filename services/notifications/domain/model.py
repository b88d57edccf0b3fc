"""Contacts, the views built from other services' events, messages and their delivery rules."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

PERSON_ID = r"^[A-Za-z0-9_.:-]+$"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class Language(StrEnum):
    DUTCH = "nl"
    ENGLISH = "en"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    FEED = "feed"


PUSH_CHANNELS = (Channel.EMAIL, Channel.SMS)


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNDELIVERABLE = "undeliverable"
    HELD = "held"  # waiting for its digest
    BUNDLED = "bundled"  # told in a digest message


class NoticeKind(StrEnum):
    """What a message tells; each kind has a template per language."""

    ADVICE_REQUESTED = "advice_requested"
    ADVICE_OVERDUE = "advice_overdue"
    ADVICE_ESCALATED = "advice_escalated"
    BUDGET_ALLOCATED = "budget_allocated"
    ALLOCATION_REJECTED = "allocation_rejected"
    INITIATIVE_REJECTED = "initiative_rejected"
    SUPPORTED_INITIATIVE_DECIDED = "supported_initiative_decided"
    READY_FOR_DECISION = "ready_for_decision"
    WEBHOOK_SUSPENDED = "webhook_suspended"
    DIGEST = "digest"
    # The initiator, at every state change of their initiative.
    INITIATIVE_SUBMITTED = "initiative_submitted"
    SUPPORT_PROGRESS = "support_progress"
    INITIATIVE_IN_REVIEW = "initiative_in_review"
    AWAITING_DECISION = "awaiting_decision"
    DECISION_OVERDUE = "decision_overdue"
    RESULTS_REPORTED = "results_reported"
    INITIATIVE_ACCOUNTED = "initiative_accounted"
    INITIATIVE_CLOSED = "initiative_closed"
    INITIATIVE_WITHDRAWN = "initiative_withdrawn"
    INITIATIVE_EXPIRED = "initiative_expired"
    MILESTONE_OVERDUE = "milestone_overdue"
    # Supporters, when the initiative they support delivered.
    SUPPORTED_INITIATIVE_RESULTS = "supported_initiative_results"
    SUPPORTED_INITIATIVE_ACCOUNTED = "supported_initiative_accounted"
    # Advisory council members and officers.
    ADVICE_DEADLINE_APPROACHING = "advice_deadline_approaching"
    ADVICE_OVERDUE_ESCALATED = "advice_overdue_escalated"
    # A resident who reported something in their neighbourhood.
    REPORT_HANDLED = "report_handled"
    # Residents who follow a neighbourhood or a budget.
    ROUND_PHASE_CHANGED = "round_phase_changed"
    ROUND_RESULTS_PUBLISHED = "round_results_published"
    SPENDING_REPORTED = "spending_reported"
    FOLLOWED_BUDGET_ALLOCATED = "followed_budget_allocated"
    FUNDS_RELEASED = "funds_released"
    FUNDS_DISBURSED = "funds_disbursed"
    # The drafter and co-signers of an alternative budget, at each step before the municipal
    # council (gemeenteraad).
    ALTERNATIVE_BUDGET_SUBMITTED = "alternative_budget_submitted"
    ALTERNATIVE_BUDGET_ADOPTED = "alternative_budget_adopted"
    ALTERNATIVE_BUDGET_NOT_ADOPTED = "alternative_budget_not_adopted"
    # Its co-signers, when the drafter withdrew it.
    ALTERNATIVE_BUDGET_WITHDRAWN = "alternative_budget_withdrawn"
    # Members of the councils that advised on a policy document, when the municipality
    # answered what was said.
    CONSULTATION_ANSWERED = "consultation_answered"
    # Residents who gave input on a policy consultation, when the municipality answered it.
    CONSULTATION_INPUT_ANSWERED = "consultation_input_answered"


class Category(StrEnum):
    """What a person can set a frequency for: messages are grouped the way people think."""

    ADVICE = "advice"
    OWN_INITIATIVE = "own_initiative"
    SUPPORTED_INITIATIVES = "supported_initiatives"
    DECISIONS = "decisions"
    SERVICE = "service"
    FOLLOWED = "followed"  # neighbourhoods and budgets the person follows
    OWN_REPORTS = "own_reports"
    ALTERNATIVE_BUDGETS = "alternative_budgets"  # ones the person drafted or co-signed
    OWN_INPUT = "own_input"  # what was done with the person's input on a policy consultation


CATEGORY_OF: dict[NoticeKind, Category] = {
    NoticeKind.ADVICE_REQUESTED: Category.ADVICE,
    NoticeKind.ADVICE_OVERDUE: Category.ADVICE,
    NoticeKind.ADVICE_ESCALATED: Category.ADVICE,
    NoticeKind.BUDGET_ALLOCATED: Category.OWN_INITIATIVE,
    NoticeKind.ALLOCATION_REJECTED: Category.OWN_INITIATIVE,
    NoticeKind.INITIATIVE_REJECTED: Category.OWN_INITIATIVE,
    NoticeKind.SUPPORTED_INITIATIVE_DECIDED: Category.SUPPORTED_INITIATIVES,
    NoticeKind.READY_FOR_DECISION: Category.DECISIONS,
    NoticeKind.WEBHOOK_SUSPENDED: Category.SERVICE,
    NoticeKind.DIGEST: Category.SERVICE,
    NoticeKind.INITIATIVE_SUBMITTED: Category.OWN_INITIATIVE,
    NoticeKind.SUPPORT_PROGRESS: Category.OWN_INITIATIVE,
    NoticeKind.INITIATIVE_IN_REVIEW: Category.OWN_INITIATIVE,
    NoticeKind.AWAITING_DECISION: Category.OWN_INITIATIVE,
    NoticeKind.DECISION_OVERDUE: Category.OWN_INITIATIVE,
    NoticeKind.RESULTS_REPORTED: Category.OWN_INITIATIVE,
    NoticeKind.INITIATIVE_ACCOUNTED: Category.OWN_INITIATIVE,
    NoticeKind.INITIATIVE_CLOSED: Category.OWN_INITIATIVE,
    NoticeKind.INITIATIVE_WITHDRAWN: Category.OWN_INITIATIVE,
    NoticeKind.INITIATIVE_EXPIRED: Category.OWN_INITIATIVE,
    NoticeKind.MILESTONE_OVERDUE: Category.OWN_INITIATIVE,
    NoticeKind.SUPPORTED_INITIATIVE_RESULTS: Category.SUPPORTED_INITIATIVES,
    NoticeKind.SUPPORTED_INITIATIVE_ACCOUNTED: Category.SUPPORTED_INITIATIVES,
    NoticeKind.ADVICE_DEADLINE_APPROACHING: Category.ADVICE,
    NoticeKind.ADVICE_OVERDUE_ESCALATED: Category.ADVICE,
    NoticeKind.REPORT_HANDLED: Category.OWN_REPORTS,
    NoticeKind.ROUND_PHASE_CHANGED: Category.FOLLOWED,
    NoticeKind.ROUND_RESULTS_PUBLISHED: Category.FOLLOWED,
    NoticeKind.SPENDING_REPORTED: Category.FOLLOWED,
    NoticeKind.FOLLOWED_BUDGET_ALLOCATED: Category.FOLLOWED,
    NoticeKind.FUNDS_RELEASED: Category.FOLLOWED,
    NoticeKind.FUNDS_DISBURSED: Category.FOLLOWED,
    NoticeKind.ALTERNATIVE_BUDGET_SUBMITTED: Category.ALTERNATIVE_BUDGETS,
    NoticeKind.ALTERNATIVE_BUDGET_ADOPTED: Category.ALTERNATIVE_BUDGETS,
    NoticeKind.ALTERNATIVE_BUDGET_NOT_ADOPTED: Category.ALTERNATIVE_BUDGETS,
    NoticeKind.ALTERNATIVE_BUDGET_WITHDRAWN: Category.ALTERNATIVE_BUDGETS,
    # What became of the council's advice: the same category as being asked for it.
    NoticeKind.CONSULTATION_ANSWERED: Category.ADVICE,
    NoticeKind.CONSULTATION_INPUT_ANSWERED: Category.OWN_INPUT,
}


class Frequency(StrEnum):
    IMMEDIATELY = "immediately"
    DAILY = "daily"
    WEEKLY = "weekly"
    NEVER = "never"


class Audience(StrEnum):
    """Who a rule tells; how each audience is found is code, which audience hears what is data."""

    INITIATOR = "initiator"
    SUPPORTERS = "supporters"
    COUNCIL_MEMBERS = "council_members"
    COUNCIL_OFFICERS = "council_officers"  # chair and secretary
    BUDGET_HOLDERS = "budget_holders"
    REPORTER = "reporter"  # who reported an observation in their neighbourhood
    FOLLOWERS = "followers"  # residents following the event's neighbourhood or budget
    DRAFTER = "drafter"  # who drafted an alternative budget
    CO_SIGNERS = "co_signers"  # who co-signed it
    CONTRIBUTORS = "contributors"  # residents who gave input on a policy consultation


class FollowTarget(StrEnum):
    """What a resident can follow: a neighbourhood (CBS code) or a budget (its id)."""

    NEIGHBOURHOOD = "neighbourhood"
    BUDGET = "budget"


class Follow(BaseModel):
    """A pseudonymous resident follows a neighbourhood or a budget; erased with the person."""

    municipality: str = Field(description="CBS code of the municipality.")
    person_id: str = Field(description="Pseudonymous id of the follower.")
    target: FollowTarget = Field(description="What is followed: neighbourhood or budget.")
    target_id: str = Field(description="CBS neighbourhood code or budget id.")
    since: datetime = Field(description="When the person started following it.")


class QuietHours(BaseModel):
    """Local (Europe/Amsterdam) hours without push messages; may span midnight."""

    model_config = ConfigDict(frozen=True)

    start: time = Field(description="Start of the quiet hours, local time, e.g. 22:00.")
    end: time = Field(description="End of the quiet hours, local time, e.g. 07:30.")

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(AMSTERDAM).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def release(self, moment: datetime) -> datetime:
        """``moment`` if outside the quiet hours, else when they end (as a UTC-aware moment)."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(AMSTERDAM)
        end = datetime.combine(local.date(), self.end, tzinfo=AMSTERDAM)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=AMSTERDAM)
        return end.astimezone(moment.tzinfo)


class Preferences(BaseModel):
    """How and when one person wants to hear, per category; absent means immediately."""

    municipality: str
    person_id: str
    frequencies: dict[Category, Frequency] = Field(default_factory=dict)
    sms: bool = False
    quiet_hours: QuietHours | None = None

    def frequency(self, kind: NoticeKind) -> Frequency:
        return self.frequencies.get(CATEGORY_OF[kind], Frequency.IMMEDIATELY)


@dataclass(frozen=True)
class DigestSchedule:
    """When digests go out: daily at ``hour`` local time, weekly on ``weekday`` at that hour."""

    hour: int = 8
    weekday: int = 0  # Monday

    def next_run(self, frequency: Frequency, now: datetime) -> datetime:
        local = now.astimezone(AMSTERDAM)
        run = datetime.combine(local.date(), time(self.hour), tzinfo=AMSTERDAM)
        if frequency is Frequency.WEEKLY:
            run += timedelta(days=(self.weekday - local.weekday()) % 7)
        if run <= local:
            run += timedelta(days=7 if frequency is Frequency.WEEKLY else 1)
        return run.astimezone(now.tzinfo)


def push_schedule(
    preferences: Preferences | None,
    kind: NoticeKind,
    channel: Channel,
    now: datetime,
    schedule: DigestSchedule,
) -> tuple[MessageStatus, datetime] | None:
    """When a push message goes out: (pending, at) or (held for a digest, until); None: not at all.

    SMS is for what cannot wait: a person who wants a category as a digest gets it by e-mail.
    """
    if preferences is None:
        return (MessageStatus.PENDING, now) if channel is Channel.EMAIL else None
    if channel is Channel.SMS and not preferences.sms:
        return None
    frequency = preferences.frequency(kind)
    if frequency is Frequency.NEVER:
        return None
    if frequency is not Frequency.IMMEDIATELY:
        if channel is Channel.SMS:
            return None
        return MessageStatus.HELD, schedule.next_run(frequency, now)
    at = preferences.quiet_hours.release(now) if preferences.quiet_hours else now
    return MessageStatus.PENDING, at


class Contact(BaseModel):
    """How to reach one pseudonymous person; the only place their contact details live."""

    municipality: str
    person_id: str
    email: str
    phone: str | None = None
    language: Language = Language.DUTCH
    updated_at: datetime


class CouncilMember(BaseModel):
    """A current member of an advisory council, as advisory's events tell it."""

    municipality: str
    council_id: str
    member_id: str
    role: str
    council_kind: str


class InitiativeView(BaseModel):
    """What notifications knows of an initiative, from initiatives' events only."""

    municipality: str
    initiative_id: str
    initiator_id: str
    title: str
    decision: str | None = None
    reasons: str | None = None
    conditions: list[str] = Field(default_factory=list)
    decided_at: datetime | None = None
    neighbourhood: str | None = None

    @property
    def decided(self) -> bool:
        return self.decision is not None


class ConsultationView(BaseModel):
    """What notifications knows of a policy consultation, from advisory's events only.

    consultation-answered names no council (only the residents who gave input): the councils
    to tell then are kept from consultation-opened.
    """

    municipality: str
    consultation_id: str
    title: str
    link: str
    council_ids: list[str] = Field(default_factory=list)


class Supporter(BaseModel):
    """A resident who currently supports an initiative, from initiatives' events."""

    municipality: str
    initiative_id: str
    supporter_id: str


class BudgetHolder(BaseModel):
    """Who decides on initiatives in which neighbourhoods; none listed means all of them."""

    municipality: str
    person_id: str
    neighbourhoods: list[str] = Field(default_factory=list)

    def covers(self, neighbourhood: str | None) -> bool:
        return not self.neighbourhoods or neighbourhood in self.neighbourhoods


class Cause(BaseModel):
    """The event a message tells about: its CloudEvents identity and correlation."""

    model_config = ConfigDict(frozen=True)

    source: str
    event_id: str
    event_type: str
    correlation_id: str
    # W3C trace context the event arrived in, so sending the message joins the event's trace.
    traceparent: str | None = None


class Notice(BaseModel):
    """One person to be told one thing: the output of the recipient rules."""

    model_config = ConfigDict(frozen=True)

    kind: NoticeKind
    recipient_id: str
    facts: dict[str, Any] = Field(default_factory=dict)


def idempotency_key(cause: Cause, recipient_id: str, channel: Channel) -> str:
    """Deterministic key of (event, recipient, channel): equal inputs, equal key, always.

    CloudEvents ids are unique per source only, so the source is part of the key.
    """
    material = "\x1f".join((cause.source, cause.event_id, recipient_id, channel.value))
    return hashlib.sha256(material.encode()).hexdigest()


def message_id(key: str, domain: str) -> str:
    """The RFC 5322 ``Message-ID`` of a message: a resend carries the same one."""
    return f"<{key}@{domain}>"


class Message(BaseModel):
    """One message to one recipient on one channel, from composing until delivery."""

    id: str
    idempotency_key: str
    municipality: str
    recipient_id: str
    channel: Channel
    kind: NoticeKind
    language: Language
    subject: str
    body: str
    html: str | None = None
    cause: Cause
    status: MessageStatus
    attempts: int = 0
    next_attempt_at: datetime | None = None
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime
    read_at: datetime | None = None
    bundled_into: str | None = None

    @classmethod
    def compose(
        cls,
        *,
        message_uuid: str,
        municipality: str,
        notice: Notice,
        cause: Cause,
        channel: Channel,
        contact: Contact | None,
        subject: str,
        body: str,
        now: datetime,
        html: str | None = None,
        status: MessageStatus = MessageStatus.PENDING,
        send_at: datetime | None = None,
    ) -> Message:
        """A message ready to send, or kept as undeliverable when there is no way to reach them.

        Keeping the undeliverable row (instead of dropping it) makes the gap visible: an
        operator can see who could not be told what, and why. A feed entry is delivered the
        moment it is stored; a held one waits for its digest until ``send_at``.
        """
        if channel is Channel.FEED:
            return cls(
                id=message_uuid,
                idempotency_key=idempotency_key(cause, notice.recipient_id, channel),
                municipality=municipality,
                recipient_id=notice.recipient_id,
                channel=channel,
                kind=notice.kind,
                language=contact.language if contact else Language.DUTCH,
                subject=subject,
                body=body,
                cause=cause,
                status=MessageStatus.SENT,
                sent_at=now,
                created_at=now,
            )
        deliverable = contact is not None and (channel is not Channel.SMS or bool(contact.phone))
        return cls(
            id=message_uuid,
            idempotency_key=idempotency_key(cause, notice.recipient_id, channel),
            municipality=municipality,
            recipient_id=notice.recipient_id,
            channel=channel,
            kind=notice.kind,
            language=contact.language if contact else Language.DUTCH,
            subject=subject,
            body=body,
            html=html,
            cause=cause,
            status=status if deliverable else MessageStatus.UNDELIVERABLE,
            next_attempt_at=(send_at or now) if deliverable else None,
            last_error=None if deliverable else "no contact details for this person",
            created_at=now,
        )


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff between delivery attempts; give up after ``max_attempts``."""

    max_attempts: int = 6
    initial_s: float = 30.0
    maximum_s: float = 3600.0

    def next_attempt(self, attempts: int, *, permanent: bool, now: datetime) -> datetime | None:
        """When to try again after ``attempts`` failed attempts; ``None`` means give up."""
        if permanent or attempts >= self.max_attempts:
            return None
        delay = min(self.maximum_s, self.initial_s * 2 ** max(0, attempts - 1))
        return now + timedelta(seconds=delay)


def digest_key(municipality: str, recipient_id: str, channel: Channel, due_at: datetime) -> str:
    """Deterministic key of one digest: a sweep repeated after a crash composes the same one."""
    material = "\x1f".join(
        ("digest", municipality, recipient_id, channel.value, due_at.isoformat())
    )
    return hashlib.sha256(material.encode()).hexdigest()


class ContentMode(StrEnum):
    """CloudEvents HTTP binding: the whole event as JSON, or attributes as ``ce-`` headers."""

    STRUCTURED = "structured"
    BINARY = "binary"


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookSubscription(BaseModel):
    """A system's subscription to events over HTTP (cf. the ZGW Notificaties API's abonnement).

    Empty filters match everything; ``neighbourhoods`` only matches events whose neighbourhood
    is known. ``auth`` goes out as the ``Authorization`` header (the ZGW style credential);
    ``secret`` is the HMAC key of the signature and is never shown again after creation.
    """

    id: str
    municipality: str
    owner_id: str
    callback_url: str
    auth: str | None = None
    secret: str
    content_mode: ContentMode = ContentMode.STRUCTURED
    event_types: list[str] = Field(default_factory=list)
    neighbourhoods: list[str] = Field(default_factory=list)
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    consecutive_failures: int = 0
    suspended_at: datetime | None = None
    created_at: datetime

    def matches(self, event_type: str, municipality: str, neighbourhood: str | None) -> bool:
        if municipality != self.municipality:
            return False
        if self.event_types and event_type not in self.event_types:
            return False
        return not self.neighbourhoods or neighbourhood in self.neighbourhoods


def delivery_id(source: str, event_id: str, subscription_id: str) -> str:
    """Deterministic id of delivering one event to one subscription: a receiver dedupes on it."""
    material = "\x1f".join((source, event_id, subscription_id))
    return hashlib.sha256(material.encode()).hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over ``<timestamp>.<body>``, hex: what a receiver recomputes and compares."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class WebhookDelivery(BaseModel):
    """One event on its way to one subscription; the CloudEvent is fixed when it is queued."""

    id: str
    subscription_id: str
    municipality: str
    event_source: str
    event_id: str
    event_type: str
    event: dict[str, Any]
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    claimed_at: datetime | None = None
    delivered_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime


class DeliveryAttempt(BaseModel):
    """One HTTP call of a delivery, kept as its log."""

    delivery_id: str
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class FanoutJob(BaseModel):
    """Telling a large audience, resumed batch by batch from ``cursor`` (the last recipient)."""

    id: str
    municipality: str
    audience: Audience
    kind: NoticeKind
    scope_id: str
    facts: dict[str, Any]
    cause: Cause
    cursor: str | None = None
    done: bool = False
    created_at: datetime
