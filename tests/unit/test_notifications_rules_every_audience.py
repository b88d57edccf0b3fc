"""Who is told what, as data: the new audiences, precedence and what followers hear."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from services.notifications.domain import commands, rules
from services.notifications.domain.model import (
    CATEGORY_OF,
    Audience,
    Category,
    FollowTarget,
    NoticeKind,
)
from shared.migrations import upgrade_to_head


def test_every_notice_kind_has_a_category_a_person_can_set_a_frequency_for() -> None:
    assert set(CATEGORY_OF) == set(NoticeKind)
    assert CATEGORY_OF[NoticeKind.ROUND_RESULTS_PUBLISHED] is Category.FOLLOWED
    assert CATEGORY_OF[NoticeKind.REPORT_HANDLED] is Category.OWN_REPORTS
    assert CATEGORY_OF[NoticeKind.MILESTONE_OVERDUE] is Category.OWN_INITIATIVE
    assert CATEGORY_OF[NoticeKind.ALTERNATIVE_BUDGET_ADOPTED] is Category.ALTERNATIVE_BUDGETS
    assert CATEGORY_OF[NoticeKind.CONSULTATION_ANSWERED] is Category.ADVICE
    assert CATEGORY_OF[NoticeKind.CONSULTATION_INPUT_ANSWERED] is Category.OWN_INPUT
    assert CATEGORY_OF[NoticeKind.ALTERNATIVE_BUDGET_WITHDRAWN] is Category.ALTERNATIVE_BUDGETS


def test_the_defaults_tell_the_initiator_of_every_state_change_of_their_initiative() -> None:
    initiator_hears = {
        r.event_type for r in rules.DEFAULT_RULES if r.audience is Audience.INITIATOR and r.enabled
    }
    assert initiator_hears >= {
        rules.INITIATIVE_SUBMITTED,
        rules.SUPPORT_PROGRESS,
        rules.INITIATIVE_READY_FOR_REVIEW,
        rules.INITIATIVE_READY_FOR_DECISION,
        rules.INITIATIVE_DECISION_OVERDUE,
        rules.INITIATIVE_DECIDED,
        rules.BUDGET_ALLOCATED,
        rules.ALLOCATION_REJECTED,
        rules.INITIATIVE_RESULTS_REPORTED,
        rules.INITIATIVE_ACCOUNTED,
        rules.INITIATIVE_CLOSED,
        rules.INITIATIVE_WITHDRAWN,
        rules.INITIATIVE_EXPIRED,
        rules.MILESTONE_OVERDUE,
    }


def test_each_default_names_one_audience_and_notice_per_event_once() -> None:
    keys = [r.key for r in rules.DEFAULT_RULES]
    assert len(keys) == len(set(keys))


def test_the_round_closing_no_longer_tells_officers_who_heard_at_the_overdue_advice() -> None:
    found = rules.effective_rules(rules.DEFAULT_RULES, "GM0362", rules.ADVICE_ROUND_COMPLETED)
    assert found == []
    switched_on = rules.Rule(
        municipality="GM0362",
        event_type=rules.ADVICE_ROUND_COMPLETED,
        audience=Audience.COUNCIL_OFFICERS,
        notice=NoticeKind.ADVICE_ESCALATED,
        condition={"closed_after_escalation": "true"},
    )
    stored = [*rules.DEFAULT_RULES, switched_on]
    assert rules.effective_rules(stored, "GM0362", rules.ADVICE_ROUND_COMPLETED) == [switched_on]
    assert rules.effective_rules(stored, "GM0363", rules.ADVICE_ROUND_COMPLETED) == []


def test_the_most_specific_audience_comes_first_whatever_order_rules_are_stored_in() -> None:
    stored = list(reversed(rules.DEFAULT_RULES))

    overdue = rules.effective_rules(stored, "GM0362", rules.ADVICE_OVERDUE)
    results = rules.effective_rules(stored, "GM0362", rules.INITIATIVE_RESULTS_REPORTED)

    assert [r.audience for r in overdue] == [Audience.COUNCIL_OFFICERS, Audience.COUNCIL_MEMBERS]
    assert [r.audience for r in results] == [Audience.INITIATOR, Audience.SUPPORTERS]
    adopted = rules.effective_rules(stored, "GM0362", rules.ALTERNATIVE_BUDGET_ADOPTED)
    assert [r.audience for r in adopted] == [Audience.DRAFTER, Audience.CO_SIGNERS]
    assert set(rules.AUDIENCE_PRECEDENCE) == set(Audience)


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        (
            rules.SPENDING_REPORTED,
            ((FollowTarget.BUDGET, "b-1"), (FollowTarget.NEIGHBOURHOOD, "BU03620001")),
        ),
        (rules.FUNDS_DISBURSED, ((FollowTarget.BUDGET, "b-1"),)),
        (rules.FUNDS_RELEASED, ((FollowTarget.BUDGET, "b-1"),)),
        (rules.BUDGET_ALLOCATED, ((FollowTarget.BUDGET, "b-1"),)),
    ],
)
def test_budget_followers_hear_every_money_move_area_followers_only_spending(
    event_type: str, expected: tuple[tuple[FollowTarget, str], ...]
) -> None:
    assert rules.followed_by(event_type, "b-1", "BU03620001") == expected


def test_round_events_reach_followers_of_their_neighbourhood() -> None:
    for event_type in (rules.ROUND_PHASE_CHANGED, rules.ROUND_RESULTS_PUBLISHED):
        assert rules.followed_by(event_type, None, "BU03620001") == (
            (FollowTarget.NEIGHBOURHOOD, "BU03620001"),
        )
    assert rules.followed_by(rules.ROUND_PHASE_CHANGED, None, None) == ()


def test_a_follow_scope_survives_the_fanout_job_round_trip() -> None:
    scope = rules.follow_scope(FollowTarget.BUDGET, "budget:with:colons")
    assert rules.parse_follow_scope(scope) == (FollowTarget.BUDGET, "budget:with:colons")


def test_a_neighbourhood_is_followed_by_its_cbs_code_only() -> None:
    commands.FollowCommand(target=FollowTarget.NEIGHBOURHOOD, target_id="BU03620001")
    commands.FollowCommand(target=FollowTarget.BUDGET, target_id="any-budget-id")
    with pytest.raises(ValidationError, match="not a CBS neighbourhood code"):
        commands.FollowCommand(target=FollowTarget.NEIGHBOURHOOD, target_id="WK036300")


@pytest.mark.parametrize(
    ("event_type", "notice"),
    [
        (rules.ALTERNATIVE_BUDGET_SUBMITTED, NoticeKind.ALTERNATIVE_BUDGET_SUBMITTED),
        (rules.ALTERNATIVE_BUDGET_ADOPTED, NoticeKind.ALTERNATIVE_BUDGET_ADOPTED),
        (rules.ALTERNATIVE_BUDGET_NOT_ADOPTED, NoticeKind.ALTERNATIVE_BUDGET_NOT_ADOPTED),
    ],
)
def test_the_drafter_and_co_signers_hear_every_step_of_their_alternative_budget(
    event_type: str, notice: NoticeKind
) -> None:
    found = rules.effective_rules(rules.DEFAULT_RULES, "GM0362", event_type)
    assert [(r.audience, r.notice) for r in found] == [
        (Audience.DRAFTER, notice),
        (Audience.CO_SIGNERS, notice),
    ]


def test_the_residents_who_gave_input_and_the_councils_asked_hear_the_answer() -> None:
    found = rules.effective_rules(rules.DEFAULT_RULES, "GM0362", rules.CONSULTATION_ANSWERED)
    # A member who also gave input as a resident hears what became of their own input.
    assert [(r.audience, r.notice) for r in found] == [
        (Audience.CONTRIBUTORS, NoticeKind.CONSULTATION_INPUT_ANSWERED),
        (Audience.COUNCIL_MEMBERS, NoticeKind.CONSULTATION_ANSWERED),
    ]
    # Opening and closing a consultation only keep or change what this service knows.
    for quiet in (rules.CONSULTATION_OPENED, "nl.inspraak.advisory.consultation-closed"):
        assert rules.effective_rules(rules.DEFAULT_RULES, "GM0362", quiet) == []


def test_only_the_co_signers_hear_that_the_drafter_withdrew_an_alternative_budget() -> None:
    found = rules.effective_rules(
        reversed(rules.DEFAULT_RULES), "GM0362", rules.ALTERNATIVE_BUDGET_WITHDRAWN
    )
    assert [(r.audience, r.notice) for r in found] == [
        (Audience.CO_SIGNERS, NoticeKind.ALTERNATIVE_BUDGET_WITHDRAWN)
    ]


async def test_the_migrations_seed_exactly_the_default_rules(tmp_path: Path) -> None:
    """Rules reach a database through the migrations only: each default must be seeded."""
    path = tmp_path / "notifications.sqlite3"
    await asyncio.to_thread(upgrade_to_head, "notifications", f"sqlite+aiosqlite:///{path}")
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT municipality, event_type, audience, notice, condition, enabled "
                    "FROM notification_rule"
                )
            ).all()
    finally:
        engine.dispose()
    seeded = {
        rules.Rule(
            municipality=m,
            event_type=e,
            audience=Audience(a),
            notice=NoticeKind(n),
            condition=json.loads(c) if isinstance(c, str) else (c or {}),
            enabled=bool(on),
        ).model_dump_json()
        for m, e, a, n, c, on in rows
    }
    assert seeded == {rule.model_dump_json() for rule in rules.DEFAULT_RULES}
