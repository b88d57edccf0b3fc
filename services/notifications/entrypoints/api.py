"""HTTP API of the notifications service.

Contact details, preferences, erasure and what a person was told; the in-app feed (also as a
server-sent-events stream); who is told what (rules, budget holders); webhook subscriptions
for systems without Kafka, with their delivery log.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ValidationError

from services.notifications import handlers
from services.notifications.domain import commands
from services.notifications.domain.model import (
    PERSON_ID,
    BudgetHolder,
    Contact,
    ContentMode,
    DeliveryStatus,
    Follow,
    FollowTarget,
    Message,
    Preferences,
    SubscriptionStatus,
    WebhookSubscription,
)
from services.notifications.domain.rules import Rule
from services.notifications.fanout import Bell
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks import delivery_log
from shared import clock
from shared.auth import Authorize, Principal, Role
from shared.http import Problem

router = APIRouter(prefix="/v1/municipalities/{municipality}", tags=["notifications"])
PersonId = Annotated[str, Path(min_length=1, max_length=64, pattern=PERSON_ID)]

# Any role may reach these routes; who may act for which person is checked per request below.
may_manage_contact = Authorize(*Role)
MANAGE_FOR_OTHERS = frozenset({Role.SYSTEM, Role.CIVIL_SERVANT})
ERASE_FOR_OTHERS = frozenset({Role.SYSTEM})
may_configure = Authorize(Role.SYSTEM, Role.CIVIL_SERVANT)
# A resident follows for themself; a civil servant may do it for them (e.g. at the counter).
may_follow = Authorize(Role.RESIDENT, Role.CIVIL_SERVANT)
FOLLOW_FOR_OTHERS = frozenset({Role.CIVIL_SERVANT})
TargetId = Annotated[str, Path(min_length=1, max_length=64, pattern=PERSON_ID)]
SubscriptionId = Annotated[str, Path(min_length=1, max_length=36)]


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
    """The right to erasure: contact details, preferences, follows and unsent messages go.

    `person-erased` is published, so other services erase what they hold too.
    """
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


class FeedEntry(BaseModel):
    """One entry of a person's in-app feed."""

    id: str
    kind: str
    subject: str
    body: str
    cause_event_type: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, message: Message) -> FeedEntry:
        return cls(
            id=message.id,
            kind=message.kind.value,
            subject=message.subject,
            body=message.body,
            cause_event_type=message.cause.event_type,
            created_at=message.created_at,
            read_at=message.read_at,
        )


class SubscriptionView(BaseModel):
    """A webhook subscription as shown after creation: the secret is never shown again."""

    id: str
    owner_id: str
    callback_url: str
    content_mode: ContentMode
    event_types: list[str]
    neighbourhoods: list[str]
    status: SubscriptionStatus
    consecutive_failures: int
    suspended_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, subscription: WebhookSubscription) -> SubscriptionView:
        return cls.model_validate(subscription.model_dump(exclude={"secret", "auth"}))


class CreatedSubscription(SubscriptionView):
    """The new subscription with its signing secret: store it, it is shown only now."""

    secret: str


