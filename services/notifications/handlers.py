"""Use cases of the notifications service.

The API's use cases commit their own unit of work; the consumers' use cases run inside a
batch transaction that the consumer commits. Composing a message only inserts a row: the
dispatcher sends it later, so a consumer never waits on a mail server.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.notifications.domain import commands, events, rules
from services.notifications.domain.model import (
    Audience,
    BudgetHolder,
    Cause,
    Channel,
    Contact,
    CouncilMember,
    FanoutJob,
    InitiativeView,
    Language,
    Message,
    MessageStatus,
    Notice,
    NoticeKind,
    Preferences,
    WebhookDelivery,
    WebhookSubscription,
    delivery_id,
    digest_key,
    push_schedule,
)
from services.notifications.integration import cloud_event, to_contract
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from shared.contracts.envelope import Envelope

log = logging.getLogger(__name__)

OFFICER_ROLES = frozenset({"chair", "secretary"})
DIGEST_EVENT_TYPE = "nl.inspraak.notifications.digest"
SUSPENSION_EVENT_TYPE = "nl.inspraak.notifications.webhook-suspended"


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
    await uow.preferences.delete(municipality, person_id)
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
    facts: dict[str, Any] = {"initiator_id": command.initiator_id, "title": command.title}
    if command.neighbourhood:
        facts["neighbourhood"] = command.neighbourhood
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


async def record_support(
    command: commands.RecordSupport, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    await uow.supporters.set(
        municipality, command.initiative_id, command.supporter_id, supported=command.supported
    )


async def save_preferences(
    command: commands.SavePreferences,
    *,
    municipality: str,
    person_id: str,
    uow: NotificationsUnitOfWork,
) -> Preferences:
    preferences = Preferences(municipality=municipality, person_id=person_id, **dict(command))
    await uow.preferences.save(preferences)
    await uow.commit()
    return preferences


async def save_budget_holder(
    command: commands.SaveBudgetHolder,
    *,
    municipality: str,
    person_id: str,
    uow: NotificationsUnitOfWork,
) -> BudgetHolder:
    holder = BudgetHolder(
        municipality=municipality, person_id=person_id, neighbourhoods=command.neighbourhoods
    )
    await uow.budget_holders.save(holder)
    await uow.commit()
    return holder


async def save_rule(
    command: commands.SaveRule, *, municipality: str, uow: NotificationsUnitOfWork
) -> rules.Rule:
    rule = rules.Rule(municipality=municipality, **dict(command))
    await uow.rules.save(rule)
    await uow.commit()
    return rule


async def create_subscription(
    command: commands.CreateWebhookSubscription,
    *,
    municipality: str,
    owner_id: str,
    uow: NotificationsUnitOfWork,
) -> WebhookSubscription:
    subscription = WebhookSubscription(
        id=str(uuid.uuid4()),
        municipality=municipality,
        owner_id=command.owner_id or owner_id,
        callback_url=command.callback_url,
        auth=command.auth,
        secret=command.secret or secrets.token_urlsafe(32),
        content_mode=command.content_mode,
        event_types=command.event_types,
        neighbourhoods=command.neighbourhoods,
        created_at=_now(),
    )
    await uow.webhooks.add_subscription(subscription)
    await uow.commit()
    return subscription


async def queue_webhooks(
    envelope: Envelope, *, neighbourhood: str | None, uow: NotificationsUnitOfWork
) -> int:
    """One delivery per matching subscription, with an id derived from (event, subscription).

    Suspended subscriptions get their deliveries queued too: they go out once reactivated.
    """
    subscriptions = await uow.webhooks.subscriptions(envelope.municipality)
    matching = [
        s for s in subscriptions if s.matches(envelope.type, envelope.municipality, neighbourhood)
    ]
    if not matching:
        return 0
    event = cloud_event(envelope)
    now = _now()
    queued = 0
    for subscription in matching:
        queued += await uow.webhooks.add_delivery_once(
            WebhookDelivery(
                id=delivery_id(envelope.source, envelope.id, subscription.id),
                subscription_id=subscription.id,
                municipality=envelope.municipality,
                event_source=envelope.source,
                event_id=envelope.id,
                event_type=envelope.type,
                event=event,
                next_attempt_at=now,
                created_at=now,
            )
        )
    uow.queued_webhooks += queued
    return queued


async def neighbourhood_of(envelope: Envelope, uow: NotificationsUnitOfWork) -> str | None:
    """The event's neighbourhood: in its data, or known from the initiative it is about."""
    data = envelope.data
    found = getattr(data, "neighbourhood", None)
    if found:
        return str(found)
    initiative_id = getattr(data, "initiative_id", None)
    if initiative_id is None and getattr(data, "subject_kind", None) == "initiative":
        initiative_id = getattr(data, "subject_id", None)
    if initiative_id is None:
        return None
    view = await uow.initiatives.get(envelope.municipality, str(initiative_id))
    return view.neighbourhood if view else None


