"""The initiatives service's tables; only this service reads or writes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.messaging.tables import MessagingTables


class Table(SQLModel, registry=registry()):
    pass


metadata = Table.metadata


class InitiativeTypeRow(Table, table=True):
    __tablename__ = "initiative_type"
    __table_args__ = (UniqueConstraint("municipality", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality: str = Field(max_length=6, index=True)
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    support_threshold: int
    max_amount_cents: int
    funding_source: str = Field(max_length=40)


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
    decision_conditions: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    advice_positions: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    history: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    version: int = Field(default=1)


messaging = MessagingTables(metadata)
