"""Random command sequences never reach an invalid state and never count a resident twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.initiatives.domain import events
from services.initiatives.domain.exceptions import InitiativeError
from services.initiatives.domain.model import (
    ALLOWED,
    TRANSITIONS,
    Action,
    FundingSource,
    Initiative,
    InitiativeType,
    Status,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
RESIDENTS = [f"r-{n}" for n in range(8)]
INITIATORS = ["p-1", "p-2", "stranger"]

resident = st.sampled_from(RESIDENTS)
command = st.one_of(
    st.tuples(st.just("support"), resident),
    st.tuples(st.just("withdraw_support"), resident),
    st.tuples(st.just("paper"), st.lists(resident, max_size=5)),
    st.tuples(st.just("window_ended"), st.none()),
    st.tuples(st.just("advice_round"), st.none()),
    st.tuples(st.just("decide"), st.booleans()),
    st.tuples(st.just("funding"), st.booleans()),
    st.tuples(st.just("withdraw"), st.sampled_from(INITIATORS)),
    st.tuples(st.just("decision_deadline"), st.none()),
    st.tuples(st.just("close"), st.none()),
)


def apply(initiative: Initiative, name: str, argument: Any) -> None:
    match name:
        case "support":
            initiative.support(argument, now=NOW)
        case "withdraw_support":
            initiative.withdraw_support(argument, now=NOW)
        case "paper":
            for person in argument:
                if person not in initiative.supporters:
                    initiative.support(person, now=NOW, channel="paper")
        case "window_ended":
            initiative.support_window_ended(NOW)
        case "advice_round":
            initiative.mark_ready_for_decision("round-1", ["positive"], NOW)
        case "decide":
            initiative.decide(
                approve=argument, reasons="Omdat het zo is.", conditions=[], decided_by="b", now=NOW
            )
        case "funding":
            initiative.record_funding(funded=argument, note="budget", now=NOW)
        case "withdraw":
            initiative.withdraw(by=argument, reason="Anders besloten.", now=NOW)
        case "decision_deadline":
            initiative.decision_deadline_passed(NOW)
        case "close":
            initiative.close(by="official", reason="Klaar.", now=NOW)


@settings(max_examples=300, deadline=None)
@given(threshold=st.integers(min_value=0, max_value=6), commands=st.lists(command, max_size=40))
def test_random_commands_keep_the_initiative_valid_and_count_every_resident_once(
    threshold: int, commands: list[tuple[str, Any]]
) -> None:
    kind = InitiativeType(
        municipality="GM0362",
        code="t",
        name="T",
        support_threshold=threshold,
        max_amount_cents=1_000_000,
        funding_source=FundingSource.INITIATIVES_FUND,
    )
    initiative = Initiative.submit(
        initiative_id="i-1",
        kind=kind,
        title="Bankjes",
        description="Drie bankjes.",
        neighbourhood="BU03620001",
        theme="groen",
        requested_amount_cents=10_000,
        initiator_id="p-1",
        now=NOW,
    )
    net_supports: dict[str, int] = {}
    for name, argument in commands:
        before = initiative.model_copy(deep=True)
        status_before = initiative.status
        try:
            apply(initiative, name, argument)
        except InitiativeError:
            # A refused command changes nothing.
            assert initiative.status is status_before
            assert initiative.support_count == before.support_count
            assert initiative.supporters == before.supporters
            continue
        for event in initiative.pending_events[len(before.pending_events) :]:
            if isinstance(event, events.SupportRegistered):
                net_supports[event.supporter_id] = net_supports.get(event.supporter_id, 0) + 1
            elif isinstance(event, events.SupportWithdrawn):
                net_supports[event.supporter_id] = net_supports.get(event.supporter_id, 0) - 1

        # Never counted twice: the events per resident net to 0 or 1 and match the count.
        assert all(net in (0, 1) for net in net_supports.values())
        assert {p for p, net in net_supports.items() if net == 1} == initiative.supporters
        assert initiative.support_count == len(initiative.supporters)
        assert initiative.support_count <= len(RESIDENTS)

    # Every state change followed the state machine, and the state allows some action or is final.
    transitions = [h.status for h in initiative.history if h.kind == "transition"]
    for pair in zip([None, *transitions], transitions, strict=False):
        assert pair in TRANSITIONS, pair
    assert initiative.status is transitions[-1]
    ready = [e for e in initiative.pending_events if isinstance(e, events.ReadyForReview)]
    assert len(ready) <= 1
    if initiative.status is Status.COLLECTING_SUPPORT:
        assert initiative.support_count < threshold
    progress = [
        e.percentage for e in initiative.pending_events if isinstance(e, events.SupportProgress)
    ]
    assert len(progress) == len(set(progress))
    if initiative.status in {Status.WITHDRAWN, Status.EXPIRED}:
        assert initiative.actions_allowed() == []
    if initiative.status not in ALLOWED[Action.SUPPORT]:
        assert Action.SUPPORT.value not in initiative.actions_allowed()
