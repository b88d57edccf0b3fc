"""The advisory service's tables; only this service reads or writes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.messaging.tables import MessagingTables


class Table(SQLModel, registry=registry()):
    pass


metadata = Table.metadata


class CouncilRow(Table, table=True):
    __tablename__ = "council"

    id: str = Field(primary_key=True, max_length=36)
    municipality: str = Field(max_length=6, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    neighbourhoods: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    districts: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    themes: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    advice_days: int
    working_days: bool = True
    adoption: str = Field(default="recorded", max_length=20)
    quorum_percent: int = 50
    reminder_days: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    members: list[Any] = Field(default_factory=list, sa_column=Column(JSON))


class AdviceRoundRow(Table, table=True):
    __tablename__ = "advice_round"
    __table_args__ = (UniqueConstraint("municipality", "subject_kind", "subject_id"),)

    id: str = Field(primary_key=True, max_length=36)
    municipality: str = Field(max_length=6, index=True)
    subject_kind: str = Field(max_length=20)
    subject_id: str = Field(max_length=64)
    title: str = Field(max_length=200)
    status: str = Field(max_length=20, index=True)
    facts: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    requests: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    completed_at: str | None = Field(default=None, max_length=40)
    closed_by: str | None = Field(default=None, max_length=64)
    closing_reason: str | None = Field(default=None, sa_column=Column(Text))


class RoutingRuleRow(Table, table=True):
    __tablename__ = "routing_rule"

    id: str = Field(primary_key=True, max_length=36)
    municipality: str = Field(max_length=6, index=True)
    council_id: str = Field(max_length=36)
    obligation: str = Field(max_length=10)
    neighbourhoods: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    districts: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    themes: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    initiative_types: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    min_amount_cents: int | None = Field(default=None, sa_column=Column(BigInteger))
    max_amount_cents: int | None = Field(default=None, sa_column=Column(BigInteger))
    description: str = Field(default="", max_length=500)


class ConsultationRow(Table, table=True):
    __tablename__ = "consultation"

    id: str = Field(primary_key=True, max_length=36)
    municipality: str = Field(max_length=6, index=True)
    title: str = Field(max_length=200)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    link: str = Field(max_length=500)
    themes: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    areas: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    council_ids: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    open_to_residents: bool = False
    status: str = Field(max_length=20)
    opened_by: str = Field(max_length=64)
    opened_at: str = Field(max_length=40)
    closes_at: str = Field(max_length=40)
    closed_at: str | None = Field(default=None, max_length=40)
    answered_at: str | None = Field(default=None, max_length=40)
    advice_round_id: str | None = Field(default=None, max_length=36, index=True)
    points: list[Any] = Field(default_factory=list, sa_column=Column(JSON))


class AgendaItemRow(Table, table=True):
    __tablename__ = "agenda_item"

    id: str = Field(primary_key=True, max_length=36)
    municipality: str = Field(max_length=6, index=True)
    council_id: str = Field(max_length=36, index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    proposed_by: str = Field(max_length=64)
    proposed_at: str = Field(max_length=40)
    status: str = Field(max_length=20)
    meeting_date: str | None = Field(default=None, max_length=10)
    body: str | None = Field(default=None, max_length=100)
    scheduled_at: str | None = Field(default=None, max_length=40)
    outcome: str | None = Field(default=None, max_length=20)
    summary: str | None = Field(default=None, sa_column=Column(Text))
    concluded_at: str | None = Field(default=None, max_length=40)


class MeetingRow(Table, table=True):
    __tablename__ = "meeting"

    id: str = Field(primary_key=True, max_length=36)
    municipality: str = Field(max_length=6, index=True)
    council_id: str = Field(max_length=36, index=True)
    starts_at: str = Field(max_length=40)
    location: str = Field(default="", max_length=200)
    with_municipality: bool = True
    agenda: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    minutes: str | None = Field(default=None, sa_column=Column(Text))
    minutes_published_at: str | None = Field(default=None, max_length=40)
    advice: list[Any] = Field(default_factory=list, sa_column=Column(JSON))


messaging = MessagingTables(metadata, timers=True)
