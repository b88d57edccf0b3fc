"""Who is told what, and the rules of a message's delivery: pure domain, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.notifications.domain import commands, rules
from services.notifications.domain.model import (
    Audience,
    Cause,
    Channel,
    Contact,
    CouncilMember,
    DigestSchedule,
    Frequency,
    InitiativeView,
    Language,
    Message,
    MessageStatus,
    Notice,
    NoticeKind,
    Preferences,
    QuietHours,
    RetryPolicy,
    WebhookSubscription,
    delivery_id,
    idempotency_key,
    message_id,
    push_schedule,
    signature,
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


def rule(municipality: str = "*", **overrides: object) -> rules.Rule:
    values: dict[str, object] = {
        "municipality": municipality,
        "event_type": rules.INITIATIVE_DECIDED,
        "audience": Audience.SUPPORTERS,
        "notice": NoticeKind.SUPPORTED_INITIATIVE_DECIDED,
    }
    values.update(overrides)
    return rules.Rule.model_validate(values)


def test_the_defaults_tell_each_audience_of_the_workflow() -> None:
    told = {(r.event_type, r.audience, r.notice) for r in rules.DEFAULT_RULES}
    assert (rules.ADVICE_REQUESTED, Audience.COUNCIL_MEMBERS, NoticeKind.ADVICE_REQUESTED) in told
    assert (rules.ADVICE_OVERDUE, Audience.COUNCIL_MEMBERS, NoticeKind.ADVICE_OVERDUE) in told
    assert (
        rules.ADVICE_ROUND_COMPLETED,
        Audience.COUNCIL_OFFICERS,
        NoticeKind.ADVICE_ESCALATED,
    ) in told
    assert (
        rules.INITIATIVE_READY_FOR_DECISION,
        Audience.BUDGET_HOLDERS,
        NoticeKind.READY_FOR_DECISION,
    ) in told
    assert (
        rules.INITIATIVE_DECIDED,
        Audience.SUPPORTERS,
        NoticeKind.SUPPORTED_INITIATIVE_DECIDED,
    ) in told
    assert all(r.municipality == rules.ALL_MUNICIPALITIES for r in rules.DEFAULT_RULES)


def test_a_municipality_overrides_a_default_and_other_municipalities_keep_it() -> None:
    stored = [rule(), rule("GM0362", enabled=False)]

    assert rules.effective_rules(stored, "GM0362", rules.INITIATIVE_DECIDED) == []
    assert rules.effective_rules(stored, "GM0363", rules.INITIATIVE_DECIDED) == [rule()]
    assert rules.effective_rules(stored, "GM0363", rules.ADVICE_REQUESTED) == []


def test_a_municipality_adds_an_audience_the_defaults_do_not_have() -> None:
    extra = rule("GM0362", audience=Audience.BUDGET_HOLDERS)

    found = rules.effective_rules([rule(), extra], "GM0362", rules.INITIATIVE_DECIDED)

    assert {r.audience for r in found} == {Audience.SUPPORTERS, Audience.BUDGET_HOLDERS}


@pytest.mark.parametrize(
    ("facts", "applies"),
    [
        ({"decision": "rejected"}, True),
        ({"decision": "approved"}, False),
        ({}, False),
    ],
)
def test_a_condition_compares_the_events_facts(facts: dict[str, object], applies: bool) -> None:
    rejected_only = rule(condition={"decision": "rejected"})
    assert rejected_only.applies_to(facts) is applies


def test_a_boolean_fact_matches_true_and_false() -> None:
    escalated = rule(condition={"closed_after_escalation": "true"})
    assert escalated.applies_to({"closed_after_escalation": True})
    assert not escalated.applies_to({"closed_after_escalation": False})


def test_budget_notices_wait_until_the_decision_is_known() -> None:
    assert rules.needs_decision_first(None)
    assert rules.needs_decision_first(decided_view(decision=None))
    assert not rules.needs_decision_first(decided_view("approved"))


WINTER_EVENING = datetime(2026, 1, 14, 22, 30, tzinfo=UTC)  # 23:30 in Amsterdam
QUIET = QuietHours(start=time(22, 0), end=time(7, 30))
SCHEDULE = DigestSchedule(hour=8, weekday=0)


def test_quiet_hours_across_midnight_hold_a_message_until_they_end() -> None:
    released = QUIET.release(WINTER_EVENING)
    assert released == datetime(2026, 1, 15, 6, 30, tzinfo=UTC)  # 07:30 Amsterdam
    morning = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    assert QUIET.release(morning) == morning
    early = datetime(2026, 1, 15, 5, 0, tzinfo=UTC)  # 06:00 Amsterdam, still quiet
    assert QUIET.release(early) == released


def test_digests_go_out_at_the_next_daily_or_weekly_run_in_amsterdam_time() -> None:
    wednesday = WINTER_EVENING
    assert SCHEDULE.next_run(Frequency.DAILY, wednesday) == datetime(2026, 1, 15, 7, 0, tzinfo=UTC)
    assert SCHEDULE.next_run(Frequency.WEEKLY, wednesday) == datetime(2026, 1, 19, 7, 0, tzinfo=UTC)
    summer_morning = datetime(2026, 6, 15, 5, 0, tzinfo=UTC)  # Monday 07:00 CEST
    assert SCHEDULE.next_run(Frequency.WEEKLY, summer_morning) == datetime(
        2026, 6, 15, 6, 0, tzinfo=UTC
    )


def prefs(**values: object) -> Preferences:
    return Preferences.model_validate({"municipality": "GM0362", "person_id": "p", **values})


@pytest.mark.parametrize(
    ("preferences", "channel", "expected"),
    [
        (None, Channel.EMAIL, (MessageStatus.PENDING, WINTER_EVENING)),
        (None, Channel.SMS, None),
        (prefs(), Channel.SMS, None),
        (prefs(sms=True), Channel.SMS, (MessageStatus.PENDING, WINTER_EVENING)),
        (prefs(frequencies={"advice": "never"}), Channel.EMAIL, None),
        (
            prefs(frequencies={"advice": "daily"}),
            Channel.EMAIL,
            (MessageStatus.HELD, datetime(2026, 1, 15, 7, 0, tzinfo=UTC)),
        ),
        (prefs(sms=True, frequencies={"advice": "weekly"}), Channel.SMS, None),
        (
            prefs(quiet_hours={"start": "22:00", "end": "07:30"}),
            Channel.EMAIL,
            (MessageStatus.PENDING, datetime(2026, 1, 15, 6, 30, tzinfo=UTC)),
        ),
        (
            prefs(frequencies={"own_initiative": "never"}),
            Channel.EMAIL,
            (MessageStatus.PENDING, WINTER_EVENING),
        ),
    ],
)
def test_preferences_decide_whether_and_when_a_push_message_goes_out(
    preferences: Preferences | None,
    channel: Channel,
    expected: tuple[MessageStatus, datetime] | None,
) -> None:
    plan = push_schedule(
        preferences, NoticeKind.ADVICE_REQUESTED, channel, WINTER_EVENING, SCHEDULE
    )
    assert plan == expected


def subscription(**values: object) -> WebhookSubscription:
    return WebhookSubscription.model_validate(
        {
            "id": "sub-1",
            "municipality": "GM0362",
            "owner_id": "system-1",
            "callback_url": "http://example.org/hook",
            "secret": "s" * 32,
            "created_at": NOW,
            **values,
        }
    )


def test_a_subscription_filters_on_event_type_municipality_and_neighbourhood() -> None:
    decided = rules.INITIATIVE_DECIDED
    everything = subscription()
    assert everything.matches(decided, "GM0362", None)
    assert not everything.matches(decided, "GM0363", None)
    typed = subscription(event_types=[decided])
    assert typed.matches(decided, "GM0362", "BU03620001")
    assert not typed.matches(rules.ADVICE_REQUESTED, "GM0362", "BU03620001")
    local = subscription(neighbourhoods=["BU03620001"])
    assert local.matches(decided, "GM0362", "BU03620001")
    assert not local.matches(decided, "GM0362", "BU03620002")
    assert not local.matches(decided, "GM0362", None)


def test_a_delivery_id_is_deterministic_per_event_and_subscription() -> None:
    first = delivery_id("urn:a", "e-1", "sub-1")
    assert first == delivery_id("urn:a", "e-1", "sub-1")
    others = {delivery_id("urn:b", "e-1", "sub-1"), delivery_id("urn:a", "e-1", "sub-2")}
    assert len({first, *others}) == 3


def test_the_signature_covers_timestamp_and_body() -> None:
    signed = signature("secret-key-of-16+", 1_700_000_000, b'{"a":1}')
    assert signed.startswith("sha256=") and len(signed) == 7 + 64
    assert signed != signature("secret-key-of-16+", 1_700_000_001, b'{"a":1}')
    assert signed != signature("secret-key-of-16+", 1_700_000_000, b'{"a":2}')


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
