"""Who is told what, and the rules of a message's delivery: pure domain, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.domain import commands, rules
from services.notifications.domain.model import (
    Cause,
    Channel,
    Contact,
    CouncilMember,
    InitiativeView,
    Language,
    Message,
    MessageStatus,
    Notice,
    NoticeKind,
    RetryPolicy,
    idempotency_key,
    message_id,
)

NOW = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
CAUSE = Cause(
    source="urn:nld:gemeente-GM0362:systeem:inspraak-advisory",
    event_id="6f1c9a1e-0000-4000-8000-000000000001",
    event_type="nl.inspraak.advisory.advice-requested",
    correlation_id="corr-1",
)


def member(member_id: str, council_id: str = "council-1", role: str = "member") -> CouncilMember:
    return CouncilMember(
        municipality="GM0362",
        council_id=council_id,
        member_id=member_id,
        role=role,
        council_kind="neighbourhood_council",
    )


def advice_requested(council_id: str = "council-1") -> commands.NotifyAdviceRequested:
    return commands.NotifyAdviceRequested(
        cause=CAUSE,
        request_id="req-1",
        round_id="round-1",
        council_id=council_id,
        council_kind="neighbourhood_council",
        subject_kind="initiative",
        subject_id="init-1",
        title="Bankjes in het park",
        deadline=NOW + timedelta(days=14),
    )


def decided_view(decision: str | None = "approved") -> InitiativeView:
    return InitiativeView(
        municipality="GM0362",
        initiative_id="init-1",
        initiator_id="resident-7",
        title="Bankjes in het park",
        decision=decision,
        reasons="Past bij het buurtplan." if decision else None,
        conditions=["Overleg met de buren"] if decision == "approved" else [],
        decided_at=NOW if decision else None,
    )


def test_advice_request_tells_every_current_member_of_that_council_once() -> None:
    members = [
        member("m-2", role="chair"),
        member("m-1"),
        member("m-1"),
        member("m-9", council_id="council-2"),
    ]

    notices = rules.advice_requested(advice_requested(), members)

    assert [n.recipient_id for n in notices] == ["m-1", "m-2"]
    assert {n.kind for n in notices} == {NoticeKind.ADVICE_REQUESTED}
    chair = notices[1]
    assert chair.facts["member_role"] == "chair"
    assert chair.facts["deadline"] == NOW + timedelta(days=14)
    assert chair.facts["title"] == "Bankjes in het park"


def test_advice_request_to_a_council_without_known_members_tells_nobody() -> None:
    assert rules.advice_requested(advice_requested(), []) == []


def test_budget_notices_wait_until_the_decision_is_known() -> None:
    assert rules.needs_decision_first(None)
    assert rules.needs_decision_first(decided_view(decision=None))
    assert not rules.needs_decision_first(decided_view("approved"))


def test_budget_allocated_tells_the_initiator_the_decision_and_the_amount() -> None:
    command = commands.NotifyBudgetAllocated(
        cause=CAUSE, initiative_id="init-1", budget_id="budget-1", amount_cents=125_000
    )

    [notice] = rules.budget_allocated(command, decided_view())

    assert notice.recipient_id == "resident-7"
    assert notice.kind is NoticeKind.BUDGET_ALLOCATED
    assert notice.facts["amount_cents"] == 125_000
    assert notice.facts["reasons"] == "Past bij het buurtplan."
    assert notice.facts["conditions"] == ["Overleg met de buren"]


def test_allocation_rejected_tells_the_initiator_the_shortfall() -> None:
    command = commands.NotifyAllocationRejected(
        cause=CAUSE,
        initiative_id="init-1",
        requested_cents=125_000,
        available_cents=25_000,
        shortfall_cents=100_000,
        fund_could_cover=False,
        reason="insufficient funds",
    )

    [notice] = rules.allocation_rejected(command, decided_view())

    assert notice.recipient_id == "resident-7"
    assert notice.facts["shortfall_cents"] == 100_000


@pytest.mark.parametrize(("decision", "told"), [("rejected", True), ("approved", False)])
def test_only_a_rejection_is_told_at_decision_time(decision: str, told: bool) -> None:
    command = commands.NotifyInitiativeDecided(
        cause=CAUSE,
        initiative_id="init-1",
        initiator_id="resident-7",
        title="Bankjes",
        decision=decision,
        reasons="Geen plek in het park.",
    )

    notices = rules.initiative_decided(command)

    assert bool(notices) is told
    if told:
        assert notices[0].recipient_id == "resident-7"
        assert notices[0].facts["reasons"] == "Geen plek in het park."


def test_idempotency_key_is_deterministic_per_event_recipient_and_channel() -> None:
    key = idempotency_key(CAUSE, "m-1", Channel.EMAIL)

    assert key == idempotency_key(CAUSE, "m-1", Channel.EMAIL)
    assert key != idempotency_key(CAUSE, "m-2", Channel.EMAIL)
    assert key != idempotency_key(
        CAUSE.model_copy(update={"source": "urn:other"}), "m-1", Channel.EMAIL
    )
    assert key != idempotency_key(
        CAUSE.model_copy(update={"event_id": "other"}), "m-1", Channel.EMAIL
    )
    assert message_id(key, "inspraak.example") == f"<{key}@inspraak.example>"


def compose(contact: Contact | None) -> Message:
    notice = Notice(kind=NoticeKind.INITIATIVE_REJECTED, recipient_id="resident-7")
    return Message.compose(
        message_uuid="00000000-0000-4000-8000-000000000001",
        municipality="GM0362",
        notice=notice,
        cause=CAUSE,
        channel=Channel.EMAIL,
        contact=contact,
        subject="s",
        body="b",
        now=NOW,
    )


def test_a_recipient_without_contact_details_is_kept_as_undeliverable() -> None:
    message = compose(None)

    assert message.status is MessageStatus.UNDELIVERABLE
    assert message.next_attempt_at is None
    assert message.last_error == "no contact details for this person"


def test_a_recipient_with_contact_details_gets_a_pending_message_in_their_language() -> None:
    contact = Contact(
        municipality="GM0362",
        person_id="resident-7",
        email="r@example.org",
        language=Language.ENGLISH,
        updated_at=NOW,
    )

    message = compose(contact)

    assert message.status is MessageStatus.PENDING
    assert message.next_attempt_at == NOW
    assert message.language is Language.ENGLISH
    assert message.idempotency_key == idempotency_key(CAUSE, "resident-7", Channel.EMAIL)


def test_retries_back_off_exponentially_up_to_a_maximum_then_give_up() -> None:
    policy = RetryPolicy(max_attempts=5, initial_s=30, maximum_s=100)

    delays = [policy.next_attempt(n, permanent=False, now=NOW) for n in range(1, 6)]

    assert [(d - NOW).total_seconds() if d else None for d in delays] == [30, 60, 100, 100, None]


def test_a_permanent_failure_is_not_retried() -> None:
    assert RetryPolicy().next_attempt(1, permanent=True, now=NOW) is None
