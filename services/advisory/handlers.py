"""Use cases of the advisory service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.advisory import integration
from services.advisory.domain import commands
from services.advisory.domain.deadlines import advice_deadline
from services.advisory.domain.exceptions import AlreadyRequested, NotFound
from services.advisory.domain.model import (
    Advice,
    AdviceRequest,
    AdviceRound,
    Council,
    RoundStatus,
)
from services.advisory.persistence.unit_of_work import AdvisoryUnitOfWork
from shared.contracts.envelope import Envelope


def _now() -> datetime:
    return datetime.now(UTC)


async def create_council(
    command: commands.CreateCouncil,
    *,
    municipality: str,
    default_days: int,
    uow: AdvisoryUnitOfWork,
) -> Council:
    council = Council(
        id=str(uuid.uuid4()),
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


async def appoint_member(
    command: commands.AppointMember, *, municipality: str, council_id: str, uow: AdvisoryUnitOfWork
) -> Council:
    council = await _council(uow, municipality, council_id)
    if council.appoint(command.person_id, command.role):
        member = next(m for m in council.members if m.person_id == command.person_id)
        uow.publish(uow.wrap(integration.member_appointed(council, member)))
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
    await uow.councils.save(council)
    await uow.commit()
    return council


async def request_advice(
    command: commands.RequestAdvice,
    *,
    municipality: str,
    cause: Envelope,
    uow: AdvisoryUnitOfWork,
) -> AdviceRound:
    """Route an initiative to the councils that cover it; runs in the consumer's transaction.

    A subject that matches no council is kept as an unrouted round for a civil servant to
    route: it is never dropped.
    """
    if await uow.rounds.for_subject(municipality, "initiative", command.subject_id):
        # Redeliveries never get here (the inbox drops them); a second, different event asking
        # review for the same initiative is a fault upstream, for an operator to look at.
        raise AlreadyRequested(f"advice on initiative {command.subject_id} was already requested")
    now = _now()
    councils = [
        c
        for c in await uow.councils.list(municipality)
        if c.covers(command.neighbourhood, command.theme)
    ]
    advice_round = AdviceRound(
        id=str(uuid.uuid4()),
        municipality=municipality,
        subject_kind="initiative",
        subject_id=command.subject_id,
        title=command.title,
        status=RoundStatus.OPEN if councils else RoundStatus.UNROUTED,
        requests=[
            AdviceRequest(
                id=str(uuid.uuid4()),
                council_id=council.id,
                council_kind=council.kind,
                deadline=advice_deadline(
                    now, council.advice_days, working_days=council.working_days
                ),
            )
            for council in councils
        ],
    )
    await uow.rounds.save(advice_round)
    for request in advice_round.requests:
        uow.publish(uow.wrap(integration.advice_requested(advice_round, request), cause))
    return advice_round


async def give_advice(
    command: commands.GiveAdvice,
    *,
    municipality: str,
    round_id: str,
    request_id: str,
    given_by: str,
    uow: AdvisoryUnitOfWork,
) -> AdviceRound:
    advice_round = await uow.rounds.get(municipality, round_id, lock=True)
    request = advice_round.request(request_id) if advice_round else None
    if advice_round is None or request is None:
        raise NotFound(f"advice request {request_id} of round {round_id} does not exist")
    council = await _council(uow, municipality, request.council_id)
    advice = Advice(given_by=given_by, given_at=_now(), **command.model_dump())
    completed = advice_round.give_advice(request_id, council, advice)
    await uow.rounds.save(advice_round)
    given = uow.wrap(integration.advice_given(advice_round, request))
    uow.publish(given)
    if completed:
        uow.publish(uow.wrap(integration.round_completed(advice_round), given))
    await uow.commit()
    return advice_round