@router.get("/contacts/{person_id}/preferences")
async def get_preferences(
    person_id: PersonId,
    principal: Annotated[Principal, Depends(may_manage_contact)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> Preferences:
    require_self_or(principal, person_id, MANAGE_FOR_OTHERS)
    async with uow:
        found = await uow.preferences.get(principal.municipality, person_id)
    return found or Preferences(municipality=principal.municipality, person_id=person_id)


@router.put("/contacts/{person_id}/preferences")
async def save_preferences(
    person_id: PersonId,
    body: commands.SavePreferences,
    principal: Annotated[Principal, Depends(may_manage_contact)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> Preferences:
    """Per category: immediately, daily or weekly digest, or never; SMS; quiet hours."""
    require_self_or(principal, person_id, MANAGE_FOR_OTHERS)
    async with uow:
        return await handlers.save_preferences(
            body, municipality=principal.municipality, person_id=person_id, uow=uow
        )


@router.get("/contacts/{person_id}/feed")
async def get_feed(
    person_id: PersonId,
    principal: Annotated[Principal, Depends(may_manage_contact)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
    after: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FeedEntry]:
    """The person's in-app feed, oldest first; page on with ``after`` (the last id seen)."""
    require_self_or(principal, person_id, MANAGE_FOR_OTHERS)
    async with uow:
        entries = await uow.messages.feed(
            principal.municipality, person_id, after=after, limit=limit
        )
    return [FeedEntry.of(entry) for entry in entries]


@router.post("/contacts/{person_id}/feed/{entry_id}/read", status_code=204)
async def mark_read(
    person_id: PersonId,
    entry_id: Annotated[str, Path(max_length=36)],
    principal: Annotated[Principal, Depends(may_manage_contact)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> Response:
    require_self_or(principal, person_id, frozenset())
    async with uow:
        found = await uow.messages.mark_read(
            principal.municipality, person_id, entry_id, clock.now()
        )
        await uow.commit()
    if not found:
        raise Problem(404, "Feed entry not found", f"No feed entry {entry_id} for {person_id}.")
    return Response(status_code=204)


@router.get("/contacts/{person_id}/feed/stream")
async def stream_feed(
    request: Request,
    person_id: PersonId,
    principal: Annotated[Principal, Depends(may_manage_contact)],
    last_event_id: Annotated[str | None, Header(max_length=36)] = None,
) -> StreamingResponse:
    """New feed entries as server-sent events; reconnect with ``Last-Event-ID`` to resume."""
    require_self_or(principal, person_id, MANAGE_FOR_OTHERS)
    settings: NotificationsSettings = request.app.state.settings
    bell: Bell = request.app.state.feed_bell
    municipality = principal.municipality

    async def events() -> AsyncIterator[str]:
        after = last_event_id
        yield "retry: 3000\n\n"
        while not await request.is_disconnected():
            async with request.app.state.unit_of_work() as uow:
                entries = await uow.messages.feed(municipality, person_id, after=after, limit=100)
            for entry in entries:
                data = FeedEntry.of(entry).model_dump_json()
                yield f"id: {entry.id}\nevent: notification\ndata: {data}\n\n"
                after = entry.id
            if not entries:
                # Another replica may have written: poll now and then, wake at once for ours.
                await bell.wait(settings.feed_poll_seconds)
                yield ": keep-alive\n\n"
            await asyncio.sleep(0)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _follow_command(target: FollowTarget, target_id: str) -> commands.FollowCommand:
    try:
        return commands.FollowCommand(target=target, target_id=target_id)
    except ValidationError as error:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        raise Problem(422, "Cannot follow this", reasons) from None


@router.get("/contacts/{person_id}/follows")
async def list_follows(
    person_id: PersonId,
    principal: Annotated[Principal, Depends(may_follow)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> list[Follow]:
    """The neighbourhoods and budgets the person follows."""
    require_self_or(principal, person_id, FOLLOW_FOR_OTHERS)
    async with uow:
        return await uow.follows.of_person(principal.municipality, person_id)


@router.put("/contacts/{person_id}/follows/{target}/{target_id}")
async def follow(
    person_id: PersonId,
    target: FollowTarget,
    target_id: TargetId,
    principal: Annotated[Principal, Depends(may_follow)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> Follow:
    """Follow a neighbourhood (CBS code) or a budget: its rounds, spending and money moves."""
    require_self_or(principal, person_id, FOLLOW_FOR_OTHERS)
    command = _follow_command(target, target_id)
    async with uow:
        return await handlers.follow(
            command, municipality=principal.municipality, person_id=person_id, uow=uow
        )


@router.delete("/contacts/{person_id}/follows/{target}/{target_id}", status_code=204)
async def unfollow(
    person_id: PersonId,
    target: FollowTarget,
    target_id: TargetId,
    principal: Annotated[Principal, Depends(may_follow)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> Response:
    """Stop following a neighbourhood or a budget."""
    require_self_or(principal, person_id, FOLLOW_FOR_OTHERS)
    command = _follow_command(target, target_id)
    async with uow:
        removed = await handlers.unfollow(
            command, municipality=principal.municipality, person_id=person_id, uow=uow
        )
    if not removed:
        raise Problem(
            404, "Not followed", f"{person_id} does not follow {target.value} {target_id}."
        )
    return Response(status_code=204)


@router.get("/budget-holders")
async def list_budget_holders(
    principal: Annotated[Principal, Depends(may_configure)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> list[BudgetHolder]:
    async with uow:
        return await uow.budget_holders.all(principal.municipality)


@router.put("/budget-holders/{person_id}")
async def save_budget_holder(
    person_id: PersonId,
    body: commands.SaveBudgetHolder,
    principal: Annotated[Principal, Depends(may_configure)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> BudgetHolder:
    """Who is told when an initiative is ready for decision, for which neighbourhoods."""
    async with uow:
        return await handlers.save_budget_holder(
            body, municipality=principal.municipality, person_id=person_id, uow=uow
        )


@router.delete("/budget-holders/{person_id}", status_code=204)
async def remove_budget_holder(
    person_id: PersonId,
    principal: Annotated[Principal, Depends(may_configure)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> Response:
    async with uow:
        await uow.budget_holders.delete(principal.municipality, person_id)
        await uow.commit()
    return Response(status_code=204)


@router.get("/notification-rules")
async def list_rules(
    principal: Annotated[Principal, Depends(may_configure)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> list[Rule]:
    """The defaults ('*') and this municipality's own rules, which override them."""
    async with uow:
        return await uow.rules.all(principal.municipality)


@router.put("/notification-rules")
async def save_rule(
    body: commands.SaveRule,
    principal: Annotated[Principal, Depends(may_configure)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> Rule:
    """Add or override a rule for this municipality; ``enabled: false`` switches one off."""
    async with uow:
        return await handlers.save_rule(body, municipality=principal.municipality, uow=uow)


@router.post("/webhooks", status_code=201)
async def create_webhook(
    body: commands.CreateWebhookSubscription,
    principal: Annotated[Principal, Depends(may_configure)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> CreatedSubscription:
    """Subscribe a system to this municipality's events, as signed CloudEvents over HTTP."""
    async with uow:
        subscription = await handlers.create_subscription(
            body, municipality=principal.municipality, owner_id=principal.subject, uow=uow
        )
    return CreatedSubscription(
        **SubscriptionView.of(subscription).model_dump(), secret=subscription.secret
    )


@router.get("/webhooks")
async def list_webhooks(
    principal: Annotated[Principal, Depends(may_configure)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> list[SubscriptionView]:
    async with uow:
        found = await uow.webhooks.subscriptions(principal.municipality)
    return [SubscriptionView.of(s) for s in found]


async def _subscription(
    uow: NotificationsUnitOfWork, municipality: str, subscription_id: str
) -> WebhookSubscription:
    found = await uow.webhooks.subscription(municipality, subscription_id)
    if found is None:
        raise Problem(404, "Subscription not found", f"No webhook subscription {subscription_id}.")
    return found


@router.get("/webhooks/{subscription_id}")
async def get_webhook(
    subscription_id: SubscriptionId,
    principal: Annotated[Principal, Depends(may_configure)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> SubscriptionView:
    async with uow:
        return SubscriptionView.of(
            await _subscription(uow, principal.municipality, subscription_id)
        )


@router.delete("/webhooks/{subscription_id}", status_code=204)
async def delete_webhook(
    subscription_id: SubscriptionId,
    principal: Annotated[Principal, Depends(may_configure)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> Response:
    async with uow:
        await _subscription(uow, principal.municipality, subscription_id)
        await uow.webhooks.delete_subscription(principal.municipality, subscription_id)
        await uow.commit()
    return Response(status_code=204)


@router.post("/webhooks/{subscription_id}/reactivate")
async def reactivate_webhook(
    subscription_id: SubscriptionId,
    principal: Annotated[Principal, Depends(may_configure)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
) -> SubscriptionView:
    """Active again after a suspension; what waited meanwhile is delivered now."""
    async with uow:
        await _subscription(uow, principal.municipality, subscription_id)
        await uow.webhooks.reactivate(principal.municipality, subscription_id, clock.now())
        uow.queued_webhooks += 1
        await uow.commit()
    async with uow:
        return SubscriptionView.of(
            await _subscription(uow, principal.municipality, subscription_id)
        )


@router.get("/webhooks/{subscription_id}/deliveries")
async def list_deliveries(
    subscription_id: SubscriptionId,
    principal: Annotated[Principal, Depends(may_configure)],
    uow: Annotated[NotificationsUnitOfWork, Depends(unit_of_work)],
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """The delivery log: each delivery with every attempt, its HTTP status or error."""
    async with uow:
        await _subscription(uow, principal.municipality, subscription_id)
        deliveries = await uow.webhooks.deliveries(subscription_id, status=status, limit=limit)
        attempts = await uow.webhooks.attempts([d.id for d in deliveries])
    return json.loads(json.dumps(delivery_log(deliveries, attempts), default=str))
