"""The budgets service's tables; only this service reads or writes them.

``ledger_entry`` is append-only: the migration installs triggers that refuse UPDATE and
DELETE, so a balance can only change by appending an entry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.messaging.tables import MessagingTables


class Table(SQLModel, registry=registry()):
    pass


metadata = Table.metadata


class BudgetRow(Table, table=True):
    __tablename__ = "budget"
    __table_args__ = (
        # One neighbourhood budget per neighbourhood and year, one fund per municipality.
        UniqueConstraint("municipality", "scope", name="uq_budget_scope"),
    )

    id: str = Field(primary_key=True, max_length=36)
    municipality: str = Field(max_length=6, index=True)
    kind: str = Field(max_length=40)
    scope: str = Field(max_length=40)
    neighbourhood: str | None = Field(default=None, max_length=10, index=True)
    year: int | None = None
    max_per_initiative_cents: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    opened_by: str = Field(max_length=64)


class LedgerEntryRow(Table, table=True):
    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="ck_ledger_entry_positive_amount"),
        CheckConstraint("debit_account <> credit_account", name="ck_ledger_entry_two_accounts"),
        # The database's own guarantee that an initiative is reserved at most once: one entry
        # from the money that is not earmarked and one from its theme's earmark, at most.
        Index(
            "uq_ledger_entry_reserved_once_per_source",
            "municipality",
            "initiative_id",
            "debit_account",
            unique=True,
            sqlite_where=text("kind = 'reserved'"),
            postgresql_where=text("kind = 'reserved'"),
        ),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    budget_id: str = Field(max_length=36, foreign_key="budget.id", index=True)
    municipality: str = Field(max_length=6)
    initiative_id: str | None = Field(default=None, max_length=200, index=True)
    kind: str = Field(max_length=20)
    debit_account: str = Field(max_length=20)
    credit_account: str = Field(max_length=20)
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    note: str = Field(default="", max_length=500)
    cost_line: str | None = Field(default=None, max_length=100)
    release_reason: str | None = Field(default=None, max_length=20)
    # Not a foreign key: SQLite would have to rebuild the table to add one, and a rebuild
    # would drop the triggers that keep it append-only. The handler checks the entry exists.
    corrects_entry_id: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    recorded_by: str | None = Field(default=None, max_length=64)
    earmark: str | None = Field(default=None, max_length=60)  # the theme, normalised


class AllocationRow(Table, table=True):
    __tablename__ = "allocation"

    municipality: str = Field(primary_key=True, max_length=6)
    initiative_id: str = Field(primary_key=True, max_length=200)
    funding_source: str = Field(max_length=40)
    neighbourhood: str | None = Field(default=None, max_length=10)
    requested_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    outcome: str = Field(max_length=20, index=True)
    budget_id: str | None = Field(default=None, max_length=36, foreign_key="budget.id")
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    shortfall_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    reason: str = Field(max_length=1000)
    decided_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CostPlanLineRow(Table, table=True):
    """One line of an approved initiative's cost plan: what it expects to spend on what."""

    __tablename__ = "cost_plan_line"

    municipality: str = Field(primary_key=True, max_length=6)
    initiative_id: str = Field(primary_key=True, max_length=200)
    cost_line: str = Field(primary_key=True, max_length=100)
    planned_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    position: int = 0


class BudgetingRoundRow(Table, table=True):
    __tablename__ = "budgeting_round"

    id: str = Field(primary_key=True, max_length=36)
    municipality: str = Field(max_length=6, index=True)
    neighbourhood: str = Field(max_length=10)
    title: str = Field(max_length=200)
    budget_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    ballot_kind: str = Field(max_length=20)
    rule: str = Field(max_length=20)
    max_choices: int | None = None
    schedule: str = Field(sa_column=Column(Text, nullable=False))  # JSON: phase -> start
    phase: str = Field(max_length=20)
    results: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON


class RoundProposalRow(Table, table=True):
    __tablename__ = "round_proposal"

    round_id: str = Field(primary_key=True, max_length=36, foreign_key="budgeting_round.id")
    project_id: str = Field(primary_key=True, max_length=20)
    title: str = Field(max_length=200)
    cost_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    verdict: str = Field(max_length=20)
    verdict_reasons: str = Field(default="", max_length=2000)


class RoundBallotRow(Table, table=True):
    """One ballot per voter per round: casting again overwrites the row."""

    __tablename__ = "round_ballot"

    round_id: str = Field(primary_key=True, max_length=36, foreign_key="budgeting_round.id")
    voter_id: str = Field(primary_key=True, max_length=64)
    project_ids: str = Field(max_length=2000)  # comma-separated, in id order
    channel: str = Field(max_length=10)
    cast_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class AlternativeBudgetRow(Table, table=True):
    """Residents' alternative division of a neighbourhood budget (alternatieve begroting)."""

    __tablename__ = "alternative_budget"

    id: str = Field(primary_key=True, max_length=36)
    municipality: str = Field(max_length=6, index=True)
    budget_id: str = Field(max_length=36, foreign_key="budget.id", index=True)
    neighbourhood: str = Field(max_length=10)
    year: int
    title: str = Field(max_length=200)
    drafter_id: str = Field(max_length=64)
    status: str = Field(max_length=20)
    # The lines, co-signatures and decision are read and written with the whole: JSON.
    lines: str = Field(sa_column=Column(Text, nullable=False))
    co_signatures: str = Field(sa_column=Column(Text, nullable=False))
    decision: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    submitted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    submitted_by: str | None = Field(default=None, max_length=64)


messaging = MessagingTables(metadata)
