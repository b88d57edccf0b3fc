"""earmarks per theme and alternative budgets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Written by hand, without batch mode: on SQLite ADD COLUMN and index changes happen in place,
# so ledger_entry is never rebuilt and the append-only triggers of 0001 stay.
RESERVED = sa.text("kind = 'reserved'")


def upgrade() -> None:
    op.add_column(
        'ledger_entry',
        sa.Column('earmark', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    )
    # An initiative of an earmarked theme is reserved from its earmark and, for what the
    # earmark cannot cover, from the money that is not earmarked: once per source.
    op.drop_index(
        'uq_ledger_entry_reserved_once',
        table_name='ledger_entry',
        sqlite_where=RESERVED,
        postgresql_where=RESERVED,
    )
    op.create_index(
        'uq_ledger_entry_reserved_once_per_source',
        'ledger_entry',
        ['municipality', 'initiative_id', 'debit_account'],
        unique=True,
        sqlite_where=RESERVED,
        postgresql_where=RESERVED,
    )
    op.create_table(
        'alternative_budget',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('municipality', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column('budget_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('neighbourhood', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('drafter_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('lines', sa.Text(), nullable=False),
        sa.Column('co_signatures', sa.Text(), nullable=False),
        sa.Column('decision', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('submitted_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(['budget_id'], ['budget.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        op.f('ix_alternative_budget_budget_id'), 'alternative_budget', ['budget_id'], unique=False
    )
    op.create_index(
        op.f('ix_alternative_budget_municipality'),
        'alternative_budget',
        ['municipality'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_alternative_budget_municipality'), table_name='alternative_budget')
    op.drop_index(op.f('ix_alternative_budget_budget_id'), table_name='alternative_budget')
    op.drop_table('alternative_budget')
    op.drop_index(
        'uq_ledger_entry_reserved_once_per_source',
        table_name='ledger_entry',
        sqlite_where=RESERVED,
        postgresql_where=RESERVED,
    )
    op.create_index(
        'uq_ledger_entry_reserved_once',
        'ledger_entry',
        ['municipality', 'initiative_id'],
        unique=True,
        sqlite_where=RESERVED,
        postgresql_where=RESERVED,
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_column('earmark')
    _restore_sqlite_append_only_triggers()


APPEND_ONLY = "ledger entries are append-only: correct a mistake with a correction entry"


def _restore_sqlite_append_only_triggers() -> None:
    # Dropping a column makes SQLite rebuild the table, which drops its triggers.
    if op.get_bind().dialect.name != "sqlite":
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS ledger_entry_no_{action.lower()}")
        op.execute(
            f"CREATE TRIGGER ledger_entry_no_{action.lower()} BEFORE {action} ON ledger_entry "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
