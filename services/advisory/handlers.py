"""Use cases of the advisory service.

Deadlines are durable timers (``shared.messaging.timers``), scheduled in the same transaction
as the change that sets them: per advice request a deadline timer and a reminder timer per
reminder day, per member with a term a term-end timer, per consultation an input-closing
timer. The timer handlers at the bottom run inside the timer wheel's unit of work, which
commits their changes and events together with the timer's firing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from services.advisory import integration
from services.advisory.domain import commands
from services.advisory.domain.agenda import (
    AdviceAtMeeting,
    AgendaItem,
    Meeting,
)
from services.advisory.domain.consultations import Answer, Consultation, Point, PointOrigin
from services.advisory.domain.deadlines import (
    advice_deadline,
    end_of_day,
    local_date,
    reminder_moments,
    term_ends_at,
)
from services.advisory.domain.exceptions import AlreadyRequested, NotAllowed, NotFound
from services.advisory.domain.model import (
    Advice,
    AdviceRequest,
    AdviceRound,
    Council,
    CouncilKind,
    Extension,
    MinorityPosition,
    RequestStatus,
    RoundStatus,
    SubjectFacts,
    Vote,
)
from services.advisory.domain.routing import RoutingRule, route
from services.advisory.persistence.unit_of_work import AdvisoryUnitOfWork
from shared import clock
from shared.contracts.envelope import Envelope
from shared.messaging.timers import Timer, cancel, schedule

REMINDER = "advice-reminder"
DEADLINE = "advice-deadline"
TERM_END = "member-term-end"
CONSULTATION_CLOSES = "consultation-closes"


def _now() -> datetime:
    return clock.now()


def _new_id() -> str:
    return str(uuid.uuid4())


# -- councils -------------------------------------------------------------------------------


async def create_council(
    command: commands.CreateCouncil,
    *,
    municipality: str,
    default_days: int,
    uow: AdvisoryUnitOfWork,
) -> Council:
    council = Council(
        id=_new_id(),
        municipality=municipality,
        advice_days=command.advice_days or default_days,
        **command.model_dump(exclude={"advice_days"}),
    )
    await uow.councils.save(council)
    await uow.commit()
    return council


async def _council(uow: AdvisoryUnitOfWork, municipality: str, council_id: str) -> Council:
    council = await uow.councils.get(municipality, council_id, lock=True)
    if council is None:
        raise NotFound(f"council {council_id} does not exist in {municipality}")
    return council


async def update_council(
    command: commands.UpdateCouncil, *, municipality: str, council_id: str, uow: AdvisoryUnitOfWork
) -> Council:
    council = await _council(uow, municipality, council_id)
    council = council.model_copy(update=command.model_dump(exclude_unset=True, exclude_none=True))
    council = Council.model_validate(council.model_dump())
    await uow.councils.save(council)
    await uow.commit()
    return council


async def appoint_member(
    command: commands.AppointMember, *, municipality: str, council_id: str, uow: AdvisoryUnitOfWork
) -> Council:
    council = await _council(uow, municipality, council_id)
    if council.appoint(command.person_id, command.role, command.term_start, command.term_end):
        member = council.member(command.person_id)
        assert member is not None
        uow.publish(uow.wrap(integration.member_appointed(council, member)))
        key = f"{council.id}:{member.person_id}"
        if member.term_end is not None:
            await schedule(
                uow.session,
                uow.tables,
                name=TERM_END,
                key=key,
                due_at=term_ends_at(member.term_end),
                payload={
                    "municipality": municipality,
                    "council_id": council.id,
                    "person_id": member.person_id,
                },
            )
        else:
            await cancel(uow.session, uow.tables, name=TERM_END, key=key)
    await uow.councils.save(council)
    await uow.commit()
    return council


async def dismiss_member(
    *, municipality: str, council_id: str, person_id: str, uow: AdvisoryUnitOfWork
) -> Council:
    council = await _council(uow, municipality, council_id)
    if not council.dismiss(person_id):
        raise NotFound(f"{person_id} is not a member of council {council.name}")
    uow.publish(uow.wrap(integration.member_left(council, person_id)))
    await cancel(uow.session, uow.tables, name=TERM_END, key=f"{council.id}:{person_id}")
    await uow.councils.save(council)
    await uow.commit()
    return council


# -- routing rules ----------------------------------------------------------------------------


async def create_routing_rule(
    command: commands.CreateRoutingRule, *, municipality: str, uow: AdvisoryUnitOfWork
) -> RoutingRule:
    await _council(uow, municipality, command.council_id)
    rule = RoutingRule(id=_new_id(), municipality=municipality, **command.model_dump())
    await uow.routing_rules.save(rule)
    await uow.commit()
    return rule


async def delete_routing_rule(*, municipality: str, rule_id: str, uow: AdvisoryUnitOfWork) -> None:
    if not await uow.routing_rules.delete(municipality, rule_id):
        raise NotFound(f"routing rule {rule_id} does not exist in {municipality}")
    await uow.commit()


# -- advice requests and their timers ---------------------------------------------------------


def _new_request(
    council: Council, *, required: bool, now: datetime, days: int | None = None
) -> AdviceRequest:
    return AdviceRequest(
        id=_new_id(),
        council_id=council.id,
        council_kind=council.kind,
        deadline=advice_deadline(
            now, days or council.advice_days, working_days=council.working_days
        ),
        required=required,
        reminder_days=council.reminder_days,
    )


async def _schedule_request_timers(
    uow: AdvisoryUnitOfWork, advice_round: AdviceRound, request: AdviceRequest, now: datetime
) -> None:
    payload = {
        "municipality": advice_round.municipality,
        "round_id": advice_round.id,
        "request_id": request.id,
    }
    await schedule(
        uow.session,
        uow.tables,
        name=DEADLINE,
        key=request.id,
        due_at=request.deadline,
        payload=payload,
    )
    for days, moment in reminder_moments(request.deadline, request.reminder_days, after=now):
        await schedule(
            uow.session,
            uow.tables,
            name=REMINDER,
            key=f"{request.id}:{days}",
            due_at=moment,
            payload={**payload, "days_before": days},
        )


async def _cancel_request_timers(uow: AdvisoryUnitOfWork, request: AdviceRequest) -> None:
    await cancel(uow.session, uow.tables, name=DEADLINE, key=request.id)
    for days in request.reminder_days:
        await cancel(uow.session, uow.tables, name=REMINDER, key=f"{request.id}:{days}")


async def _ask(
    uow: AdvisoryUnitOfWork,
    advice_round: AdviceRound,
    requests: list[AdviceRequest],
    now: datetime,
    cause: Envelope | None = None,
) -> None:
    for request in requests:
        uow.publish(uow.wrap(integration.advice_requested(advice_round, request), cause))
        await _schedule_request_timers(uow, advice_round, request, now)


async def prepare_advice_requests(
    subjects: Sequence[tuple[str, str]], *, uow: AdvisoryUnitOfWork
) -> None:
    """Before a batch's :func:`request_advice` calls: find out in one query per municipality
    which of the (municipality, initiative id) pairs already have a round."""
    by_municipality: dict[str, list[str]] = {}
    for municipality, subject_id in subjects:
        by_municipality.setdefault(municipality, []).append(subject_id)
    for municipality, subject_ids in by_municipality.items():
        await uow.rounds.look_up_subjects(municipality, "initiative", subject_ids)


async def request_advice(
    command: commands.RequestAdvice,
    *,
    municipality: str,
    cause: Envelope,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> AdviceRound:
    """Route an initiative to the councils its routing rules pick; runs in the consumer's
    transaction.

    A subject that matches no council is kept as an unrouted round, announced for a civil
    servant to route: it is never dropped.
    """
    if await uow.rounds.has_subject(municipality, "initiative", command.subject_id):
        # Redeliveries never get here (the inbox drops them); a second, different event asking
        # review for the same initiative is a fault upstream, for an operator to look at. The
        # check stays: without it the round's unique constraint would fail the whole batch at
        # commit, again on every redelivery, instead of dead-lettering this one event.
        raise AlreadyRequested(f"advice on initiative {command.subject_id} was already requested")
    now = now or _now()
    facts = SubjectFacts(
        neighbourhood=command.neighbourhood,
        theme=command.theme,
        initiative_type=command.initiative_type,
        amount_cents=command.amount_cents,
    )
    # Councils and routing rules are the same for every event of a batch: read once per
    # unit of work; changing them through the repositories forgets the cached copy.
    routed = route(
        facts,
        await uow.routing_rules.reference(municipality),
        await uow.councils.reference(municipality),
    )
    advice_round = AdviceRound(
        id=_new_id(),
        municipality=municipality,
        subject_kind="initiative",
        subject_id=command.subject_id,
        title=command.title,
        status=RoundStatus.OPEN if routed else RoundStatus.UNROUTED,
        facts=facts,
        requests=[_new_request(c, required=required, now=now) for c, required in routed],
    )
    await uow.rounds.add(advice_round)  # a new id: no lookup of a row that cannot exist
    await _ask(uow, advice_round, advice_round.requests, now, cause)
    if not routed:
        uow.publish(uow.wrap(integration.round_unrouted(advice_round), cause))
    return advice_round


async def _round(
    uow: AdvisoryUnitOfWork, municipality: str, round_id: str, request_id: str | None = None
) -> tuple[AdviceRound, AdviceRequest | None]:
    advice_round = await uow.rounds.get(municipality, round_id, lock=True)
    if advice_round is None:
        raise NotFound(f"advice round {round_id} does not exist")
    request = advice_round.request(request_id) if request_id else None
    if request_id and request is None:
        raise NotFound(f"advice request {request_id} of round {round_id} does not exist")
    return advice_round, request


async def route_round(
    command: commands.RouteRound,
    *,
    municipality: str,
    round_id: str,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> AdviceRound:
    """A civil servant picks the councils for a round that no routing rule matched."""
    now = now or _now()
    advice_round, _ = await _round(uow, municipality, round_id)
    if advice_round.status is not RoundStatus.UNROUTED:
        raise NotAllowed(f"the round is {advice_round.status}; only an unrouted round is routed")
    requests = [
        _new_request(await _council(uow, municipality, c.council_id), required=c.required, now=now)
        for c in {c.council_id: c for c in command.councils}.values()
    ]
    advice_round.requests = requests
    advice_round.status = RoundStatus.OPEN
    await uow.rounds.save(advice_round)
    await _ask(uow, advice_round, requests, now)
    await uow.commit()
    return advice_round


async def _after_advice(
    uow: AdvisoryUnitOfWork,
    advice_round: AdviceRound,
    request: AdviceRequest,
    council: Council,
    completed: bool,
) -> None:
    """What follows adopted advice: its event, its timers gone, its meeting and consultation
    told, and the round's completion."""
    advice = request.advice
    assert advice is not None
    await uow.rounds.save(advice_round)
    await _cancel_request_timers(uow, request)
    given = uow.wrap(integration.advice_given(advice_round, request))
    uow.publish(given)
    if advice.meeting_id:
        meeting = await uow.meetings.get(advice_round.municipality, advice.meeting_id, lock=True)
        if meeting is None or meeting.council_id != council.id:
            raise NotFound(f"council {council.name} has no meeting {advice.meeting_id}")
        meeting.advice.append(
            AdviceAtMeeting(
                round_id=advice_round.id,
                request_id=request.id,
                title=advice_round.title,
                position=advice.position,
            )
        )
        await uow.meetings.save(meeting)
    if advice_round.subject_kind == "policy":
        consultation = await uow.consultations.get(
            advice_round.municipality, advice_round.subject_id, lock=True
        )
        if consultation is not None:
            count = 1 + len(advice.conditions) + len(advice.minority_positions)
            consultation.add_council_advice(council.id, advice, [_new_id() for _ in range(count)])
            await uow.consultations.save(consultation)
    if completed:
        uow.publish(uow.wrap(integration.round_completed(advice_round), given))


