"""Advisory rules with a controllable clock: routing rules, reminders, extensions, quorum."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.advisory.domain.deadlines import advice_deadline, reminder_moments, term_ends_at
from services.advisory.domain.exceptions import NoDecision, NotAllowed, NotAMember
from services.advisory.domain.model import (
    AdoptionRule,
    AdviceRequest,
    AdviceRound,
    Council,
    CouncilKind,
    Extension,
    MemberRole,
    Position,
    RequestStatus,
    RoundStatus,
    SubjectFacts,
    Vote,
)
from services.advisory.domain.routing import Obligation, RoutingRule, route

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _council(
    council_id: str, kind: CouncilKind = CouncilKind.NEIGHBOURHOOD_COUNCIL, **extra: object
) -> Council:
    return Council.model_validate(
        {
            "id": council_id,
            "municipality": "GM0362",
            "name": council_id,
            "kind": kind,
            "advice_days": 10,
            **extra,
        }
    )


def test_a_district_covers_all_its_neighbourhoods() -> None:
    council = _council("w", districts=["WK036201"])
    assert council.covers("BU03620104", "groen") and not council.covers("BU03620204", "groen")


def test_routing_rules_decide_must_and_may_and_fall_back_to_area_and_theme() -> None:
    councils = [
        _council("wijk", neighbourhoods=["BU03620001"]),
        _council("jong", CouncilKind.YOUTH_COUNCIL, themes=["jeugd"]),
        _council("breed", CouncilKind.BROAD_ADVISORY_COMMITTEE),
    ]
    facts = SubjectFacts(
        neighbourhood="BU03620001", theme="jeugd", initiative_type="buurt", amount_cents=3_000_000
    )
    assert [(c.id, r) for c, r in route(facts, [], councils)] == [("wijk", True), ("jong", True)]

    def rule(council: str, obligation: Obligation = Obligation.MUST, **when: object) -> RoutingRule:
        return RoutingRule.model_validate(
            {
                "id": council + str(when),
                "municipality": "GM0362",
                "council_id": council,
                "obligation": obligation,
                **when,
            }
        )

    rules = [
        rule("breed", min_amount_cents=2_500_000),
        rule("breed", Obligation.MAY, initiative_types=["buurt"]),
        rule("jong", Obligation.MAY, themes=["jeugd"]),
        rule("wijk", districts=["WK036299"]),
    ]
    assert [(c.id, r) for c, r in route(facts, rules, councils)] == [
        ("jong", False),
        ("breed", True),
    ]
    small = facts.model_copy(update={"amount_cents": 100, "theme": "groen"})
    assert [(c.id, r) for c, r in route(small, rules, councils)] == [("breed", False)]
    assert route(small.model_copy(update={"initiative_type": "x"}), rules, councils) == []


def test_reminders_fall_at_nine_in_amsterdam_and_skip_moments_already_past() -> None:
    deadline = advice_deadline(NOW, 10, working_days=True)  # Monday 7 December 2026
    assert deadline == datetime(2026, 12, 7, 22, 59, 59, tzinfo=UTC)
    assert reminder_moments(deadline, [1, 3], after=NOW) == [
        (3, datetime(2026, 12, 4, 8, 0, tzinfo=UTC)),
        (1, datetime(2026, 12, 6, 8, 0, tzinfo=UTC)),
    ]
    late = datetime(2026, 12, 5, tzinfo=UTC)
    assert reminder_moments(deadline, [1, 3], after=late) == [
        (1, datetime(2026, 12, 6, 8, 0, tzinfo=UTC))
    ]
    assert term_ends_at(date(2026, 6, 30)) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)


def _round(*requests: AdviceRequest) -> AdviceRound:
    return AdviceRound(
        id="r",
        municipality="GM0362",
        subject_kind="initiative",
        subject_id="i",
        title="Bankjes",
        status=RoundStatus.OPEN,
        requests=list(requests),
    )


def _request(council: str, required: bool = True) -> AdviceRequest:
    return AdviceRequest(
        id=f"q-{council}",
        council_id=council,
        council_kind=CouncilKind.NEIGHBOURHOOD_COUNCIL,
        deadline=NOW,
        required=required,
    )


def test_overdue_required_and_lapsed_optional_councils() -> None:
    advice_round = _round(_request("a"), _request("b", required=False))
    assert advice_round.pass_deadline("q-b", NOW) is RequestStatus.LAPSED
    assert advice_round.pass_deadline("q-a", NOW) is RequestStatus.OVERDUE
    assert advice_round.pass_deadline("q-a", NOW) is None, "a deadline passes once"
    assert not advice_round.complete_if_settled(NOW), "an overdue council is waited for"
    advice_round.close(closed_by="ambtenaar", reason="Geen reactie.", at=NOW)
    assert advice_round.status is RoundStatus.COMPLETED
    assert advice_round.requests[0].status is RequestStatus.CLOSED


def test_an_extension_must_move_the_deadline_later_and_reopens_the_request() -> None:
    advice_round = _round(_request("a"))
    advice_round.pass_deadline("q-a", NOW)
    later = datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(NotAllowed):
        advice_round.extend(
            "q-a",
            Extension(
                previous_deadline=NOW, deadline=NOW, reason="x", extended_by="amb", extended_at=NOW
            ),
        )
    request = advice_round.extend(
        "q-a",
        Extension(
            previous_deadline=NOW, deadline=later, reason="x", extended_by="amb", extended_at=NOW
        ),
    )
    assert request.status is RequestStatus.OPEN and request.deadline == later


def _voting_council() -> Council:
    council = _council("a", adoption=AdoptionRule.VOTE, quorum_percent=75)
    council.appoint("chair", MemberRole.CHAIR)
    council.appoint("m1", MemberRole.MEMBER)
    council.appoint("m2", MemberRole.MEMBER)
    council.appoint("m3", MemberRole.MEMBER, term_end=date(2026, 1, 1))
    return council


def _vote(who: str, position: Position) -> Vote:
    return Vote(
        member_id=who, position=position, motivation=f"{who} vindt het {position}", cast_at=NOW
    )


def test_a_vote_is_adopted_once_quorum_is_met_and_the_outcome_cannot_change() -> None:
    council, advice_round = _voting_council(), _round(_request("a"))
    with pytest.raises(NotAMember):
        advice_round.cast_vote("q-a", council, _vote("m3", Position.NEGATIVE))
    assert advice_round.cast_vote("q-a", council, _vote("m1", Position.POSITIVE)) is None
    assert advice_round.cast_vote("q-a", council, _vote("m1", Position.NEGATIVE)) is None
    assert len(advice_round.requests[0].votes) == 1, "a second vote replaces the first"
    assert advice_round.cast_vote("q-a", council, _vote("m2", Position.NEGATIVE)) is None
    adopted = advice_round.cast_vote("q-a", council, _vote("chair", Position.POSITIVE))
    assert adopted is not None and adopted.position is Position.NEGATIVE
    assert adopted.votes_for == 2 and adopted.minority_positions[0].position is Position.POSITIVE


def test_a_tie_is_broken_by_the_chair_and_a_vote_without_quorum_cannot_close() -> None:
    council, advice_round = _voting_council(), _round(_request("a"))
    council.quorum_percent = 60
    advice_round.cast_vote("q-a", council, _vote("m1", Position.NEGATIVE))
    with pytest.raises(NoDecision):
        advice_round.close_vote("q-a", council, closed_by="chair", at=NOW)
    advice_round.cast_vote("q-a", council, _vote("chair", Position.CONDITIONAL))
    advice = advice_round.close_vote("q-a", council, closed_by="chair", at=NOW)
    assert advice.position is Position.CONDITIONAL
