"""default rules: co-signers hear of a withdrawn alternative budget, residents who gave input
hear the answer to a consultation

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the defaults added in services/notifications/domain/rules.py: rules are
# seeded from the migrations, so a new default only reaches a database through one.
NEW_DEFAULTS = [
    {
        "municipality": "*",
        "event_type": "nl.inspraak.budgets.alternative-budget-withdrawn",
        "audience": "co_signers",
        "notice": "alternative_budget_withdrawn",
        "condition": {},
        "enabled": True,
    },
    {
        "municipality": "*",
        "event_type": "nl.inspraak.advisory.consultation-answered",
        "audience": "contributors",
        "notice": "consultation_input_answered",
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
    op.bulk_insert(_rule_table(), NEW_DEFAULTS)


def downgrade() -> None:
    rule = _rule_table()
    for values in NEW_DEFAULTS:
        keys = ("municipality", "event_type", "audience", "notice")
        op.execute(rule.delete().where(sa.and_(*(rule.c[k] == values[k] for k in keys))))
