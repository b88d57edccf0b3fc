"""The notifications service's tables; only this service reads or writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.messaging.tables import MessagingTables


class Table(SQLModel, registry=registry()):
    pass


metadata = Table.metadata


def _moment(*, nullable: bool) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


class ContactRow(Table, table=True):
    """Contact details: erased on request, never copied anywhere else."""

    __tablename__ = "contact"

    municipality: str = Field(primary_key=True, max_length=6)
    person_id: str = Field(primary_key=True, max_length=64)
    email: str = Field(max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    language: str = Field(max_length=5)
    updated_at: datetime = _moment(nullable=False)


class CouncilMemberRow(Table, table=True):
    """View: current advisory council members, from advisory's events."""

    __tablename__ = "council_member"

    municipality: str = Field(primary_key=True, max_length=6)
    council_id: str = Field(primary_key=True, max_length=64)
    member_id: str = Field(primary_key=True, max_length=64)
    role: str = Field(max_length=40)
    council_kind: str = Field(max_length=60)


class InitiativeViewRow(Table, table=True):
    """View: an initiative's initiator, title and latest decision, from initiatives' events."""

    __tablename__ = "initiative_view"

    municipality: str = Field(primary_key=True, max_length=6)
    initiative_id: str = Field(primary_key=True, max_length=64)
    initiator_id: str = Field(max_length=64)
    title: str = Field(max_length=200)
    decision: str | None = Field(default=None, max_length=20)
    reasons: str | None = Field(default=None, sa_column=Column(Text))
    conditions: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    decided_at: datetime | None = _moment(nullable=True)
    neighbourhood: str | None = Field(default=None, max_length=10)


class ConsultationViewRow(Table, table=True):
    """View: a policy consultation's title, link and the councils asked, from advisory."""

    __tablename__ = "consultation_view"

    municipality: str = Field(primary_key=True, max_length=6)
    consultation_id: str = Field(primary_key=True, max_length=64)
    title: str = Field(max_length=300)
    link: str = Field(max_length=1000)
    council_ids: list[Any] = Field(default_factory=list, sa_column=Column(JSON))


class PreferenceRow(Table, table=True):
    """How often a person wants to hear per category, SMS or not, and their quiet hours."""

    __tablename__ = "preference"

    municipality: str = Field(primary_key=True, max_length=6)
    person_id: str = Field(primary_key=True, max_length=64)
    frequencies: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    sms: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    quiet_start: str | None = Field(default=None, max_length=8)
    quiet_end: str | None = Field(default=None, max_length=8)


class SupporterRow(Table, table=True):
    """View: who currently supports which initiative, from initiatives' events."""

    __tablename__ = "supporter"

    municipality: str = Field(primary_key=True, max_length=6)
    initiative_id: str = Field(primary_key=True, max_length=64)
    supporter_id: str = Field(primary_key=True, max_length=64)


class BudgetHolderRow(Table, table=True):
    """Who decides on initiatives, for which neighbourhoods (none listed: all)."""

    __tablename__ = "budget_holder"

    municipality: str = Field(primary_key=True, max_length=6)
    person_id: str = Field(primary_key=True, max_length=64)
    neighbourhoods: list[Any] = Field(default_factory=list, sa_column=Column(JSON))


class FollowRow(Table, table=True):
    """Who follows which neighbourhood or budget; pseudonymous, erased with the person.

    The key starts with the target, so the followers of one are paged in id order.
    """

    __tablename__ = "follow"
    __table_args__ = (Index("ix_follow_person", "municipality", "person_id"),)

    municipality: str = Field(primary_key=True, max_length=6)
    target: str = Field(primary_key=True, max_length=20)
    target_id: str = Field(primary_key=True, max_length=64)
    person_id: str = Field(primary_key=True, max_length=64)
    since: datetime = _moment(nullable=False)


class NotificationRuleRow(Table, table=True):
    """Who is told what: per municipality, or '*' for the seeded defaults."""

    __tablename__ = "notification_rule"

    municipality: str = Field(primary_key=True, max_length=6)
    event_type: str = Field(primary_key=True, max_length=255)
    audience: str = Field(primary_key=True, max_length=40)
    notice: str = Field(primary_key=True, max_length=40)
    condition: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    enabled: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))


