"""The initiative's lifecycle rules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.initiatives.domain import events
from services.initiatives.domain.exceptions import InvalidTransition
from services.initiatives.domain.model import FundingSource, Initiative, InitiativeType, Status

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def kind(threshold: int = 0, maximum: int = 500_000) -> InitiativeType:
    return InitiativeType(
        municipality="GM0362",
        code="buurt-demo",
        name="Demo",
        support_threshold=threshold,
        max_amount_cents=maximum,
        funding_source=FundingSource.NEIGHBOURHOOD_BUDGET,
    )


def submitted(threshold: int = 0, amount: int = 100_000) -> Initiative:
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
    )


def test_a_type_without_support_threshold_goes_to_review_at_once() -> None:
    initiative = submitted(threshold=0)
    assert initiative.status is Status.IN_REVIEW
    assert [type(e) for e in initiative.pending_events] == [events.Submitted, events.ReadyForReview]


def test_a_type_with_a_threshold_collects_support_first() -> None:
    initiative = submitted(threshold=25)
    assert initiative.status is Status.COLLECTING_SUPPORT
    assert [type(e) for e in initiative.pending_events] == [events.Submitted]


def test_more_than_the_type_allows_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="exceeds the maximum"):
        submitted(amount=600_000)


def test_a_rejection_must_state_reasons() -> None:
    initiative = submitted()
    initiative.mark_ready_for_decision("round-1", ["positive"], NOW)
    with pytest.raises(InvalidTransition, match="reasons"):
        initiative.decide(approve=False, reasons="  ", conditions=[], decided_by="b", now=NOW)


def test_conditions_belong_to_approvals() -> None:
    initiative = submitted()
    initiative.mark_ready_for_decision("round-1", ["negative"], NOW)
    with pytest.raises(InvalidTransition, match="conditions"):
        initiative.decide(
            approve=False, reasons="Past niet.", conditions=["x"], decided_by="b", now=NOW
        )


def test_deciding_before_the_advice_round_completed_is_refused() -> None:
    initiative = submitted()
    with pytest.raises(InvalidTransition, match="in_review, not ready_for_decision"):
        initiative.decide(approve=True, reasons="", conditions=[], decided_by="b", now=NOW)


def test_the_history_records_every_step_with_its_reason() -> None:
    initiative = submitted()
    initiative.mark_ready_for_decision("round-1", ["positive"], NOW)
    initiative.decide(
        approve=True,
        reasons="Ja, tenzij: geen bezwaren.",
        conditions=["Overleg"],
        decided_by="b",
        now=NOW,
    )
    initiative.record_funding(funded=True, note="reserved", now=NOW)
    assert [h.status for h in initiative.history] == [
        Status.SUBMITTED,
        Status.IN_REVIEW,
        Status.READY_FOR_DECISION,
        Status.APPROVED,
        Status.FUNDED,
    ]
    assert initiative.history[3].note == "Ja, tenzij: geen bezwaren."


def test_funding_is_recorded_only_for_approved_initiatives() -> None:
    initiative = submitted()
    with pytest.raises(InvalidTransition):
        initiative.record_funding(funded=True, note="", now=NOW)
