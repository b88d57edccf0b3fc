"""HTTP API of the advisory service."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from services.advisory import handlers, paragraph
from services.advisory.domain import commands
from services.advisory.domain.agenda import (
    MEETINGS_WITH_MUNICIPALITY_PER_YEAR,
    AgendaItem,
    Meeting,
)
from services.advisory.domain.consultations import Consultation, Point
from services.advisory.domain.exceptions import (
    AdvisoryError,
    AlreadyAdvised,
    NoDecision,
    NotAMember,
    NotFound,
    RequestClosed,
)
from services.advisory.domain.model import AdviceRound, Council
from services.advisory.domain.routing import RoutingRule
from services.advisory.persistence.unit_of_work import AdvisoryUnitOfWork
from shared import clock
from shared.auth import Authorize, Principal, Role
from shared.http import Problem

router = APIRouter(prefix="/v1/municipalities/{municipality}", tags=["advisory"])
Id = Annotated[str, Path(max_length=64)]

may_manage = Authorize(Role.CIVIL_SERVANT)
may_advise = Authorize(Role.COUNCIL_MEMBER)
may_give_input = Authorize(Role.RESIDENT, Role.INITIATOR)
may_meet = Authorize(Role.CIVIL_SERVANT, Role.COUNCIL_MEMBER)
may_read = Authorize(*Role)
Manager = Annotated[Principal, Depends(may_manage)]
Adviser = Annotated[Principal, Depends(may_advise)]
Reader = Annotated[Principal, Depends(may_read)]


def unit_of_work(request: Request) -> AdvisoryUnitOfWork:
    return request.app.state.unit_of_work()


Uow = Annotated[AdvisoryUnitOfWork, Depends(unit_of_work)]


def as_problem(error: AdvisoryError) -> Problem:
    if isinstance(error, NotFound):
        return Problem(404, "Not found", str(error))
    if isinstance(error, NotAMember):
        return Problem(403, "Not a member of this council", str(error))
    if isinstance(error, AlreadyAdvised):
        return Problem(409, "Already advised", str(error))
    if isinstance(error, RequestClosed):
        return Problem(409, "No longer open", str(error))
    if isinstance(error, NoDecision):
        return Problem(409, "No decision", str(error))
    return Problem(409, "Not allowed now", str(error))


@contextlib.contextmanager
def refusals_as_problems() -> Iterator[None]:
    try:
        yield
    except AdvisoryError as error:
        raise as_problem(error) from error


# -- councils -------------------------------------------------------------------------------


@router.post("/councils", status_code=201)
async def create_council(
    body: commands.CreateCouncil, principal: Manager, uow: Uow, request: Request
) -> Council:
    """Establish an advisory council: kind, area (BU/WK codes), themes, period and quorum."""
    async with uow:
        return await handlers.create_council(
            body,
            municipality=principal.municipality,
            default_days=request.app.state.settings.default_advice_days,
            uow=uow,
        )


@router.get("/councils")
async def list_councils(principal: Reader, uow: Uow) -> list[Council]:
    async with uow:
        return await uow.councils.list(principal.municipality)


@router.get("/councils/{council_id}")
async def get_council(council_id: Id, principal: Reader, uow: Uow) -> Council:
    async with uow:
        council = await uow.councils.get(principal.municipality, council_id)
    if council is None:
        raise Problem(404, "Not found", f"No council {council_id}.")
    return council


@router.patch("/councils/{council_id}")
async def update_council(
    council_id: Id, body: commands.UpdateCouncil, principal: Manager, uow: Uow
) -> Council:
    """Change a council's area, themes, period, adoption rule, quorum or reminders."""
    with refusals_as_problems():
        async with uow:
            return await handlers.update_council(
                body, municipality=principal.municipality, council_id=council_id, uow=uow
            )


@router.post("/councils/{council_id}/members", status_code=201)
async def appoint_member(
    council_id: Id, body: commands.AppointMember, principal: Manager, uow: Uow
) -> Council:
    """Appoint a member (pseudonymous id) with a role and term; announced as `council member
    appointed`. At the end of the term the member leaves (`council member left`)."""
    with refusals_as_problems():
        async with uow:
            return await handlers.appoint_member(
                body, municipality=principal.municipality, council_id=council_id, uow=uow
            )


@router.delete("/councils/{council_id}/members/{person_id}")
async def dismiss_member(council_id: Id, person_id: Id, principal: Manager, uow: Uow) -> Council:
    """A member leaves the council; announced as `council member left`."""
    with refusals_as_problems():
        async with uow:
            return await handlers.dismiss_member(
                municipality=principal.municipality,
                council_id=council_id,
                person_id=person_id,
                uow=uow,
            )