class FanoutJobRow(Table, table=True):
    """Telling a large audience batch by batch; ``cursor`` is the last recipient done."""

    __tablename__ = "fanout_job"

    id: str = Field(primary_key=True, max_length=64)
    municipality: str = Field(max_length=6)
    audience: str = Field(max_length=40)
    kind: str = Field(max_length=40)
    scope_id: str = Field(max_length=64)
    facts: str = Field(sa_column=Column(Text, nullable=False))
    cause_source: str = Field(max_length=255)
    cause_event_id: str = Field(max_length=64)
    cause_event_type: str = Field(max_length=255)
    cause_correlation_id: str = Field(max_length=64)
    cause_traceparent: str | None = Field(default=None, max_length=64)
    cursor: str | None = Field(default=None, max_length=64)
    done: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, index=True))
    created_at: datetime = _moment(nullable=False)


class WebhookSubscriptionRow(Table, table=True):
    """A system's subscription to events over HTTP."""

    __tablename__ = "webhook_subscription"

    id: str = Field(primary_key=True, max_length=36)
    municipality: str = Field(max_length=6, index=True)
    owner_id: str = Field(max_length=64)
    callback_url: str = Field(sa_column=Column(Text, nullable=False))
    auth: str | None = Field(default=None, sa_column=Column(Text))
    secret: str = Field(max_length=200)
    content_mode: str = Field(max_length=20)
    event_types: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    neighbourhoods: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    status: str = Field(max_length=20)
    consecutive_failures: int = 0
    suspended_at: datetime | None = _moment(nullable=True)
    created_at: datetime = _moment(nullable=False)


class WebhookDeliveryRow(Table, table=True):
    """One event on its way to one subscription; the id is derived from both."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)

    id: str = Field(primary_key=True, max_length=64)
    subscription_id: str = Field(max_length=36, index=True)
    municipality: str = Field(max_length=6)
    event_source: str = Field(max_length=255)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=255)
    event: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=20)
    attempts: int = 0
    next_attempt_at: datetime | None = _moment(nullable=True)
    claimed_at: datetime | None = _moment(nullable=True)
    delivered_at: datetime | None = _moment(nullable=True)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = _moment(nullable=False)


class WebhookAttemptRow(Table, table=True):
    """The delivery log: every HTTP call, its answer and how long it took."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(max_length=64, index=True)
    attempt: int
    at: datetime = _moment(nullable=False)
    status_code: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))
    duration_ms: int


class ParkedNoticeRow(Table, table=True):
    """A notify command waiting for the view it needs (e.g. a decision not seen yet)."""

    __tablename__ = "parked_notice"

    id: int | None = Field(default=None, primary_key=True)
    municipality: str = Field(max_length=6)
    initiative_id: str = Field(max_length=64, index=True)
    command_type: str = Field(max_length=60)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    parked_at: datetime = _moment(nullable=False)


class MessageRow(Table, table=True):
    """One message to one recipient on one channel; unique per idempotency key."""

    __tablename__ = "message"
    __table_args__ = (Index("ix_message_due", "status", "next_attempt_at"),)

    id: str = Field(primary_key=True, max_length=36)
    idempotency_key: str = Field(max_length=64, unique=True)
    municipality: str = Field(max_length=6)
    recipient_id: str = Field(max_length=64, index=True)
    channel: str = Field(max_length=20)
    kind: str = Field(max_length=40)
    language: str = Field(max_length=5)
    subject: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    html: str | None = Field(default=None, sa_column=Column(Text))
    cause_source: str = Field(max_length=255)
    cause_event_id: str = Field(max_length=64)
    cause_event_type: str = Field(max_length=255)
    cause_correlation_id: str = Field(max_length=64)
    cause_traceparent: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=20)
    attempts: int = 0
    next_attempt_at: datetime | None = _moment(nullable=True)
    claimed_at: datetime | None = _moment(nullable=True)
    sent_at: datetime | None = _moment(nullable=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = _moment(nullable=False)
    read_at: datetime | None = _moment(nullable=True)
    bundled_into: str | None = Field(default=None, max_length=36)


messaging = MessagingTables(metadata)
