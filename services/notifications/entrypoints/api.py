"""HTTP API of the notifications service: contact details, erasure, and what a person was told."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel

from services.notifications import handlers
from services.notifications.domain import commands
from services.notifications.domain.model import PERSON_ID, Contact, Message
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from shared.auth import Authorize, Principal, Role
from shared.http import Problem

router = APIRouter(prefix="/v1/municipalities/{municipality}", tags=["notifications"])
PersonId = Annotated[str, Path(min_length=1, max_length=64, pattern=PERSON_ID)]

# Any role may reach these routes; who may act for which person is checked per request below.
may_manage_contact = Authorize(*Role)
MANAGE_FOR_OTHERS = frozenset({Role.SYSTEM, Role.CIVIL_SERVANT})
ERASE_FOR_OTHERS = frozenset({Role.SYSTEM})


def unit_of_work(request: Request) -> NotificationsUnitOfWork:
    return request.app.state.unit_of_work()


def require_self_or(principal: Principal, person_id: str, roles: frozenset[Role]) -> None:
    if principal.subject == person_id or principal.role in roles:
        return
    allowed = ", ".join(sorted(roles))
    raise Problem(
        403,
        "Forbidden",
        f"Only the person themself or a caller with role {allowed} may do this for {person_id}.",
    )


class MessageSummary(BaseModel):
    """What a person was told (or could not be told), without their contact details."""

    id: str
    kind: str
    channel: str
    language: str
    status: str
    subject: str
    attempts: int
    cause_event_type: str
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, message: Message) -> MessageSummary:
        return cls(
            id=message.id,
            kind=message.kind.value,
            channel=message.channel.value,
            language=message.language.value,
            status=message.status.value,
            subject=message.subject,
            attempts=message.attempts,
            cause_event_type=message.cause.event_type,
            created_at=message.created_at,
            sent_at=message.sent_at,
            last_error=message.last_error,
        )


@router.put("/contacts/{person_id}")
async def save_contact(
    person_id: PersonId,
    body: commands.SaveContact,
    principal: Annotated[Principal, Depends(may_manage_contact)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> Contact:
    """Set how a person is reached: by the person themself, a municipal system or staff."""
    require_self_or(principal, person_id, MANAGE_FOR_OTHERS)
    async with uow:
        return await handlers.save_contact(
            body, municipality=principal.municipality, person_id=person_id, uow=uow
        )


@router.get("/contacts/{person_id}")
async def get_contact(
    person_id: PersonId,
    principal: Annotated[Principal, Depends(may_manage_contact)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> Contact:
    require_self_or(principal, person_id, MANAGE_FOR_OTHERS)
    async with uow:
        contact = await uow.contacts.get(principal.municipality, person_id)
    if contact is None:
        raise Problem(404, "Contact not found", f"No contact details for {person_id}.")
    return contact


@router.delete("/contacts/{person_id}", status_code=204)
async def erase_contact(
    person_id: PersonId,
    principal: Annotated[Principal, Depends(may_manage_contact)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> Response:
    """The right to erasure: contact details and unsent messages go; `person-erased` follows."""
    require_self_or(principal, person_id, ERASE_FOR_OTHERS)
    async with uow:
        await handlers.erase_person(
            municipality=principal.municipality, person_id=person_id, uow=uow
        )
    return Response(status_code=204)


@router.get("/contacts/{person_id}/messages")
async def list_messages(
    person_id: PersonId,
    principal: Annotated[Principal, Depends(may_manage_contact)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> list[MessageSummary]:
    """What the person was told, and whether it reached them."""
    require_self_or(principal, person_id, MANAGE_FOR_OTHERS)
    async with uow:
        messages = await uow.messages.list_for(principal.municipality, person_id)
    return [MessageSummary.of(message) for message in messages]