# -- routing rules ----------------------------------------------------------------------------


@router.post("/routing-rules", status_code=201)
async def create_routing_rule(
    body: commands.CreateRoutingRule, principal: Manager, uow: Uow
) -> RoutingRule:
    """Which council must or may advise on initiatives by neighbourhood, district, theme, type
    and amount. Without rules, neighbourhood councils advise by area and youth councils by
    theme."""
    with refusals_as_problems():
        async with uow:
            return await handlers.create_routing_rule(
                body, municipality=principal.municipality, uow=uow
            )


@router.get("/routing-rules")
async def list_routing_rules(principal: Reader, uow: Uow) -> list[RoutingRule]:
    async with uow:
        return await uow.routing_rules.list(principal.municipality)


@router.delete("/routing-rules/{rule_id}", status_code=204)
async def delete_routing_rule(rule_id: Id, principal: Manager, uow: Uow) -> Response:
    with refusals_as_problems():
        async with uow:
            await handlers.delete_routing_rule(
                municipality=principal.municipality, rule_id=rule_id, uow=uow
            )
    return Response(status_code=204)


# -- advice rounds ----------------------------------------------------------------------------


@router.get("/advice-rounds")
async def list_rounds(
    principal: Reader,
    uow: Uow,
    status: Annotated[str | None, Query(pattern="^(open|unrouted|completed)$")] = None,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[AdviceRound]:
    """Advice rounds; `status=unrouted` lists what no council covered, for a civil servant."""
    async with uow:
        if subject_id is not None:
            found = await uow.rounds.for_subject(principal.municipality, "initiative", subject_id)
            return [found] if found and status in (None, found.status) else []
        return await uow.rounds.list(principal.municipality, status=status)


@router.get("/advice-rounds/{round_id}")
async def get_round(round_id: Id, principal: Reader, uow: Uow) -> AdviceRound:
    async with uow:
        advice_round = await uow.rounds.get(principal.municipality, round_id)
    if advice_round is None:
        raise Problem(404, "Not found", f"No advice round {round_id}.")
    return advice_round


@router.post("/advice-rounds/{round_id}/route")
async def route_round(
    round_id: Id, body: commands.RouteRound, principal: Manager, uow: Uow
) -> AdviceRound:
    """A civil servant picks the councils for a round no routing rule matched."""
    with refusals_as_problems():
        async with uow:
            return await handlers.route_round(
                body, municipality=principal.municipality, round_id=round_id, uow=uow
            )


@router.post("/advice-rounds/{round_id}/close")
async def close_round(
    round_id: Id, body: commands.CloseRound, principal: Manager, uow: Uow
) -> AdviceRound:
    """After escalation, a civil servant closes the round without the missing advice; every
    council that has not advised must have passed its deadline."""
    with refusals_as_problems():
        async with uow:
            return await handlers.close_round(
                body,
                municipality=principal.municipality,
                round_id=round_id,
                closed_by=principal.subject,
                uow=uow,
            )


@router.post("/advice-rounds/{round_id}/requests/{request_id}/advice", status_code=201)
async def give_advice(
    round_id: Id, request_id: Id, body: commands.GiveAdvice, principal: Adviser, uow: Uow
) -> AdviceRound:
    """The chair or secretary records the advice the council adopted: a position, always with
    a motivation, and any minority positions."""
    with refusals_as_problems():
        async with uow:
            return await handlers.give_advice(
                body,
                municipality=principal.municipality,
                round_id=round_id,
                request_id=request_id,
                given_by=principal.subject,
                uow=uow,
            )


@router.post("/advice-rounds/{round_id}/requests/{request_id}/votes", status_code=201)
async def cast_vote(
    round_id: Id, request_id: Id, body: commands.CastVote, principal: Adviser, uow: Uow
) -> AdviceRound:
    """A serving member of a council that adopts by vote casts (or changes) their vote."""
    with refusals_as_problems():
        async with uow:
            return await handlers.cast_vote(
                body,
                municipality=principal.municipality,
                round_id=round_id,
                request_id=request_id,
                voter=principal.subject,
                uow=uow,
            )


@router.post("/advice-rounds/{round_id}/requests/{request_id}/votes/close")
async def close_vote(
    round_id: Id, request_id: Id, body: commands.CloseVote, principal: Adviser, uow: Uow
) -> AdviceRound:
    """The chair or secretary ends the vote; the quorum must be met."""
    with refusals_as_problems():
        async with uow:
            return await handlers.close_vote(
                body,
                municipality=principal.municipality,
                round_id=round_id,
                request_id=request_id,
                closed_by=principal.subject,
                uow=uow,
            )


@router.post("/advice-rounds/{round_id}/requests/{request_id}/extension")
async def extend_deadline(
    round_id: Id, request_id: Id, body: commands.ExtendDeadline, principal: Manager, uow: Uow
) -> AdviceRound:
    """Give a council more time, with a reason; announced as `advice deadline extended`."""
    with refusals_as_problems():
        async with uow:
            return await handlers.extend_deadline(
                body,
                municipality=principal.municipality,
                round_id=round_id,
                request_id=request_id,
                extended_by=principal.subject,
                uow=uow,
            )


# -- policy consultations ---------------------------------------------------------------------


@router.post("/consultations", status_code=201)
async def open_consultation(
    body: commands.OpenConsultation, principal: Manager, uow: Uow, request: Request
) -> Consultation:
    """Put a policy document to advisory councils and, optionally, to residents."""
    with refusals_as_problems():
        async with uow:
            return await handlers.open_consultation(
                body,
                municipality=principal.municipality,
                opened_by=principal.subject,
                default_days=request.app.state.settings.default_advice_days,
                uow=uow,
            )


@router.get("/consultations")
async def list_consultations(principal: Reader, uow: Uow) -> list[Consultation]:
    async with uow:
        return await uow.consultations.list(principal.municipality)


@router.get("/consultations/{consultation_id}")
async def get_consultation(consultation_id: Id, principal: Reader, uow: Uow) -> Consultation:
    async with uow:
        consultation = await uow.consultations.get(principal.municipality, consultation_id)
    if consultation is None:
        raise Problem(404, "Not found", f"No consultation {consultation_id}.")
    return consultation


@router.post("/consultations/{consultation_id}/input", status_code=201)
async def give_input(
    consultation_id: Id,
    body: commands.GiveInput,
    principal: Annotated[Principal, Depends(may_give_input)],
    uow: Uow,
) -> Point:
    """A resident's input on a consultation that is open to residents."""
    with refusals_as_problems():
        async with uow:
            return await handlers.give_input(
                body,
                municipality=principal.municipality,
                consultation_id=consultation_id,
                resident=principal.subject,
                uow=uow,
            )


@router.post("/consultations/{consultation_id}/close")
async def close_consultation(consultation_id: Id, principal: Manager, uow: Uow) -> Consultation:
    """Close input early (it closes by itself at the end of the period)."""
    with refusals_as_problems():
        async with uow:
            return await handlers.close_consultation(
                municipality=principal.municipality, consultation_id=consultation_id, uow=uow
            )


@router.post("/consultations/{consultation_id}/points/{point_id}/answer")
async def answer_point(
    consultation_id: Id, point_id: Id, body: commands.AnswerPoint, principal: Manager, uow: Uow
) -> Consultation:
    """The municipality's answer to one point: adopted, partly adopted or not, with reasons."""
    with refusals_as_problems():
        async with uow:
            return await handlers.answer_point(
                body,
                municipality=principal.municipality,
                consultation_id=consultation_id,
                point_id=point_id,
                answered_by=principal.subject,
                uow=uow,
            )


@router.post("/consultations/{consultation_id}/answers")
async def publish_answers(consultation_id: Id, principal: Manager, uow: Uow) -> Consultation:
    """Publish the answers: announced as `consultation answered`."""
    with refusals_as_problems():
        async with uow:
            return await handlers.publish_answers(
                municipality=principal.municipality, consultation_id=consultation_id, uow=uow
            )


MEDIA_TYPES = {paragraph.Format.MARKDOWN: "text/markdown", paragraph.Format.HTML: "text/html"}


@router.get(
    "/consultations/{consultation_id}/participation-paragraph",
    response_class=Response,
    responses={200: {"content": {"text/markdown": {}, "text/html": {}}}},
)
async def participation_paragraph(
    consultation_id: Id,
    principal: Reader,
    uow: Uow,
    language: paragraph.Language = paragraph.Language.DUTCH,
    format: paragraph.Format = paragraph.Format.MARKDOWN,
) -> Response:
    """The participation paragraph for the policy document: who was involved and how, when,
    what they said and what was done with it."""
    async with uow:
        consultation = await uow.consultations.get(principal.municipality, consultation_id)
        if consultation is None:
            raise Problem(404, "Not found", f"No consultation {consultation_id}.")
        advice_round = (
            await uow.rounds.get(principal.municipality, consultation.advice_round_id)
            if consultation.advice_round_id
            else None
        )
        councils = await uow.councils.list(principal.municipality)
    text = paragraph.render(consultation, advice_round, councils, language=language, fmt=format)
    return Response(text, media_type=f"{MEDIA_TYPES[format]}; charset=utf-8")


# -- youth agenda items ------------------------------------------------------------------------


@router.post("/councils/{council_id}/agenda-items", status_code=201)
async def propose_agenda_item(
    council_id: Id, body: commands.ProposeAgendaItem, principal: Adviser, uow: Uow
) -> AgendaItem:
    """A youth council member puts a topic forward for the municipal council's agenda."""
    with refusals_as_problems():
        async with uow:
            return await handlers.propose_agenda_item(
                body,
                municipality=principal.municipality,
                council_id=council_id,
                proposed_by=principal.subject,
                uow=uow,
            )


@router.get("/agenda-items")
async def list_agenda_items(
    principal: Reader,
    uow: Uow,
    council_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(pattern="^(proposed|scheduled|concluded)$")] = None,
) -> list[AgendaItem]:
    """Youth agenda items and how far each got: proposed, scheduled, concluded."""
    async with uow:
        return await uow.agenda_items.list(
            principal.municipality, council_id=council_id, status=status
        )


