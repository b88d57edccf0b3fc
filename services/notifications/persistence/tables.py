"""The notifications service's tables; only this service reads or writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text
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
    cause_source: str = Field(max_length=255)
    cause_event_id: str = Field(max_length=64)
    cause_event_type: str = Field(max_length=255)
    cause_correlation_id: str = Field(max_length=64)
    status: str = Field(max_length=20)
    attempts: int = 0
    next_attempt_at: datetime | None = _moment(nullable=True)
    claimed_at: datetime | None = _moment(nullable=True)
    sent_at: datetime | None = _moment(nullable=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = _moment(nullable=False)


messaging = MessagingTables(metadata)
