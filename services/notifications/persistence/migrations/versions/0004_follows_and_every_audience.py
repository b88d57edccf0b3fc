"""follows of neighbourhoods and budgets; default rules for every audience

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROUND_CLOSED_ESCALATION = {
    'municipality': '*',
    'event_type': 'nl.inspraak.advisory.advice-round-completed',
    'audience': 'council_officers',
    'notice': 'advice_escalated',
}
# Frozen copy of the defaults added in services/notifications/domain/rules.py.
NEW_DEFAULTS = [
    {'municipality': '*', 'event_type': 'nl.inspraak.advisory.advice-deadline-approaching', 'audience': 'council_members', 'notice': 'advice_deadline_approaching', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.advisory.advice-overdue', 'audience': 'council_officers', 'notice': 'advice_overdue_escalated', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.initiative-submitted', 'audience': 'initiator', 'notice': 'initiative_submitted', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.support-progress', 'audience': 'initiator', 'notice': 'support_progress', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.initiative-ready-for-review', 'audience': 'initiator', 'notice': 'initiative_in_review', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.initiative-ready-for-decision', 'audience': 'initiator', 'notice': 'awaiting_decision', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.initiative-decision-overdue', 'audience': 'initiator', 'notice': 'decision_overdue', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.initiative-results-reported', 'audience': 'initiator', 'notice': 'results_reported', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.initiative-accounted', 'audience': 'initiator', 'notice': 'initiative_accounted', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.initiative-closed', 'audience': 'initiator', 'notice': 'initiative_closed', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.initiative-withdrawn', 'audience': 'initiator', 'notice': 'initiative_withdrawn', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.initiative-expired', 'audience': 'initiator', 'notice': 'initiative_expired', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.milestone-overdue', 'audience': 'initiator', 'notice': 'milestone_overdue', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.initiative-results-reported', 'audience': 'supporters', 'notice': 'supported_initiative_results', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.initiative-accounted', 'audience': 'supporters', 'notice': 'supported_initiative_accounted', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.initiatives.report-handled', 'audience': 'reporter', 'notice': 'report_handled', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.budgets.round-phase-changed', 'audience': 'followers', 'notice': 'round_phase_changed', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.budgets.round-results-published', 'audience': 'followers', 'notice': 'round_results_published', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.budgets.spending-reported', 'audience': 'followers', 'notice': 'spending_reported', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.budgets.budget-allocated', 'audience': 'followers', 'notice': 'followed_budget_allocated', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.budgets.funds-released', 'audience': 'followers', 'notice': 'funds_released', 'condition': {}, 'enabled': True},
    {'municipality': '*', 'event_type': 'nl.inspraak.budgets.funds-disbursed', 'audience': 'followers', 'notice': 'funds_disbursed', 'condition': {}, 'enabled': True},
]


def _rule_table() -> sa.TableClause:
    return sa.table(
        'notification_rule',
        sa.column('municipality', sa.String),
        sa.column('event_type', sa.String),
        sa.column('audience', sa.String),
        sa.column('notice', sa.String),
        sa.column('condition', sa.JSON),
        sa.column('enabled', sa.Boolean),
    )


def _matches(rule: sa.TableClause, values: dict[str, str]) -> sa.ColumnElement[bool]:
    return sa.and_(*(rule.c[name] == value for name, value in values.items()))


def upgrade() -> None:
    op.create_table('follow',
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('municipality', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('target_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('municipality', 'target', 'target_id', 'person_id')
    )
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.create_index('ix_follow_person', ['municipality', 'person_id'], unique=False)

    rule = _rule_table()
    # advice-overdue now names the chair and secretary (escalate_to), who hear it then; the
    # round's closing would tell them a second time, so that default is switched off.
    op.execute(rule.update().where(_matches(rule, ROUND_CLOSED_ESCALATION)).values(enabled=False))
    op.bulk_insert(rule, NEW_DEFAULTS)


def downgrade() -> None:
    rule = _rule_table()
    for values in NEW_DEFAULTS:
        keys = {k: values[k] for k in ('municipality', 'event_type', 'audience', 'notice')}
        op.execute(rule.delete().where(_matches(rule, keys)))
    op.execute(rule.update().where(_matches(rule, ROUND_CLOSED_ESCALATION)).values(enabled=True))
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_person')

    op.drop_table('follow')
