"""The advisory service's tables; only this service reads or writes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
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
    themes: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    advice_days: int
    working_days: bool = True
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
    requests: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    completed_at: str | None = Field(default=None, max_length=40)


messaging = MessagingTables(metadata)
