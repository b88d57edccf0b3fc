"""Advisory's domain objects -> the public contract's events (the only place they meet)."""

from __future__ import annotations

from services.advisory.domain.model import AdviceRequest, AdviceRound, Council, Member
from shared.contracts import advisory as contract


def member_appointed(council: Council, member: Member) -> contract.CouncilMemberAppointed:
    return contract.CouncilMemberAppointed(
        municipality=council.municipality,
        council_id=council.id,
        member_id=member.person_id,
        role=contract.MemberRole(member.role.value),
        council_kind=contract.CouncilKind(council.kind.value),
    )


def member_left(council: Council, person_id: str) -> contract.CouncilMemberLeft:
    return contract.CouncilMemberLeft(
        municipality=council.municipality, council_id=council.id, member_id=person_id
    )


def _round_fields(advice_round: AdviceRound) -> dict[str, object]:
    return {
        "municipality": advice_round.municipality,
        "round_id": advice_round.id,
        "subject_kind": contract.SubjectKind(advice_round.subject_kind),
        "subject_id": advice_round.subject_id,
    }


def advice_requested(advice_round: AdviceRound, request: AdviceRequest) -> contract.AdviceRequested:
    return contract.AdviceRequested(
        **_round_fields(advice_round),
        request_id=request.id,
        council_id=request.council_id,
        council_kind=contract.CouncilKind(request.council_kind.value),
        title=advice_round.title,
        deadline=request.deadline,
    )


def advice_given(advice_round: AdviceRound, request: AdviceRequest) -> contract.AdviceGiven:
    assert request.advice is not None
    return contract.AdviceGiven(
        **_round_fields(advice_round),
        request_id=request.id,
        council_id=request.council_id,
        position=contract.AdvicePosition(request.advice.position.value),
        motivation=request.advice.motivation,
        conditions=request.advice.conditions,
        given_by=request.advice.given_by,
    )


def round_completed(advice_round: AdviceRound) -> contract.AdviceRoundCompleted:
    assert advice_round.completed_at is not None
    return contract.AdviceRoundCompleted(
        **_round_fields(advice_round),
        advice=[
            contract.GivenAdvice(
                council_id=r.council_id,
                position=contract.AdvicePosition(r.advice.position.value) if r.advice else None,
                motivation=r.advice.motivation if r.advice else "",
                conditions=r.advice.conditions if r.advice else [],
            )
            for r in advice_round.requests
        ],
        closed_after_escalation=any(r.advice is None for r in advice_round.requests),
        completed_at=advice_round.completed_at,
    )
