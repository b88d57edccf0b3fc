"""Advisory's domain objects -> the public contract's events (the only place they meet)."""

from __future__ import annotations

from datetime import datetime

from services.advisory.domain.agenda import AgendaItem, Meeting
from services.advisory.domain.consultations import AnswerOutcome, Consultation
from services.advisory.domain.model import (
    AdviceRequest,
    AdviceRound,
    Council,
    Extension,
    Member,
)
from shared.contracts import advisory as contract


def member_appointed(council: Council, member: Member) -> contract.CouncilMemberAppointed:
    return contract.CouncilMemberAppointed(
        municipality=council.municipality,
        council_id=council.id,
        member_id=member.person_id,
        role=contract.MemberRole(member.role.value),
        council_kind=contract.CouncilKind(council.kind.value),
        term_end=member.term_end,
    )


def member_left(
    council: Council, person_id: str, reason: str = "dismissed"
) -> contract.CouncilMemberLeft:
    return contract.CouncilMemberLeft(
        municipality=council.municipality,
        council_id=council.id,
        member_id=person_id,
        reason=reason,
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
        required=request.required,
    )


def round_unrouted(advice_round: AdviceRound) -> contract.AdviceRoundUnrouted:
    facts = advice_round.facts
    return contract.AdviceRoundUnrouted(
        **_round_fields(advice_round),
        title=advice_round.title,
        neighbourhood=facts.neighbourhood if facts else None,
        theme=facts.theme if facts else None,
    )


def advice_given(advice_round: AdviceRound, request: AdviceRequest) -> contract.AdviceGiven:
    advice = request.advice
    assert advice is not None
    return contract.AdviceGiven(
        **_round_fields(advice_round),
        request_id=request.id,
        council_id=request.council_id,
        position=contract.AdvicePosition(advice.position.value),
        motivation=advice.motivation,
        conditions=advice.conditions,
        given_by=advice.given_by,
        adopted_by=contract.AdoptionRule(advice.adopted_by.value),
        votes_for=advice.votes_for,
        votes_cast=advice.votes_cast,
        minority_positions=[
            contract.MinorityPosition(
                position=contract.AdvicePosition(m.position.value),
                motivation=m.motivation,
                supporters=m.supporters,
            )
            for m in advice.minority_positions
        ],
        meeting_id=advice.meeting_id,
    )


def deadline_approaching(
    advice_round: AdviceRound, request: AdviceRequest, days_before: int
) -> contract.AdviceDeadlineApproaching:
    return contract.AdviceDeadlineApproaching(
        **_round_fields(advice_round),
        request_id=request.id,
        council_id=request.council_id,
        deadline=request.deadline,
        days_before=days_before,
    )


def advice_overdue(
    advice_round: AdviceRound, request: AdviceRequest, escalate_to: list[str]
) -> contract.AdviceOverdue:
    return contract.AdviceOverdue(
        **_round_fields(advice_round),
        request_id=request.id,
        council_id=request.council_id,
        deadline=request.deadline,
        escalate_to=escalate_to,
    )


def deadline_extended(
    advice_round: AdviceRound, request: AdviceRequest, extension: Extension
) -> contract.AdviceDeadlineExtended:
    return contract.AdviceDeadlineExtended(
        **_round_fields(advice_round),
        request_id=request.id,
        council_id=request.council_id,
        previous_deadline=extension.previous_deadline,
        deadline=extension.deadline,
        reason=extension.reason,
        extended_by=extension.extended_by,
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
        closed_after_escalation=advice_round.closed_by is not None,
        completed_at=advice_round.completed_at,
        closed_by=advice_round.closed_by,
        closing_reason=advice_round.closing_reason,
    )


def consultation_opened(consultation: Consultation) -> contract.ConsultationOpened:
    return contract.ConsultationOpened(
        municipality=consultation.municipality,
        consultation_id=consultation.id,
        title=consultation.title,
        summary=consultation.summary,
        link=consultation.link,
        themes=consultation.themes,
        areas=consultation.areas,
        council_ids=consultation.council_ids,
        open_to_residents=consultation.open_to_residents,
        advice_round_id=consultation.advice_round_id,
        closes_at=consultation.closes_at,
    )


def consultation_closed(consultation: Consultation) -> contract.ConsultationClosed:
    assert consultation.closed_at is not None
    return contract.ConsultationClosed(
        municipality=consultation.municipality,
        consultation_id=consultation.id,
        closed_at=consultation.closed_at,
        points=len(consultation.points),
    )


def consultation_answered(consultation: Consultation) -> contract.ConsultationAnswered:
    assert consultation.answered_at is not None
    return contract.ConsultationAnswered(
        municipality=consultation.municipality,
        consultation_id=consultation.id,
        answered_at=consultation.answered_at,
        adopted=consultation.count(AnswerOutcome.ADOPTED),
        partly_adopted=consultation.count(AnswerOutcome.PARTLY_ADOPTED),
        not_adopted=consultation.count(AnswerOutcome.NOT_ADOPTED),
        contributor_ids=consultation.contributors(),
    )


def _item_fields(item: AgendaItem) -> dict[str, object]:
    return {
        "municipality": item.municipality,
        "agenda_item_id": item.id,
        "council_id": item.council_id,
        "title": item.title,
    }


def agenda_item_proposed(item: AgendaItem) -> contract.AgendaItemProposed:
    return contract.AgendaItemProposed(**_item_fields(item), proposed_by=item.proposed_by)


def agenda_item_scheduled(item: AgendaItem) -> contract.AgendaItemScheduled:
    assert item.meeting_date is not None and item.body is not None
    return contract.AgendaItemScheduled(
        **_item_fields(item), meeting_date=item.meeting_date, body=item.body
    )


def agenda_item_concluded(item: AgendaItem) -> contract.AgendaItemConcluded:
    assert item.outcome is not None and item.summary is not None
    return contract.AgendaItemConcluded(
        **_item_fields(item),
        outcome=contract.AgendaOutcome(item.outcome.value),
        summary=item.summary,
    )


def meeting_scheduled(meeting: Meeting) -> contract.MeetingScheduled:
    return contract.MeetingScheduled(
        municipality=meeting.municipality,
        meeting_id=meeting.id,
        council_id=meeting.council_id,
        starts_at=meeting.starts_at,
        with_municipality=meeting.with_municipality,
        agenda=[point.title for point in meeting.agenda],
    )


def minutes_published(meeting: Meeting, at: datetime) -> contract.MeetingMinutesPublished:
    return contract.MeetingMinutesPublished(
        municipality=meeting.municipality,
        meeting_id=meeting.id,
        council_id=meeting.council_id,
        published_at=at,
    )
