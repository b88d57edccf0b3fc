"""The initiatives service's tables; only this service reads or writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint, false
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.messaging.tables import MessagingTables


class Table(SQLModel, registry=registry()):
    pass


metadata = Table.metadata


def _json() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON))


def _moment(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


def _defaulted(value: Any, **kwargs: Any) -> Any:
    """A column added after rows existed: the database fills it for old rows."""
    return Field(sa_column_kwargs={"server_default": value}, **kwargs)


class InitiativeTypeRow(Table, table=True):
    __tablename__ = "initiative_type"
    __table_args__ = (UniqueConstraint("municipality", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality: str = Field(max_length=6, index=True)
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    support_threshold: int
    support_window_days: int = _defaulted("42", default=42)
    min_co_initiators: int = _defaulted("0", default=0)
    max_amount_cents: int
    funding_source: str = Field(max_length=40)
    decision_deadline_days: int = _defaulted("56", default=56)
    working_days: bool = _defaulted(false(), default=False)


class InitiativeRow(Table, table=True):
    __tablename__ = "initiative"

    id: str = Field(primary_key=True, max_length=36)
    municipality: str = Field(max_length=6, index=True)
    initiative_type: str = Field(max_length=40)
    title: str = Field(max_length=200)
    description: str
    neighbourhood: str = Field(max_length=10, index=True)
    theme: str = Field(max_length=60)
    requested_amount_cents: int
    funding_source: str = Field(max_length=40)
    initiator_id: str = Field(max_length=64)
    status: str = Field(max_length=40, index=True)
    support_count: int = 0
    decision_reasons: str | None = None
    decided_by: str | None = Field(default=None, max_length=64)
    decision_conditions: list[Any] = _json()
    advice_positions: list[Any] = _json()
    history: list[Any] = _json()
    version: int = Field(default=1)
    # Added with the full lifecycle (revision 0002).
    problem: str = _defaulted("", default="")
    desired_improvement: str = _defaulted("", default="")
    results_summary: str = _defaulted("", default="")
    support_threshold: int = _defaulted("0", default=0)
    decision_deadline_days: int = _defaulted("56", default=56)
    working_days: bool = _defaulted(false(), default=False)
    disbursed_cents: int = _defaulted("0", default=0)
    booked_spending_cents: int = _defaulted("0", default=0)
    predecessor_id: str | None = Field(default=None, max_length=36)
    submitted_at: datetime | None = _moment()
    support_deadline: datetime | None = _moment()
    decision_deadline: datetime | None = _moment()
    decided_at: datetime | None = _moment()
    co_initiators: list[Any] = _json()
    milestones: list[Any] = _json()
    cost_lines: list[Any] = _json()
    indicators: list[Any] = _json()
    progress_reached: list[Any] = _json()
    advice: list[Any] = _json()
    advice_responses: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    progress_updates: list[Any] = _json()
    account: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    successor_ids: list[Any] = _json()


class SupporterRow(Table, table=True):
    """One resident's support: the primary key makes a second support impossible."""

    __tablename__ = "initiative_supporter"

    initiative_id: str = Field(primary_key=True, max_length=36)
    supporter_id: str = Field(primary_key=True, max_length=64)
    channel: str = Field(max_length=20)
    supported_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ReportRow(Table, table=True):
    __tablename__ = "neighbourhood_report"

    id: str = Field(primary_key=True, max_length=36)
    municipality: str = Field(max_length=6, index=True)
    neighbourhood: str = Field(max_length=10, index=True)
    category: str = Field(max_length=60)
    description: str
    latitude: float
    longitude: float
    location_description: str = Field(default="", max_length=500)
    reporter_id: str = Field(max_length=64)
    status: str = Field(max_length=20, index=True)
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    reason: str | None = None
    forwarded_to: str | None = Field(default=None, max_length=200)
    initiative_id: str | None = Field(default=None, max_length=36)
    handled_by: str | None = Field(default=None, max_length=64)
    handled_at: datetime | None = _moment()


messaging = MessagingTables(metadata, timers=True)

JSON_COLUMNS = frozenset(
    name
    for name, column in InitiativeRow.__table__.columns.items()  # type: ignore[attr-defined]
    if isinstance(column.type, JSON)
)
