"""Use cases of the notifications service.

The API's use cases commit their own unit of work; the consumers' use cases run inside a
batch transaction that the consumer commits. Composing a message only inserts a row: the
dispatcher sends it later, so a consumer never waits on a mail server.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.notifications import rendering
from services.notifications.domain import commands, events, rules
from services.notifications.domain.model import (
    Audience,
    BudgetHolder,
    Cause,
    Channel,
    ConsultationView,
    Contact,
    CouncilMember,
    FanoutJob,
    Follow,
    FollowTarget,
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
from shared import clock
from shared.contracts.envelope import Envelope

log = logging.getLogger(__name__)

OFFICER_ROLES = frozenset({"chair", "secretary"})
DIGEST_EVENT_TYPE = "nl.inspraak.notifications.digest"
SUSPENSION_EVENT_TYPE = "nl.inspraak.notifications.webhook-suspended"


def _now() -> datetime:
    return clock.now()


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
    """The right to erasure: contact details, preferences, what the person follows and unsent
    messages go; the pseudonymous history stays.

    ``PersonErased`` is published on every request, also when nothing was stored here: other
    services may hold data about the person and erase on this event.
    """
    await uow.contacts.delete(municipality, person_id)
    await uow.preferences.delete(municipality, person_id)
    await uow.follows.erase_for(municipality, person_id)
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


async def follow(
    command: commands.FollowCommand,
    *,
    municipality: str,
    person_id: str,
    uow: NotificationsUnitOfWork,
) -> Follow:
    """Follow a neighbourhood or a budget; following it again changes nothing."""
    stored = await uow.follows.add(
        Follow(
            municipality=municipality,
            person_id=person_id,
            target=command.target,
            target_id=command.target_id,
            since=_now(),
        )
    )
    await uow.commit()
    return stored


async def unfollow(
    command: commands.FollowCommand,
    *,
    municipality: str,
    person_id: str,
    uow: NotificationsUnitOfWork,
) -> bool:
    """Stop following; False when the person did not follow it."""
    removed = await uow.follows.remove(municipality, person_id, command.target, command.target_id)
    await uow.commit()
    return removed


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
    reporter_id: str | None = None
    # Named by the event itself (advice-overdue's ``escalate_to``), else found in the view.
    officer_ids: tuple[str, ...] = ()
    followed: tuple[tuple[FollowTarget, str], ...] = ()
    # An alternative budget's residents, as the event names them.
    drafter_id: str | None = None
    co_signer_ids: tuple[str, ...] = ()
    # The residents who gave input on a policy consultation, as the event names them.
    contributor_ids: tuple[str, ...] = ()


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
    scope = Scope(council_ids=(command.council_id,), officer_ids=tuple(command.escalate_to))
    await _tell(rules.ADVICE_OVERDUE, facts, command.cause, municipality, scope, uow)


async def notify_advice_deadline_approaching(
    command: commands.NotifyAdviceDeadlineApproaching,
    *,
    municipality: str,
    uow: NotificationsUnitOfWork,
) -> None:
    facts = command.model_dump(exclude={"cause"})
    facts["title"] = await _title(municipality, command.subject_kind, command.subject_id, uow)
    scope = Scope(council_ids=(command.council_id,))
    await _tell(rules.ADVICE_DEADLINE_APPROACHING, facts, command.cause, municipality, scope, uow)


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
    facts = {
        **_decision_facts(initiative),
        "amount_cents": command.amount_cents,
        "budget_id": command.budget_id,
        "available_after_cents": command.available_after_cents,
    }
    scope = dataclasses.replace(
        _about(initiative),
        followed=rules.followed_by(rules.BUDGET_ALLOCATED, command.budget_id, None),
    )
    await _tell(rules.BUDGET_ALLOCATED, facts, command.cause, municipality, scope, uow)


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


async def notify_initiative_changed(
    command: commands.NotifyInitiativeChanged, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    """Tell whoever the rules name for this initiative event (its type is the cause's)."""
    view = await uow.initiatives.get(municipality, command.initiative_id)
    initiator = command.initiator_id or (view.initiator_id if view else None)
    if initiator is None:
        log.warning("initiative %s unknown here: its initiator is not told", command.initiative_id)
    facts = {
        "initiative_id": command.initiative_id,
        "title": view.title if view else command.initiative_id,
        **command.facts,
    }
    scope = Scope(
        initiator_id=initiator,
        initiative_id=command.initiative_id,
        neighbourhood=view.neighbourhood if view else None,
    )
    await _tell(command.cause.event_type, facts, command.cause, municipality, scope, uow)


async def notify_report_handled(
    command: commands.NotifyReportHandled, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    facts = command.model_dump(exclude={"cause", "reporter_id"})
    if command.initiative_id is None:
        del facts["initiative_id"]
    scope = Scope(reporter_id=command.reporter_id, neighbourhood=command.neighbourhood)
    await _tell(rules.REPORT_HANDLED, facts, command.cause, municipality, scope, uow)


async def notify_money_moved(
    command: commands.NotifyMoneyMoved, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    """Released, paid out or spent: followers of the budget (and, for spending, the area)."""
    view = await uow.initiatives.get(municipality, command.initiative_id)
    neighbourhood = command.neighbourhood or (view.neighbourhood if view else None)
    facts = {
        "initiative_id": command.initiative_id,
        "title": view.title if view else command.initiative_id,
        "budget_id": command.budget_id,
        "neighbourhood": neighbourhood,
        **command.facts,
    }
    event_type = command.cause.event_type
    scope = Scope(
        initiative_id=command.initiative_id,
        initiator_id=view.initiator_id if view else None,
        neighbourhood=neighbourhood,
        followed=rules.followed_by(event_type, command.budget_id, neighbourhood),
    )
    await _tell(event_type, facts, command.cause, municipality, scope, uow)


async def notify_round_changed(
    command: commands.NotifyRoundChanged, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    """A budgeting round moved on or was counted: followers of its neighbourhood hear."""
    facts = {"round_id": command.round_id, "neighbourhood": command.neighbourhood, **command.facts}
    event_type = command.cause.event_type
    scope = Scope(
        neighbourhood=command.neighbourhood,
        followed=rules.followed_by(event_type, None, command.neighbourhood),
    )
    await _tell(event_type, facts, command.cause, municipality, scope, uow)


async def notify_alternative_budget(
    command: commands.NotifyAlternativeBudget, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    """Submitted to, or decided on by, the municipal council, or withdrawn by its drafter: its
    drafter and co-signers hear what the rules say they hear."""
    facts = {
        "alternative_budget_id": command.alternative_budget_id,
        "budget_id": command.budget_id,
        "neighbourhood": command.neighbourhood,
        "co_signers": len(set(command.co_signer_ids) - {command.drafter_id}),
        **command.facts,
    }
    scope = Scope(
        neighbourhood=command.neighbourhood,
        drafter_id=command.drafter_id,
        co_signer_ids=tuple(command.co_signer_ids),
    )
    event_type = command.cause.event_type
    await _tell(event_type, facts, command.cause, municipality, scope, uow)


async def record_consultation(
    command: commands.RecordConsultation, *, municipality: str, uow: NotificationsUnitOfWork
) -> None:
    await uow.consultations.save(
        ConsultationView(municipality=municipality, **command.model_dump())
    )


async def notify_consultation_answered(
    command: commands.NotifyConsultationAnswered,
    *,
    municipality: str,
    uow: NotificationsUnitOfWork,
) -> None:
    """The members of the councils asked and the residents who gave input hear what was done
    with what was said.

    The residents are named by the event, so they are told even when consultation-opened was
    never seen here; the councils are known only from it.
    """
    view = await uow.consultations.get(municipality, command.consultation_id)
    if view is None:
        log.warning(
            "consultation %s unknown here: its councils are not told", command.consultation_id
        )
    facts = {
        # Who else gave input is nobody's business but the municipality's: not in the facts.
        **command.model_dump(exclude={"cause", "contributor_ids"}),
        "title": view.title if view else command.consultation_id,
        "link": view.link if view else None,
    }
    scope = Scope(
        council_ids=tuple(view.council_ids) if view else (),
        contributor_ids=tuple(command.contributor_ids),
    )
    await _tell(rules.CONSULTATION_ANSWERED, facts, command.cause, municipality, scope, uow)


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
    told: set[str] = set()
    for rule in rules.effective_rules(stored, municipality, event_type):
        if not rule.applies_to(facts):
            continue
        if rule.audience is Audience.SUPPORTERS and scope.initiative_id is not None:
            await _queue_fanout(rule, facts, cause, municipality, scope.initiative_id, uow)
            continue
        if rule.audience is Audience.FOLLOWERS:
            for target, target_id in scope.followed:
                scope_id = rules.follow_scope(target, target_id)
                await _queue_fanout(rule, facts, cause, municipality, scope_id, uow)
            continue
        recipients = await _audience(rule.audience, municipality, scope, uow)
        if not recipients:
            log.info("%s: nobody in audience %s", event_type, rule.audience.value)
        # Once per event: who is in two audiences hears the one that comes first.
        notices = [
            Notice(kind=rule.notice, recipient_id=person, facts={**facts, **extra})
            for person, extra in sorted(recipients.items())
            if person not in told
        ]
        told.update(recipients)
        await _compose(notices, cause, municipality, uow)


async def _audience(
    audience: Audience, municipality: str, scope: Scope, uow: NotificationsUnitOfWork
) -> dict[str, dict[str, Any]]:
    """Recipient id -> the facts only they get (e.g. their role in the council)."""
    found: dict[str, dict[str, Any]] = {}
    if audience is Audience.INITIATOR and scope.initiator_id:
        found[scope.initiator_id] = {}
    elif audience is Audience.REPORTER and scope.reporter_id:
        found[scope.reporter_id] = {}
    elif audience is Audience.DRAFTER and scope.drafter_id:
        found[scope.drafter_id] = {"signed_as": "drafter"}
    elif audience is Audience.CO_SIGNERS:
        # The drafter is never their own co-signer, also where no drafter rule applies (a
        # withdrawal is told to the co-signers only).
        co_signers = (p for p in scope.co_signer_ids if p != scope.drafter_id)
        found.update({person: {"signed_as": "co_signer"} for person in co_signers})
    elif audience is Audience.CONTRIBUTORS:
        found.update({person: {} for person in scope.contributor_ids})
    elif audience is Audience.COUNCIL_OFFICERS and scope.officer_ids:
        found.update(await _named_officers(municipality, scope, uow))
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


async def _named_officers(
    municipality: str, scope: Scope, uow: NotificationsUnitOfWork
) -> dict[str, dict[str, Any]]:
    """The officers the event names, with their role when this service knows them."""
    known: dict[str, CouncilMember] = {}
    kind = "advisory_council"
    for council_id in scope.council_ids:
        for member in await uow.councils.members(municipality, council_id):
            known[member.member_id] = member
            kind = member.council_kind
    found: dict[str, dict[str, Any]] = {}
    for person in scope.officer_ids:
        officer = known.get(person)
        found[person] = {
            "member_role": officer.role if officer else "officer",
            "council_kind": officer.council_kind if officer else kind,
            "council_id": officer.council_id if officer else ",".join(scope.council_ids),
        }
    return found


async def _queue_fanout(
    rule: rules.Rule,
    facts: dict[str, Any],
    cause: Cause,
    municipality: str,
    scope_id: str,
    uow: NotificationsUnitOfWork,
) -> None:
    """A possibly huge audience is told by the fan-out worker, batch by batch.

    ``scope_id`` is the initiative (supporters) or the followed target (followers).
    """
    material = "\x1f".join(
        (cause.source, cause.event_id, rule.audience.value, rule.notice.value, scope_id)
    )
    job = FanoutJob(
        id=hashlib.sha256(material.encode()).hexdigest(),
        municipality=municipality,
        audience=rule.audience,
        kind=rule.notice,
        scope_id=scope_id,
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
    facts = job.facts
    if job.audience is Audience.FOLLOWERS:
        target, target_id = rules.parse_follow_scope(job.scope_id)
        recipients = await uow.follows.page(
            job.municipality, target, target_id, after=job.cursor, limit=batch_size
        )
        # The message says why the reader gets it: what they follow.
        facts = {**facts, "followed": target.value, "followed_id": target_id}
    else:
        recipients = await uow.supporters.page(
            job.municipality, job.scope_id, after=job.cursor, limit=batch_size
        )
    notices = [Notice(kind=job.kind, recipient_id=r, facts=facts) for r in recipients]
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
    The rows of all notices go in as one statement, and a notice that many get alike (a
    fan-out batch shares one ``facts``) is rendered once per language: per message, a
    statement and a template were what limited telling a large audience.
    """
    if not notices:
        return
    ids = [n.recipient_id for n in notices]
    contacts = await uow.contacts.get_many(municipality, ids)
    preferences = await uow.preferences.get_many(municipality, ids)
    now = _now()
    render = rendering.RenderCache(uow.renderer, municipality)
    composed: list[Message] = []
    for notice in notices:
        contact = contacts.get(notice.recipient_id)
        rendered = render(notice, contact.language if contact else Language.DUTCH)
        composed.append(
            Message.compose(
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
        )
        for channel in (Channel.EMAIL, Channel.SMS):
            plan = push_schedule(
                preferences.get(notice.recipient_id), notice.kind, channel, now, uow.digests
            )
            if plan is None:
                continue
            status, send_at = plan
            composed.append(
                Message.compose(
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
            )
    inserted = await uow.messages.add_many_once(composed)
    for message in composed:
        if message.idempotency_key not in inserted:
            continue
        if message.channel is Channel.FEED:
            uow.fed += 1
        elif message.status is MessageStatus.PENDING:
            uow.composed += 1
        elif message.status is not MessageStatus.HELD:
            log.info(
                "no contact details for %s: %s kept as %s",
                message.recipient_id,
                message.kind.value,
                message.status.value,
            )