async def tell_suspension(
    subscription: WebhookSubscription, *, reason: str, uow: NotificationsUnitOfWork
) -> None:
    """Tell a suspended subscription's owner, once per suspension."""
    at = subscription.suspended_at or _now()
    event_id = hashlib.sha256(f"{subscription.id}\x1f{at.isoformat()}".encode()).hexdigest()
    cause = Cause(
        source=uow.settings.source_urn(subscription.municipality),
        event_id=event_id,
        event_type=SUSPENSION_EVENT_TYPE,
        correlation_id=event_id,
    )
    notice = Notice(
        kind=NoticeKind.WEBHOOK_SUSPENDED,
        recipient_id=subscription.owner_id,
        facts={
            "subscription_id": subscription.id,
            "callback_url": subscription.callback_url,
            "failures": subscription.consecutive_failures,
            "reason": reason,
        },
    )
    await _compose([notice], cause, subscription.municipality, uow)


@dataclass(frozen=True)
class Scope:
    """What an event is about, as far as finding its audiences goes."""

    initiator_id: str | None = None
    initiative_id: str | None = None
    council_ids: tuple[str, ...] = ()
    neighbourhood: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)


async def notify_advice_requested(
    command: commands.NotifyAdviceRequested, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    facts = command.model_dump(exclude={"cause"})
    scope = Scope(council_ids=(command.council_id,))
    await _tell(rules.ADVICE_REQUESTED, facts, command.cause, municipality, scope, uow)


async def notify_advice_overdue(
    command: commands.NotifyAdviceOverdue, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    facts = command.model_dump(exclude={"cause"})
    title = await _title(municipality, command.subject_kind, command.subject_id, uow)
    facts["title"] = title
    scope = Scope(council_ids=(command.council_id,))
    await _tell(rules.ADVICE_OVERDUE, facts, command.cause, municipality, scope, uow)


async def notify_advice_round_completed(
    command: commands.NotifyAdviceRoundCompleted,
    *,
    municipality: str,
    uow: NotificationsUnitOfWork,
) -> None:
    facts = command.model_dump(exclude={"cause"})
    facts["title"] = await _title(municipality, command.subject_kind, command.subject_id, uow)
    scope = Scope(council_ids=tuple(command.silent_councils))
    await _tell(rules.ADVICE_ROUND_COMPLETED, facts, command.cause, municipality, scope, uow)


async def notify_ready_for_decision(
    command: commands.NotifyReadyForDecision, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    view = await uow.initiatives.get(municipality, command.initiative_id)
    facts = command.model_dump(exclude={"cause"})
    facts["title"] = view.title if view else command.initiative_id
    scope = Scope(
        initiative_id=command.initiative_id,
        initiator_id=view.initiator_id if view else None,
        neighbourhood=view.neighbourhood if view else None,
    )
    await _tell(rules.INITIATIVE_READY_FOR_DECISION, facts, command.cause, municipality, scope, uow)


async def notify_budget_allocated(
    command: commands.NotifyBudgetAllocated, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    initiative = await uow.initiatives.get(municipality, command.initiative_id)
    if initiative is None or rules.needs_decision_first(initiative):
        await uow.parked.park(municipality, command.initiative_id, command, _now())
        return
    facts = {**_decision_facts(initiative), "amount_cents": command.amount_cents}
    await _tell(rules.BUDGET_ALLOCATED, facts, command.cause, municipality, _about(initiative), uow)


async def notify_allocation_rejected(
    command: commands.NotifyAllocationRejected, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    initiative = await uow.initiatives.get(municipality, command.initiative_id)
    if initiative is None or rules.needs_decision_first(initiative):
        await uow.parked.park(municipality, command.initiative_id, command, _now())
        return
    facts = {**_decision_facts(initiative), **command.model_dump(exclude={"cause"})}
    await _tell(
        rules.ALLOCATION_REJECTED, facts, command.cause, municipality, _about(initiative), uow
    )


async def notify_initiative_decided(
    command: commands.NotifyInitiativeDecided, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    facts = command.model_dump(exclude={"cause"})
    scope = Scope(initiator_id=command.initiator_id, initiative_id=command.initiative_id)
    await _tell(rules.INITIATIVE_DECIDED, facts, command.cause, municipality, scope, uow)


def _about(initiative: InitiativeView) -> Scope:
    return Scope(
        initiator_id=initiative.initiator_id,
        initiative_id=initiative.initiative_id,
        neighbourhood=initiative.neighbourhood,
    )


def _decision_facts(initiative: InitiativeView) -> dict[str, Any]:
    return {
        "initiative_id": initiative.initiative_id,
        "title": initiative.title,
        "decision": initiative.decision,
        "reasons": initiative.reasons or "",
        "conditions": list(initiative.conditions),
    }


async def _title(
    municipality: str, subject_kind: str, subject_id: str, uow: NotificationsUnitOfWork
) -> str:
    if subject_kind == "initiative":
        view = await uow.initiatives.get(municipality, subject_id)
        if view is not None:
            return view.title
    return subject_id


async def _tell(
    event_type: str,
    facts: dict[str, Any],
    cause: Cause,
    municipality: str,
    scope: Scope,
    uow: NotificationsUnitOfWork,
) -> None:
    """Apply the municipality's rules for this event: find each audience, compose for it."""
    stored = await uow.rules.for_event(municipality, event_type)
    for rule in rules.effective_rules(stored, municipality, event_type):
        if not rule.applies_to(facts):
            continue
        if rule.audience is Audience.SUPPORTERS:
            await _queue_fanout(rule, facts, cause, municipality, scope, uow)
            continue
        recipients = await _audience(rule.audience, municipality, scope, uow)
        if not recipients:
            log.info("%s: nobody in audience %s", event_type, rule.audience.value)
        notices = [
            Notice(kind=rule.notice, recipient_id=person, facts={**facts, **extra})
            for person, extra in sorted(recipients.items())
        ]
        await _compose(notices, cause, municipality, uow)


async def _audience(
    audience: Audience, municipality: str, scope: Scope, uow: NotificationsUnitOfWork
) -> dict[str, dict[str, Any]]:
    """Recipient id -> the facts only they get (e.g. their role in the council)."""
    found: dict[str, dict[str, Any]] = {}
    if audience is Audience.INITIATOR and scope.initiator_id:
        found[scope.initiator_id] = {}
    elif audience in (Audience.COUNCIL_MEMBERS, Audience.COUNCIL_OFFICERS):
        for council_id in scope.council_ids:
            members: list[CouncilMember] = await uow.councils.members(municipality, council_id)
            if not members:
                log.warning("council %s has no known members", council_id)
            for member in members:
                if audience is Audience.COUNCIL_OFFICERS and member.role not in OFFICER_ROLES:
                    continue
                found.setdefault(
                    member.member_id,
                    {
                        "member_role": member.role,
                        "council_kind": member.council_kind,
                        "council_id": council_id,
                    },
                )
    elif audience is Audience.BUDGET_HOLDERS:
        for holder in await uow.budget_holders.all(municipality):
            if holder.covers(scope.neighbourhood):
                found[holder.person_id] = {}
    return found


async def _queue_fanout(
    rule: rules.Rule,
    facts: dict[str, Any],
    cause: Cause,
    municipality: str,
    scope: Scope,
    uow: NotificationsUnitOfWork,
) -> None:
    """A possibly huge audience is told by the fan-out worker, batch by batch."""
    if scope.initiative_id is None:
        return
    material = "\x1f".join(
        (cause.source, cause.event_id, rule.audience.value, rule.notice.value, scope.initiative_id)
    )
    job = FanoutJob(
        id=hashlib.sha256(material.encode()).hexdigest(),
        municipality=municipality,
        audience=rule.audience,
        kind=rule.notice,
        scope_id=scope.initiative_id,
        facts=facts,
        cause=cause,
        created_at=_now(),
    )
    if await uow.fanouts.add_once(job):
        uow.queued_fanouts += 1


async def fanout_batch(uow: NotificationsUnitOfWork, *, batch_size: int) -> int:
    """Tell the next batch of the oldest unfinished fan-out; return how many were told.

    The cursor moves in the same transaction as the messages it composed, so a crash resumes
    after the last committed batch; a repeat of one batch is absorbed by the idempotency keys.
    """
    job = await uow.fanouts.claim_next()
    if job is None:
        return 0
    recipients = await uow.supporters.page(
        job.municipality, job.scope_id, after=job.cursor, limit=batch_size
    )
    notices = [Notice(kind=job.kind, recipient_id=r, facts=job.facts) for r in recipients]
    await _compose(notices, job.cause, job.municipality, uow)
    done = len(recipients) < batch_size
    await uow.fanouts.advance(job.id, recipients[-1] if recipients else job.cursor, done=done)
    return max(1, len(recipients))


async def bundle_digests(uow: NotificationsUnitOfWork, *, now: datetime, limit: int) -> int:
    """Turn held messages whose time has come into one digest per recipient and channel."""
    held = await uow.messages.claim_held_due(now=now, limit=limit)
    groups: dict[tuple[str, str, Channel, datetime], list[Message]] = {}
    for message in held:
        due = message.next_attempt_at or now
        groups.setdefault(
            (message.municipality, message.recipient_id, message.channel, due), []
        ).append(message)
    for (municipality, recipient, channel, due), items in groups.items():
        contact = await uow.contacts.get(municipality, recipient)
        preferences = await uow.preferences.get(municipality, recipient)
        language = contact.language if contact else Language.DUTCH
        notice = Notice(
            kind=NoticeKind.DIGEST,
            recipient_id=recipient,
            facts={
                "items": [{"subject": m.subject, "kind": m.kind.value} for m in items],
                "count": len(items),
            },
        )
        rendered = uow.renderer.render(notice, language, municipality)
        key = digest_key(municipality, recipient, channel, due)
        quiet = preferences.quiet_hours if preferences else None
        send_at = quiet.release(now) if quiet else now
        digest = Message(
            id=str(uuid.uuid4()),
            idempotency_key=key,
            municipality=municipality,
            recipient_id=recipient,
            channel=channel,
            kind=NoticeKind.DIGEST,
            language=language,
            subject=rendered.subject,
            body=rendered.body,
            html=rendered.html,
            cause=Cause(
                source=uow.settings.source_urn(municipality),
                event_id=key,
                event_type=DIGEST_EVENT_TYPE,
                correlation_id=key,
            ),
            status=MessageStatus.PENDING if contact else MessageStatus.UNDELIVERABLE,
            next_attempt_at=send_at if contact else None,
            last_error=None if contact else "no contact details for this person",
            created_at=now,
        )
        if await uow.messages.add_once(digest):
            uow.composed += 1
            digest_id = digest.id
        else:
            digest_id = await uow.messages.id_for_key(key) or digest.id
        await uow.messages.bundle([m.id for m in items], digest_id)
    return len(groups)


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
    """One feed entry and one message per push channel the person wants; never twice.

    A redelivered event adds nothing: every row is unique per (event, recipient, channel).
    """
    if not notices:
        return
    ids = [n.recipient_id for n in notices]
    contacts = await uow.contacts.get_many(municipality, ids)
    preferences = await uow.preferences.get_many(municipality, ids)
    now = _now()
    for notice in notices:
        contact = contacts.get(notice.recipient_id)
        rendered = uow.renderer.render(
            notice, contact.language if contact else Language.DUTCH, municipality
        )
        feed = Message.compose(
            message_uuid=str(uuid.uuid4()),
            municipality=municipality,
            notice=notice,
            cause=cause,
            channel=Channel.FEED,
            contact=contact,
            subject=rendered.subject,
            body=rendered.body,
            now=now,
        )
        uow.fed += await uow.messages.add_once(feed)
        for channel in (Channel.EMAIL, Channel.SMS):
            plan = push_schedule(
                preferences.get(notice.recipient_id), notice.kind, channel, now, uow.digests
            )
            if plan is None:
                continue
            status, send_at = plan
            message = Message.compose(
                message_uuid=str(uuid.uuid4()),
                municipality=municipality,
                notice=notice,
                cause=cause,
                channel=channel,
                contact=contact,
                subject=rendered.subject,
                body=rendered.sms if channel is Channel.SMS else rendered.body,
                html=rendered.html if channel is Channel.EMAIL else None,
                now=now,
                status=status,
                send_at=send_at,
            )
            inserted = await uow.messages.add_once(message)
            if inserted and message.status is MessageStatus.PENDING:
                uow.composed += 1
            elif inserted and message.status is not MessageStatus.HELD:
                log.info(
                    "no contact details for %s: %s kept as %s",
                    notice.recipient_id,
                    notice.kind.value,
                    message.status.value,
                )