@router.post("/agenda-items/{item_id}/schedule")
async def schedule_agenda_item(
    item_id: Id, body: commands.ScheduleAgendaItem, principal: Manager, uow: Uow
) -> AgendaItem:
    """The topic is on the agenda of a municipal council meeting."""
    with refusals_as_problems():
        async with uow:
            return await handlers.schedule_agenda_item(
                body, municipality=principal.municipality, item_id=item_id, uow=uow
            )


@router.post("/agenda-items/{item_id}/outcome")
async def conclude_agenda_item(
    item_id: Id, body: commands.ConcludeAgendaItem, principal: Manager, uow: Uow
) -> AgendaItem:
    """What came of the topic, reported back to the youth council."""
    with refusals_as_problems():
        async with uow:
            return await handlers.conclude_agenda_item(
                body, municipality=principal.municipality, item_id=item_id, uow=uow
            )


# -- meetings ----------------------------------------------------------------------------------


@router.post("/councils/{council_id}/meetings", status_code=201)
async def plan_meeting(
    council_id: Id,
    body: commands.PlanMeeting,
    principal: Annotated[Principal, Depends(may_meet)],
    uow: Uow,
) -> Meeting:
    """Plan a council meeting with its agenda (by a civil servant, the chair or secretary)."""
    with refusals_as_problems():
        async with uow:
            return await handlers.plan_meeting(
                body,
                municipality=principal.municipality,
                council_id=council_id,
                planned_by=principal.subject,
                by_member=principal.role is Role.COUNCIL_MEMBER,
                uow=uow,
            )