async def give_advice(
    command: commands.GiveAdvice,
    *,
    municipality: str,
    round_id: str,
    request_id: str,
    given_by: str,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> AdviceRound:
    """The chair or secretary records the advice the council adopted."""
    advice_round, request = await _round(uow, municipality, round_id, request_id)
    assert request is not None
    council = await _council(uow, municipality, request.council_id)
    advice = Advice(
        position=command.position,
        motivation=command.motivation,
        conditions=command.conditions,
        given_by=given_by,
        given_at=now or _now(),
        minority_positions=[MinorityPosition(**m.model_dump()) for m in command.minority_positions],
        meeting_id=command.meeting_id,
    )
    completed = advice_round.give_advice(request.id, council, advice)
    await _after_advice(uow, advice_round, request, council, completed)
    await uow.commit()
    return advice_round


async def cast_vote(
    command: commands.CastVote,
    *,
    municipality: str,
    round_id: str,
    request_id: str,
    voter: str,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> AdviceRound:
    """A member votes; the council's advice is adopted once the vote is decided."""
    now = now or _now()
    advice_round, request = await _round(uow, municipality, round_id, request_id)
    assert request is not None
    council = await _council(uow, municipality, request.council_id)
    vote = Vote(member_id=voter, cast_at=now, **command.model_dump())
    adopted = advice_round.cast_vote(request.id, council, vote)
    if adopted is None:
        await uow.rounds.save(advice_round)
    else:
        completed = advice_round.complete_if_settled(now)
        await _after_advice(uow, advice_round, request, council, completed)
    await uow.commit()
    return advice_round


async def close_vote(
    command: commands.CloseVote,
    *,
    municipality: str,
    round_id: str,
    request_id: str,
    closed_by: str,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> AdviceRound:
    now = now or _now()
    advice_round, request = await _round(uow, municipality, round_id, request_id)
    assert request is not None
    council = await _council(uow, municipality, request.council_id)
    advice_round.close_vote(
        request.id, council, closed_by=closed_by, at=now, meeting_id=command.meeting_id
    )
    completed = advice_round.complete_if_settled(now)
    await _after_advice(uow, advice_round, request, council, completed)
    await uow.commit()
    return advice_round


async def extend_deadline(
    command: commands.ExtendDeadline,
    *,
    municipality: str,
    round_id: str,
    request_id: str,
    extended_by: str,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> AdviceRound:
    """Give a council more time, with a reason; its timers move with the deadline."""
    now = now or _now()
    advice_round, request = await _round(uow, municipality, round_id, request_id)
    assert request is not None
    council = await _council(uow, municipality, request.council_id)
    if command.until is not None:
        deadline = end_of_day(command.until)
    else:
        assert command.days is not None
        deadline = advice_deadline(
            request.deadline, command.days, working_days=council.working_days
        )
    extension = Extension(
        previous_deadline=request.deadline,
        deadline=deadline,
        reason=command.reason,
        extended_by=extended_by,
        extended_at=now,
    )
    advice_round.extend(request.id, extension)
    await uow.rounds.save(advice_round)
    await _cancel_request_timers(uow, request)
    await _schedule_request_timers(uow, advice_round, request, now)
    uow.publish(uow.wrap(integration.deadline_extended(advice_round, request, extension)))
    await uow.commit()
    return advice_round


async def close_round(
    command: commands.CloseRound,
    *,
    municipality: str,
    round_id: str,
    closed_by: str,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> AdviceRound:
    """A civil servant closes a round after escalation, without the missing advice."""
    advice_round, _ = await _round(uow, municipality, round_id)
    advice_round.close(closed_by=closed_by, reason=command.reason, at=now or _now())
    await uow.rounds.save(advice_round)
    for request in advice_round.requests:
        await _cancel_request_timers(uow, request)
    uow.publish(uow.wrap(integration.round_completed(advice_round)))
    await uow.commit()
    return advice_round


# -- policy consultations ---------------------------------------------------------------------


async def open_consultation(
    command: commands.OpenConsultation,
    *,
    municipality: str,
    opened_by: str,
    default_days: int,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> Consultation:
    """Put a policy document to councils (an advice round) and, perhaps, to residents."""
    now = now or _now()
    councils = [
        await _council(uow, municipality, council_id)
        for council_id in dict.fromkeys(command.council_ids)
    ]
    consultation_id = _new_id()
    requests = [_new_request(c, required=True, now=now, days=command.days) for c in councils]
    closes_at = max(
        [r.deadline for r in requests]
        or [advice_deadline(now, command.days or default_days, working_days=True)]
    )
    advice_round = AdviceRound(
        id=_new_id(),
        municipality=municipality,
        subject_kind="policy",
        subject_id=consultation_id,
        title=command.title,
        status=RoundStatus.OPEN,
        facts=SubjectFacts(theme=command.themes[0] if command.themes else None),
        requests=requests,
    )
    consultation = Consultation(
        id=consultation_id,
        municipality=municipality,
        title=command.title,
        summary=command.summary,
        link=command.link,
        themes=command.themes,
        areas=command.areas,
        council_ids=[c.id for c in councils],
        open_to_residents=command.open_to_residents,
        opened_by=opened_by,
        opened_at=now,
        closes_at=closes_at,
        advice_round_id=advice_round.id if councils else None,
    )
    await uow.consultations.save(consultation)
    opened = uow.wrap(integration.consultation_opened(consultation))
    uow.publish(opened)
    if councils:
        await uow.rounds.save(advice_round)
        await _ask(uow, advice_round, requests, now, opened)
    await schedule(
        uow.session,
        uow.tables,
        name=CONSULTATION_CLOSES,
        key=consultation.id,
        due_at=closes_at,
        payload={"municipality": municipality, "consultation_id": consultation.id},
    )
    await uow.commit()
    return consultation


async def _consultation(
    uow: AdvisoryUnitOfWork, municipality: str, consultation_id: str
) -> Consultation:
    consultation = await uow.consultations.get(municipality, consultation_id, lock=True)
    if consultation is None:
        raise NotFound(f"consultation {consultation_id} does not exist")
    return consultation


async def give_input(
    command: commands.GiveInput,
    *,
    municipality: str,
    consultation_id: str,
    resident: str,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> Point:
    consultation = await _consultation(uow, municipality, consultation_id)
    point = Point(
        id=_new_id(),
        origin=PointOrigin.RESIDENT,
        contributor=resident,
        text=command.text,
        submitted_at=now or _now(),
    )
    consultation.add_input(point)
    await uow.consultations.save(consultation)
    await uow.commit()
    return point


async def close_consultation(
    *, municipality: str, consultation_id: str, uow: AdvisoryUnitOfWork, now: datetime | None = None
) -> Consultation:
    consultation = await _consultation(uow, municipality, consultation_id)
    consultation.close(now or _now())
    await uow.consultations.save(consultation)
    await cancel(uow.session, uow.tables, name=CONSULTATION_CLOSES, key=consultation.id)
    uow.publish(uow.wrap(integration.consultation_closed(consultation)))
    await uow.commit()
    return consultation


async def answer_point(
    command: commands.AnswerPoint,
    *,
    municipality: str,
    consultation_id: str,
    point_id: str,
    answered_by: str,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> Consultation:
    consultation = await _consultation(uow, municipality, consultation_id)
    consultation.answer(
        point_id,
        Answer(
            outcome=command.outcome,
            reason=command.reason,
            answered_by=answered_by,
            answered_at=now or _now(),
        ),
    )
    await uow.consultations.save(consultation)
    await uow.commit()
    return consultation


async def publish_answers(
    *, municipality: str, consultation_id: str, uow: AdvisoryUnitOfWork, now: datetime | None = None
) -> Consultation:
    """Publish the municipality's answers once input closed, the councils' round completed
    and every point is answered."""
    consultation = await _consultation(uow, municipality, consultation_id)
    if consultation.advice_round_id:
        advice_round = await uow.rounds.get(municipality, consultation.advice_round_id)
        if advice_round is not None and advice_round.status is not RoundStatus.COMPLETED:
            raise NotAllowed("the councils' advice round on this consultation is still open")
    consultation.publish_answers(now or _now())
    await uow.consultations.save(consultation)
    uow.publish(uow.wrap(integration.consultation_answered(consultation)))
    await uow.commit()
    return consultation


# -- youth agenda items and meetings ----------------------------------------------------------


async def propose_agenda_item(
    command: commands.ProposeAgendaItem,
    *,
    municipality: str,
    council_id: str,
    proposed_by: str,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> AgendaItem:
    """A serving member of a youth council puts a topic forward for the municipal council."""
    now = now or _now()
    council = await _council(uow, municipality, council_id)
    if council.kind is not CouncilKind.YOUTH_COUNCIL:
        raise NotAllowed(f"{council.name} is not a youth council")
    council.require_serving(proposed_by, local_date(now))
    item = AgendaItem(
        id=_new_id(),
        municipality=municipality,
        council_id=council.id,
        title=command.title,
        description=command.description,
        proposed_by=proposed_by,
        proposed_at=now,
    )
    await uow.agenda_items.save(item)
    uow.publish(uow.wrap(integration.agenda_item_proposed(item)))
    await uow.commit()
    return item


async def _agenda_item(uow: AdvisoryUnitOfWork, municipality: str, item_id: str) -> AgendaItem:
    item = await uow.agenda_items.get(municipality, item_id, lock=True)
    if item is None:
        raise NotFound(f"agenda item {item_id} does not exist")
    return item


async def schedule_agenda_item(
    command: commands.ScheduleAgendaItem,
    *,
    municipality: str,
    item_id: str,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> AgendaItem:
    item = await _agenda_item(uow, municipality, item_id)
    item.schedule(command.meeting_date, command.body, now or _now())
    await uow.agenda_items.save(item)
    uow.publish(uow.wrap(integration.agenda_item_scheduled(item)))
    await uow.commit()
    return item


async def conclude_agenda_item(
    command: commands.ConcludeAgendaItem,
    *,
    municipality: str,
    item_id: str,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> AgendaItem:
    item = await _agenda_item(uow, municipality, item_id)
    item.conclude(command.outcome, command.summary, now or _now())
    await uow.agenda_items.save(item)
    uow.publish(uow.wrap(integration.agenda_item_concluded(item)))
    await uow.commit()
    return item


async def plan_meeting(
    command: commands.PlanMeeting,
    *,
    municipality: str,
    council_id: str,
    planned_by: str,
    by_member: bool,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> Meeting:
    council = await _council(uow, municipality, council_id)
    if by_member:
        council.require_officer(planned_by, local_date(now or _now()))
    meeting = Meeting(
        id=_new_id(),
        municipality=municipality,
        council_id=council.id,
        starts_at=command.starts_at.astimezone(UTC),
        location=command.location,
        with_municipality=command.with_municipality,
        agenda=command.agenda,
    )
    await uow.meetings.save(meeting)
    uow.publish(uow.wrap(integration.meeting_scheduled(meeting)))
    await uow.commit()
    return meeting


async def publish_minutes(
    command: commands.PublishMinutes,
    *,
    municipality: str,
    meeting_id: str,
    published_by: str,
    by_member: bool,
    uow: AdvisoryUnitOfWork,
    now: datetime | None = None,
) -> Meeting:
    now = now or _now()
    meeting = await uow.meetings.get(municipality, meeting_id, lock=True)
    if meeting is None:
        raise NotFound(f"meeting {meeting_id} does not exist")
    if by_member:
        council = await _council(uow, municipality, meeting.council_id)
        council.require_officer(published_by, local_date(now))
    meeting.publish_minutes(command.minutes, now)
    await uow.meetings.save(meeting)
    uow.publish(uow.wrap(integration.minutes_published(meeting, now)))
    await uow.commit()
    return meeting


# -- timers -----------------------------------------------------------------------------------


async def remind(timer: Timer, uow: AdvisoryUnitOfWork) -> None:
    """A reminder before the deadline, for a council that has not advised yet."""
    payload = timer.payload
    advice_round = await uow.rounds.get(payload["municipality"], payload["round_id"], lock=True)
    request = advice_round.request(payload["request_id"]) if advice_round else None
    days = int(payload["days_before"])
    if advice_round is None or request is None or request.status is not RequestStatus.OPEN:
        return
    if days in request.reminders_sent:
        return
    request.reminders_sent.append(days)
    await uow.rounds.save(advice_round)
    uow.publish(uow.wrap(integration.deadline_approaching(advice_round, request, days)))


async def pass_deadline(timer: Timer, uow: AdvisoryUnitOfWork) -> None:
    """The deadline passed: a required council is overdue and escalated to its chair and
    secretary; a council that only may advise lapses, which may complete the round."""
    payload = timer.payload
    advice_round = await uow.rounds.get(payload["municipality"], payload["round_id"], lock=True)
    request = advice_round.request(payload["request_id"]) if advice_round else None
    if advice_round is None or request is None or request.deadline > timer.due_at:
        return
    status = advice_round.pass_deadline(request.id, timer.due_at)
    if status is None:
        return
    if status is RequestStatus.OVERDUE:
        council = await uow.councils.get(advice_round.municipality, request.council_id)
        contacts = council.escalation_contacts(local_date(timer.due_at)) if council else []
        uow.publish(uow.wrap(integration.advice_overdue(advice_round, request, contacts)))
    if advice_round.complete_if_settled(timer.due_at):
        uow.publish(uow.wrap(integration.round_completed(advice_round)))
    await uow.rounds.save(advice_round)


async def end_term(timer: Timer, uow: AdvisoryUnitOfWork) -> None:
    """A member's term is over: they leave the council (unless reappointed meanwhile)."""
    payload = timer.payload
    council = await uow.councils.get(payload["municipality"], payload["council_id"], lock=True)
    member = council.member(payload["person_id"]) if council else None
    if council is None or member is None or member.term_end is None:
        return
    if term_ends_at(member.term_end) > timer.due_at:
        return
    council.dismiss(member.person_id)
    await uow.councils.save(council)
    uow.publish(uow.wrap(integration.member_left(council, member.person_id, "term_ended")))


async def close_consultation_input(timer: Timer, uow: AdvisoryUnitOfWork) -> None:
    payload = timer.payload
    consultation = await uow.consultations.get(
        payload["municipality"], payload["consultation_id"], lock=True
    )
    if consultation is None or consultation.status.value != "open":
        return
    consultation.close(timer.due_at)
    await uow.consultations.save(consultation)
    uow.publish(uow.wrap(integration.consultation_closed(consultation)))


TIMERS = {
    REMINDER: remind,
    DEADLINE: pass_deadline,
    TERM_END: end_term,
    CONSULTATION_CLOSES: close_consultation_input,
}
