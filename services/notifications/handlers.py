"""Use cases of the notifications service.

The API's use cases commit their own unit of work; the consumers' use cases run inside a
batch transaction that the consumer commits. Composing a message only inserts a row: the
dispatcher sends it later, so a consumer never waits on a mail server.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from services.notifications.domain import commands, events, rules
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
)
from services.notifications.integration import to_contract
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork

log = logging.getLogger(__name__)

# E-mail is the one channel of the first workflow; SMS and feeds come with their own templates.
CHANNELS: tuple[Channel, ...] = (Channel.EMAIL,)


def _now() -> datetime:
    return datetime.now(UTC)


async def save_contact(
    command: commands.SaveContact,
    *,
    municipality: str,
    person_id: str,
    uow: NotificationsUnitOfWork,
) -> Contact:
    contact = Contact(
        municipality=municipality,
        person_id=person_id,
        email=command.email,
        phone=command.phone,
        language=command.language,
        updated_at=_now(),
    )
    await uow.contacts.save(contact)
    await uow.commit()
    return contact


async def erase_person(*, municipality: str, person_id: str, uow: NotificationsUnitOfWork) -> None:
    """The right to erasure: contact details and unsent messages go, pseudonymous history stays.

    ``PersonErased`` is published on every request, also when nothing was stored here: other
    services may hold data about the person and erase on this event.
    """
    await uow.contacts.delete(municipality, person_id)
    await uow.messages.erase_for(municipality, person_id)
    erased = events.PersonErased(municipality=municipality, person_id=person_id, at=_now())
    uow.publish(uow.wrap(to_contract(erased)))
    await uow.commit()


async def record_council_member(
    command: commands.RecordCouncilMember, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    await uow.councils.appoint(CouncilMember(municipality=municipality, **command.model_dump()))


async def remove_council_member(
    command: commands.RemoveCouncilMember, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    await uow.councils.leave(municipality, command.council_id, command.member_id)


async def record_initiative(
    command: commands.RecordInitiative, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    view = await uow.initiatives.get(municipality, command.initiative_id)
    facts = {"initiator_id": command.initiator_id, "title": command.title}
    if view is None:
        view = InitiativeView(
            municipality=municipality, initiative_id=command.initiative_id, **facts
        )
    else:
        view = view.model_copy(update=facts)
    await uow.initiatives.save(view)
    await _resume_parked(view, uow)


async def record_decision(
    command: commands.RecordDecision, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    view = InitiativeView(municipality=municipality, **command.model_dump())
    await uow.initiatives.save(view)
    await _resume_parked(view, uow)


async def notify_advice_requested(
    command: commands.NotifyAdviceRequested, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    members = await uow.councils.members(municipality, command.council_id)
    if not members:
        log.warning(
            "advice requested from council %s, which has no known members", command.council_id
        )
    await _compose(rules.advice_requested(command, members), command.cause, municipality, uow)


async def notify_budget_allocated(
    command: commands.NotifyBudgetAllocated, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    initiative = await uow.initiatives.get(municipality, command.initiative_id)
    if initiative is None or rules.needs_decision_first(initiative):
        await uow.parked.park(municipality, command.initiative_id, command, _now())
        return
    await _compose(rules.budget_allocated(command, initiative), command.cause, municipality, uow)


async def notify_allocation_rejected(
    command: commands.NotifyAllocationRejected, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    initiative = await uow.initiatives.get(municipality, command.initiative_id)
    if initiative is None or rules.needs_decision_first(initiative):
        await uow.parked.park(municipality, command.initiative_id, command, _now())
        return
    await _compose(rules.allocation_rejected(command, initiative), command.cause, municipality, uow)


async def notify_initiative_decided(
    command: commands.NotifyInitiativeDecided, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    await _compose(rules.initiative_decided(command), command.cause, municipality, uow)


Resume = Callable[[Any, str, NotificationsUnitOfWork], Awaitable[None]]
_RESUMABLE: dict[str, tuple[type[commands.Notify], Resume]] = {
    "NotifyBudgetAllocated": (
        commands.NotifyBudgetAllocated,
        lambda c, m, uow: notify_budget_allocated(c, municipality=m, uow=uow),
    ),
    "NotifyAllocationRejected": (
        commands.NotifyAllocationRejected,
        lambda c, m, uow: notify_allocation_rejected(c, municipality=m, uow=uow),
    ),
}


async def _resume_parked(view: InitiativeView, uow: NotificationsUnitOfWork) -> None:
    """Tell what waited for this initiative's decision, now that the view has it."""
    if rules.needs_decision_first(view):
        return
    parked = await uow.parked.waiting_for(view.municipality, view.initiative_id)
    for _, command_type, payload in parked:
        model, resume = _RESUMABLE[command_type]
        await resume(model.model_validate_json(payload), view.municipality, uow)
    await uow.parked.release([parked_id for parked_id, _, _ in parked])


async def _compose(
    notices: list[Notice], cause: Cause, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    """One message row per (notice, channel); a redelivered event adds nothing."""
    if not notices:
        return
    contacts = await uow.contacts.get_many(municipality, [n.recipient_id for n in notices])
    now = _now()
    for notice in notices:
        contact = contacts.get(notice.recipient_id)
        rendered = uow.renderer.render(
            notice, contact.language if contact else Language.DUTCH, municipality
        )
        for channel in CHANNELS:
            message = Message.compose(
                message_uuid=str(uuid.uuid4()),
                municipality=municipality,
                notice=notice,
                cause=cause,
                channel=channel,
                contact=contact,
                subject=rendered.subject,
                body=rendered.body,
                now=now,
            )
            inserted = await uow.messages.add_once(message)
            if inserted and message.status is MessageStatus.PENDING:
                uow.composed += 1
            elif inserted:
                log.info(
                    "no contact details for %s: %s kept as %s",
                    notice.recipient_id,
                    notice.kind.value,
                    message.status.value,
                )