@router.post("/meetings/{meeting_id}/minutes")
async def publish_minutes(
    meeting_id: Id,
    body: commands.PublishMinutes,
    principal: Annotated[Principal, Depends(may_meet)],
    uow: Uow,
) -> Meeting:
    with refusals_as_problems():
        async with uow:
            return await handlers.publish_minutes(
                body,
                municipality=principal.municipality,
                meeting_id=meeting_id,
                published_by=principal.subject,
                by_member=principal.role is Role.COUNCIL_MEMBER,
                uow=uow,
            )


@router.get("/councils/{council_id}/meetings")
async def list_meetings(
    council_id: Id,
    principal: Reader,
    uow: Uow,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> dict[str, Any]:
    """A council's meetings (in a year), and whether it met the municipality the four times a
    year residents' groups are promised."""
    async with uow:
        meetings = await uow.meetings.list(principal.municipality, council_id=council_id)
    now = clock.now()
    if year is not None:
        meetings = [m for m in meetings if m.starts_at.year == year]
    held = sum(1 for m in meetings if m.with_municipality and m.held(now))
    return {
        "meetings": [m.model_dump(mode="json") for m in meetings],
        "held_with_municipality": held,
        "minimum_per_year": MEETINGS_WITH_MUNICIPALITY_PER_YEAR,
        "meets_minimum": held >= MEETINGS_WITH_MUNICIPALITY_PER_YEAR,
    }


@router.get("/meetings/{meeting_id}")
async def get_meeting(meeting_id: Id, principal: Reader, uow: Uow) -> Meeting:
    async with uow:
        meeting = await uow.meetings.get(principal.municipality, meeting_id)
    if meeting is None:
        raise Problem(404, "Not found", f"No meeting {meeting_id}.")
    return meeting
