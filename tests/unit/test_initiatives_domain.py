"""The initiative's lifecycle rules, without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.initiatives.domain import events
from services.initiatives.domain.deadlines import AMSTERDAM, deadline_after
from services.initiatives.domain.exceptions import (
    InvalidTransition,
    NotAllowedForCaller,
    RuleViolation,
    SupportConflict,
)
from services.initiatives.domain.model import (
    TRANSITIONS,
    Advice,
    FundingSource,
    Initiative,
    InitiativeType,
    Status,
)
from services.initiatives.domain.reports import Report, ReportOutcome, ReportStatus

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PLAN: dict[str, Any] = {
    "problem": "Ouderen kunnen nergens rusten op weg naar de winkels.",
    "desired_improvement": "Drie bankjes langs de route.",
    "milestones": [
        {"id": "m1", "description": "Bankjes besteld", "due_date": "2027-01-15"},
        {"id": "m2", "description": "Bankjes geplaatst", "due_date": "2027-03-01"},
    ],
    "cost_lines": [
        {"description": "Drie bankjes", "amount_cents": 90_000},
        {"description": "Plaatsing", "amount_cents": 30_000},
    ],
    "indicators": [{"id": "i1", "description": "Bankjes geplaatst", "target": 3, "unit": "stuks"}],
}


def kind(threshold: int = 0, maximum: int = 500_000, **rules: Any) -> InitiativeType:
    return InitiativeType(
        municipality="GM0362",
        code="buurt-demo",
        name="Demo",
        support_threshold=threshold,
        max_amount_cents=maximum,
        funding_source=FundingSource.NEIGHBOURHOOD_BUDGET,
        **rules,
    )


def submitted(threshold: int = 0, amount: int = 100_000, **extra: Any) -> Initiative:
    return Initiative.submit(
        initiative_id="i-1",
        kind=kind(threshold),
        title="Bankjes",
        description="Drie bankjes bij de speeltuin.",
        neighbourhood="BU03620001",
        theme="groen",
        requested_amount_cents=amount,
        initiator_id="p-1",
        now=NOW,
        **extra,
    )


def draft(**plan: Any) -> Initiative:
    return Initiative.draft(
        initiative_id="d-1",
        kind=kind(),
        title="Bankjes",
        description="Drie bankjes bij de speeltuin.",
        neighbourhood="BU03620001",
        theme="groen",
        requested_amount_cents=0,
        initiator_id="p-1",
        now=NOW,
        **plan,
    )


def decided(approve: bool = True, **extra: Any) -> Initiative:
    initiative = submitted(**extra)
    initiative.mark_ready_for_decision("round-1", ["positive"], NOW)
    initiative.decide(
        approve=approve,
        reasons="Ja, tenzij: geen bezwaren." if approve else "Nee.",
        conditions=[],
        decided_by="b",
        now=NOW,
    )
    return initiative


def carried_out() -> Initiative:
    initiative = decided(**PLAN)
    initiative.record_funding(funded=True, note="reserved", now=NOW)
    initiative.start(by="p-1", now=NOW)
    return initiative


def test_a_type_without_support_threshold_goes_to_review_at_once() -> None:
    initiative = submitted(threshold=0)
    assert initiative.status is Status.IN_REVIEW
    assert [type(e) for e in initiative.pending_events] == [events.Submitted, events.ReadyForReview]


def test_a_type_with_a_threshold_collects_support_within_its_window() -> None:
    initiative = submitted(threshold=25)
    assert initiative.status is Status.COLLECTING_SUPPORT
    assert [type(e) for e in initiative.pending_events] == [
        events.Submitted,
        events.SupportWindowOpened,
    ]
    assert initiative.support_deadline == deadline_after(NOW, 42, working_days=False)


def test_more_than_the_type_allows_is_refused() -> None:
    with pytest.raises(RuleViolation, match="exceeds the maximum"):
        submitted(amount=600_000)


def test_the_costed_budget_is_the_request() -> None:
    initiative = submitted(**PLAN)
    assert initiative.requested_amount_cents == 120_000
    assert initiative.budgeted_cents == 120_000


def test_a_type_needing_co_initiators_refuses_a_draft_without_them() -> None:
    initiative = draft()
    with pytest.raises(RuleViolation, match="at least 2 co-initiators"):
        initiative.submit_draft(kind=kind(min_co_initiators=2), by="p-1", now=NOW)
    initiative.edit_draft(by="p-1", changes={"co_initiators": ["p-2", "p-3"]}, now=NOW)
    initiative.submit_draft(kind=kind(min_co_initiators=2), by="p-1", now=NOW)
    assert initiative.status is Status.IN_REVIEW


def test_only_initiators_edit_their_draft_and_only_while_it_is_a_draft() -> None:
    initiative = draft(co_initiators=["p-2"])
    with pytest.raises(NotAllowedForCaller):
        initiative.edit_draft(by="stranger", changes={"problem": "x"}, now=NOW)
    initiative.edit_draft(by="p-2", changes={"problem": "Geen bankjes."}, now=NOW)
    assert initiative.problem == "Geen bankjes."
    initiative.submit_draft(kind=kind(), by="p-1", now=NOW)
    with pytest.raises(InvalidTransition) as refused:
        initiative.edit_draft(by="p-1", changes={"problem": "y"}, now=NOW)
    assert refused.value.current == "in_review"
    assert "complete_advice" in refused.value.allowed and "edit" not in refused.value.allowed


def test_support_counts_each_resident_once_with_progress_and_review_at_the_threshold() -> None:
    initiative = submitted(threshold=6)
    initiative.pending_events.clear()
    initiative.support("r-1", now=NOW)
    with pytest.raises(SupportConflict):
        initiative.support("r-1", now=NOW)
    initiative.support("r-2", now=NOW)  # 2/6 = 33%
    initiative.support("r-3", now=NOW)
    initiative.withdraw_support("r-3", now=NOW)
    initiative.support("r-3", now=NOW)
    initiative.support("r-4", now=NOW)  # 4/6 = 66%
    initiative.support("r-5", now=NOW)
    assert initiative.status is Status.COLLECTING_SUPPORT
    initiative.support("r-6", now=NOW)
    assert initiative.status is Status.IN_REVIEW
    assert initiative.support_count == 6
    progress = [
        e.percentage for e in initiative.pending_events if isinstance(e, events.SupportProgress)
    ]
    assert progress == [33, 66]
    assert sum(isinstance(e, events.ReadyForReview) for e in initiative.pending_events) == 1


def test_support_can_be_withdrawn_until_the_decision_but_not_after() -> None:
    initiative = submitted(threshold=0)
    initiative.support("r-1", now=NOW)
    initiative.withdraw_support("r-1", now=NOW)
    with pytest.raises(SupportConflict):
        initiative.withdraw_support("r-1", now=NOW)
    initiative.support("r-1", now=NOW)
    initiative.mark_ready_for_decision("round-1", ["positive"], NOW)
    initiative.decide(approve=True, reasons="", conditions=[], decided_by="b", now=NOW)
    with pytest.raises(InvalidTransition):
        initiative.withdraw_support("r-1", now=NOW)
    with pytest.raises(InvalidTransition):
        initiative.support("r-2", now=NOW)


def test_the_support_window_ending_expires_an_initiative_short_of_support() -> None:
    initiative = submitted(threshold=3)
    initiative.support("r-1", now=NOW)
    initiative.support_window_ended(NOW)
    assert initiative.status is Status.EXPIRED
    assert isinstance(initiative.pending_events[-1], events.Expired)


def test_the_support_window_ending_after_the_threshold_changes_nothing() -> None:
    initiative = submitted(threshold=1)
    initiative.support("r-1", now=NOW)
    initiative.support_window_ended(NOW)
    assert initiative.status is Status.IN_REVIEW


def test_a_rejection_must_state_reasons() -> None:
    initiative = submitted()
    initiative.mark_ready_for_decision("round-1", ["positive"], NOW)
    with pytest.raises(RuleViolation, match="reasons"):
        initiative.decide(approve=False, reasons="  ", conditions=[], decided_by="b", now=NOW)


def test_a_rejection_must_answer_every_advice_received() -> None:
    initiative = submitted()
    advice = [
        Advice(council_id="c-1", position="positive", motivation="Goed."),
        Advice(council_id="c-2", position="negative", motivation="Te duur."),
    ]
    initiative.mark_ready_for_decision("round-1", ["positive", "negative"], NOW, advice=advice)
    with pytest.raises(RuleViolation, match="c-1"):
        initiative.decide(
            approve=False,
            reasons="Te duur.",
            conditions=[],
            decided_by="b",
            now=NOW,
            advice_responses={"c-2": "Eens."},
        )
    initiative.decide(
        approve=False,
        reasons="Te duur.",
        conditions=[],
        decided_by="b",
        now=NOW,
        advice_responses={"c-1": "Gewogen, maar te duur.", "c-2": "Eens."},
    )
    assert initiative.status is Status.REJECTED
    assert initiative.advice_responses["c-1"] == "Gewogen, maar te duur."


def test_conditions_belong_to_approvals() -> None:
    initiative = submitted()
    initiative.mark_ready_for_decision("round-1", ["negative"], NOW)
    with pytest.raises(RuleViolation, match="conditions"):
        initiative.decide(
            approve=False, reasons="Past niet.", conditions=["x"], decided_by="b", now=NOW
        )


def test_deciding_before_the_advice_round_completed_is_refused_with_the_actions_allowed() -> None:
    initiative = submitted()
    with pytest.raises(InvalidTransition, match="in_review, not ready_for_decision") as refused:
        initiative.decide(approve=True, reasons="", conditions=[], decided_by="b", now=NOW)
    assert refused.value.current == "in_review"
    assert set(refused.value.allowed) == {
        "support",
        "withdraw_support",
        "withdraw",
        "complete_advice",
    }


def test_advice_given_is_part_of_the_history() -> None:
    initiative = submitted()
    initiative.record_advice_given(
        council_id="c-1",
        position="conditional",
        motivation="Alleen met de buren.",
        conditions=["Overleg"],
        given_by="member-1",
        now=NOW,
    )
    assert initiative.history[-1].kind == "advice"
    assert initiative.advice[0].conditions == ["Overleg"]


def test_the_history_records_every_step_with_its_reason() -> None:
    initiative = decided()
    initiative.record_funding(funded=True, note="reserved", now=NOW)
    assert [h.status for h in initiative.history] == [
        Status.SUBMITTED,
        Status.IN_REVIEW,
        Status.READY_FOR_DECISION,
        Status.APPROVED,
        Status.FUNDED,
    ]
    assert initiative.history[3].note == "Ja, tenzij: geen bezwaren."
    assert initiative.history[3].actor == "b"


def test_funding_is_recorded_only_for_approved_initiatives() -> None:
    initiative = submitted()
    with pytest.raises(InvalidTransition):
        initiative.record_funding(funded=True, note="", now=NOW)


def test_the_whole_lifecycle_from_draft_to_closed_and_a_follow_up_that_links_back() -> None:
    initiative = draft(**PLAN)
    initiative.submit_draft(kind=kind(threshold=1), by="p-1", now=NOW)
    initiative.support("r-1", now=NOW)
    initiative.mark_ready_for_decision("round-1", ["positive"], NOW)
    initiative.decide(approve=True, reasons="Ja.", conditions=["Overleg"], decided_by="b", now=NOW)
    initiative.record_funding(funded=False, note="short", now=NOW)
    initiative.record_funding(funded=True, note="reserved", now=NOW)
    initiative.record_disbursement(120_000, "paid", NOW)
    initiative.start(by="p-1", now=NOW)
    initiative.update_progress(by="p-1", text="Besteld", milestone_id="m1", now=NOW)
    initiative.report_results(
        by="p-1", summary="Drie bankjes staan er.", measured={"i1": 3}, now=NOW
    )
    initiative.account_for(by="p-1", spent_cents=118_500, text="Iets goedkoper.", now=NOW)
    initiative.close(by="official", reason="Verantwoord.", now=NOW)
    transitions = [h.status for h in initiative.history if h.kind == "transition"]
    assert transitions == [
        Status.DRAFT,
        Status.SUBMITTED,
        Status.COLLECTING_SUPPORT,
        Status.IN_REVIEW,
        Status.READY_FOR_DECISION,
        Status.APPROVED,
        Status.AWAITING_FUNDS,
        Status.FUNDED,
        Status.IN_PROGRESS,
        Status.RESULTS_REPORTED,
        Status.ACCOUNTED,
        Status.CLOSED,
    ]
    pairs = zip([None, *transitions], transitions, strict=False)
    assert all(pair in TRANSITIONS for pair in pairs)
    assert initiative.indicators[0].measured == 3
    assert initiative.milestones[0].done_at == NOW
    assert initiative.account is not None and initiative.account.spent_cents == 118_500
    assert initiative.disbursed_cents == 120_000

    follow_up = Initiative.draft(
        initiative_id="d-2",
        kind=kind(),
        title="Meer bankjes",
        description="Ook bij het plein.",
        neighbourhood="BU03620001",
        theme="groen",
        requested_amount_cents=0,
        initiator_id="p-1",
        now=NOW,
        predecessor=initiative,
    )
    assert follow_up.predecessor_id == "d-1"
    assert initiative.successor_ids == ["d-2"]


def test_only_a_closed_initiative_can_be_followed_up() -> None:
    with pytest.raises(InvalidTransition) as refused:
        Initiative.draft(
            initiative_id="d-2",
            kind=kind(),
            title="x",
            description="y" * 10,
            neighbourhood="BU03620001",
            theme="groen",
            requested_amount_cents=0,
            initiator_id="p-1",
            now=NOW,
            predecessor=submitted(),
        )
    assert refused.value.current == "in_review"


def test_starting_needs_an_action_plan_with_milestones() -> None:
    initiative = decided()
    initiative.record_funding(funded=True, note="reserved", now=NOW)
    with pytest.raises(RuleViolation, match="milestone"):
        initiative.start(by="p-1", now=NOW)


def test_results_are_measured_against_every_indicator() -> None:
    initiative = carried_out()
    with pytest.raises(RuleViolation, match="no measured value for indicator"):
        initiative.report_results(by="p-1", summary="Klaar", measured={}, now=NOW)
    with pytest.raises(RuleViolation, match="unknown indicator"):
        initiative.report_results(by="p-1", summary="Klaar", measured={"i1": 1, "x": 2}, now=NOW)


def test_withdrawal_by_the_initiators_before_funds_are_reserved() -> None:
    initiative = submitted(threshold=5)
    with pytest.raises(NotAllowedForCaller):
        initiative.withdraw(by="r-9", reason="Geen zin", now=NOW)
    initiative.withdraw(by="p-1", reason="We doen het anders.", now=NOW)
    assert initiative.status is Status.WITHDRAWN
    funded = decided()
    funded.record_funding(funded=True, note="reserved", now=NOW)
    with pytest.raises(InvalidTransition):
        funded.withdraw(by="p-1", reason="Toch niet", now=NOW)


def test_a_passed_decision_deadline_is_news_only_while_undecided() -> None:
    initiative = submitted()
    initiative.decision_deadline_passed(NOW)
    assert isinstance(initiative.pending_events[-1], events.DecisionOverdue)
    done = decided()
    done.pending_events.clear()
    done.decision_deadline_passed(NOW)
    assert done.pending_events == []


def test_an_overdue_milestone_is_reported_once_and_not_when_done() -> None:
    initiative = carried_out()
    initiative.update_progress(by="p-1", text="Besteld", milestone_id="m1", now=NOW)
    initiative.pending_events.clear()
    initiative.milestone_due("m1", NOW)
    initiative.milestone_due("m2", NOW)
    initiative.milestone_due("m2", NOW)
    assert [type(e) for e in initiative.pending_events] == [events.MilestoneOverdue]


def test_decision_deadlines_count_working_days_in_amsterdam() -> None:
    # Friday 24 April 2026; Monday 27 April is King's Day.
    friday = datetime(2026, 4, 24, 15, 0, tzinfo=AMSTERDAM)
    due = deadline_after(friday, 2, working_days=True).astimezone(AMSTERDAM)
    assert due.date() == date(2026, 4, 29)
    assert (due.hour, due.minute) == (23, 59)
    calendar = deadline_after(friday, 2, working_days=False).astimezone(AMSTERDAM)
    assert calendar.date() == date(2026, 4, 26)


def test_a_working_days_type_sets_its_support_window_in_working_days() -> None:
    friday = datetime(2026, 4, 24, 13, 0, tzinfo=UTC)
    initiative = Initiative.submit(
        initiative_id="i-2",
        kind=kind(threshold=5, working_days=True, support_window_days=1),
        title="x",
        description="y" * 10,
        neighbourhood="BU03620001",
        theme="groen",
        requested_amount_cents=0,
        initiator_id="p-1",
        now=friday,
    )
    assert initiative.support_deadline is not None
    assert initiative.support_deadline.astimezone(AMSTERDAM).date() == date(2026, 4, 28)
    assert initiative.support_deadline - friday > timedelta(days=3)


def report() -> Report:
    return Report.receive(
        report_id="rep-1",
        now=NOW,
        municipality="GM0362",
        neighbourhood="BU03620001",
        category="groen",
        description="Kapotte bank bij de vijver.",
        latitude=52.3,
        longitude=4.86,
        reporter_id="r-1",
    )


def test_a_report_is_triaged_once_with_a_reason() -> None:
    received = report()
    with pytest.raises(RuleViolation, match="forwarded"):
        received.triage(outcome=ReportOutcome.FORWARDED, reason="Groenbeheer", by="o", now=NOW)
    received.triage(
        outcome=ReportOutcome.FORWARDED,
        reason="Is voor groenbeheer.",
        by="o",
        now=NOW,
        forwarded_to="Groenbeheer",
    )
    assert received.status is ReportStatus.FORWARDED
    with pytest.raises(InvalidTransition):
        received.triage(outcome=ReportOutcome.CLOSED, reason="Dubbel", by="o", now=NOW)
