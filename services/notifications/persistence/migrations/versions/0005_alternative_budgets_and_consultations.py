"""consultation view; default rules for alternative budgets and answered consultations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the defaults added in services/notifications/domain/rules.py: rules are
# seeded from the migrations, so a new default only reaches a database through one.
NEW_DEFAULTS = [
    {
        "municipality": "*",
        "event_type": f"nl.inspraak.budgets.alternative-budget-{step}",
        "audience": audience,
        "notice": f"alternative_budget_{step.replace('-', '_')}",
        "condition": {},
        "enabled": True,
    }
    for step in ("submitted", "adopted", "not-adopted")
    for audience in ("drafter", "co_signers")
] + [
    {
        "municipality": "*",
        "event_type": "nl.inspraak.advisory.consultation-answered",
        "audience": "council_members",
        "notice": "consultation_answered",
        "condition": {},
        "enabled": True,
    },
]


def _rule_table() -> sa.TableClause:
    return sa.table(
        "notification_rule",
        sa.column("municipality", sa.String),
        sa.column("event_type", sa.String),
        sa.column("audience", sa.String),
        sa.column("notice", sa.String),
        sa.column("condition", sa.JSON),
        sa.column("enabled", sa.Boolean),
    )


def upgrade() -> None:
    op.create_table(
        "consultation_view",
        sa.Column("municipality", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("consultation_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("link", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("council_ids", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("municipality", "consultation_id"),
    )
    op.bulk_insert(_rule_table(), NEW_DEFAULTS)


def downgrade() -> None:
    rule = _rule_table()
    for values in NEW_DEFAULTS:
        keys = ("municipality", "event_type", "audience", "notice")
        op.execute(rule.delete().where(sa.and_(*(rule.c[k] == values[k] for k in keys))))
    op.drop_table("consultation_view")
