"""Thin subscribers: narrow the event, build a command, hand it to the handler.

Every event of the topics this service reads also goes to the matching webhook subscriptions,
also event types no rule here reacts to: systems without Kafka see what a consumer would.
"""

from __future__ import annotations

from faststream.kafka.annotations import KafkaMessage

from services.notifications import handlers
from services.notifications.domain import commands
from services.notifications.domain.model import Cause
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from shared.contracts import advisory, budgets, initiatives
from shared.contracts.envelope import Envelope
from shared.contracts.registry import EVENTS_BY_PRODUCER
from shared.messaging.consumer import BatchConsumer, EventHandler, EventRoutes
from shared.messaging.topology import CONSUMES
from shared.runtime import Runtime
from shared.telemetry import current_traceparent

told: EventRoutes[NotificationsUnitOfWork] = EventRoutes()


def _cause(envelope: Envelope) -> Cause:
    return Cause(
        source=envelope.source,
        event_id=envelope.id,
        event_type=envelope.type,
        correlation_id=envelope.correlationid,
        traceparent=current_traceparent(),
    )


@told.on(advisory.CouncilMemberAppointed)
async def on_council_member_appointed(envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
    event = envelope.data
    assert isinstance(event, advisory.CouncilMemberAppointed)
    command = commands.RecordCouncilMember(
        council_id=event.council_id,
        member_id=event.member_id,
        role=event.role.value,
        council_kind=event.council_kind.value,
    )
    await handlers.record_council_member(command, municipality=event.municipality, uow=uow)


@told.on(advisory.CouncilMemberLeft)
async def on_council_member_left(envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
    event = envelope.data
    assert isinstance(event, advisory.CouncilMemberLeft)
    command = commands.RemoveCouncilMember(council_id=event.council_id, member_id=event.member_id)
    await handlers.remove_council_member(command, municipality=event.municipality, uow=uow)


@told.on(advisory.AdviceRequested)
async def on_advice_requested(envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
    event = envelope.data
    assert isinstance(event, advisory.AdviceRequested)
    command = commands.NotifyAdviceRequested(
        cause=_cause(envelope),
        request_id=event.request_id,
        round_id=event.round_id,
        council_id=event.council_id,
        council_kind=event.council_kind.value,
        subject_kind=event.subject_kind.value,
        subject_id=event.subject_id,
        title=event.title,
        deadline=event.deadline,
    )
    await handlers.notify_advice_requested(command, municipality=event.municipality, uow=uow)


@told.on(initiatives.InitiativeSubmitted)
async def on_initiative_submitted(envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
    event = envelope.data
    assert isinstance(event, initiatives.InitiativeSubmitted)
    command = commands.RecordInitiative(
        initiative_id=event.initiative_id,
        initiator_id=event.initiator_id,
        title=event.title,
        neighbourhood=event.neighbourhood,
    )
    await handlers.record_initiative(command, municipality=event.municipality, uow=uow)


@told.on(initiatives.SupportRegistered)
async def on_support_registered(envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
    event = envelope.data
    assert isinstance(event, initiatives.SupportRegistered)
    command = commands.RecordSupport(
        initiative_id=event.initiative_id, supporter_id=event.supporter_id, supported=True
    )
    await handlers.record_support(command, municipality=event.municipality, uow=uow)


@told.on(initiatives.SupportWithdrawn)
async def on_support_withdrawn(envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
    event = envelope.data
    assert isinstance(event, initiatives.SupportWithdrawn)
    command = commands.RecordSupport(
        initiative_id=event.initiative_id, supporter_id=event.supporter_id, supported=False
    )
    await handlers.record_support(command, municipality=event.municipality, uow=uow)


@told.on(initiatives.InitiativeReadyForDecision)
async def on_ready_for_decision(envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
    event = envelope.data
    assert isinstance(event, initiatives.InitiativeReadyForDecision)
    command = commands.NotifyReadyForDecision(
        cause=_cause(envelope),
        initiative_id=event.initiative_id,
        advice_positions=event.advice_positions,
        requested_amount_cents=event.requested_amount_cents,
    )
    await handlers.notify_ready_for_decision(command, municipality=event.municipality, uow=uow)


@told.on(advisory.AdviceOverdue)
async def on_advice_overdue(envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
    event = envelope.data
    assert isinstance(event, advisory.AdviceOverdue)
    command = commands.NotifyAdviceOverdue(
        cause=_cause(envelope),
        request_id=event.request_id,
        round_id=event.round_id,
        council_id=event.council_id,
        subject_kind=event.subject_kind.value,
        subject_id=event.subject_id,
        deadline=event.deadline,
    )
    await handlers.notify_advice_overdue(command, municipality=event.municipality, uow=uow)


@told.on(advisory.AdviceRoundCompleted)
async def on_advice_round_completed(envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
    event = envelope.data
    assert isinstance(event, advisory.AdviceRoundCompleted)
    command = commands.NotifyAdviceRoundCompleted(
        cause=_cause(envelope),
        round_id=event.round_id,
        subject_kind=event.subject_kind.value,
        subject_id=event.subject_id,
        closed_after_escalation=event.closed_after_escalation,
        silent_councils=[a.council_id for a in event.advice if a.position is None],
    )
    await handlers.notify_advice_round_completed(command, municipality=event.municipality, uow=uow)


@told.on(initiatives.InitiativeDecided)
async def on_initiative_decided(envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
    event = envelope.data
    assert isinstance(event, initiatives.InitiativeDecided)
    await handlers.record_decision(
        commands.RecordDecision(
            initiative_id=event.initiative_id,
            initiator_id=event.initiator_id,
            title=event.title,
            decision=event.decision.value,
            reasons=event.reasons,
            conditions=event.conditions,
            decided_at=event.decided_at,
            neighbourhood=event.neighbourhood,
        ),
        municipality=event.municipality,
        uow=uow,
    )
    await handlers.notify_initiative_decided(
        commands.NotifyInitiativeDecided(
            cause=_cause(envelope),
            initiative_id=event.initiative_id,
            initiator_id=event.initiator_id,
            title=event.title,
            decision=event.decision.value,
            reasons=event.reasons,
            conditions=event.conditions,
        ),
        municipality=event.municipality,
        uow=uow,
    )


@told.on(budgets.BudgetAllocated)
async def on_budget_allocated(envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
    event = envelope.data
    assert isinstance(event, budgets.BudgetAllocated)
    command = commands.NotifyBudgetAllocated(
        cause=_cause(envelope),
        initiative_id=event.initiative_id,
        budget_id=event.budget_id,
        amount_cents=event.amount_cents,
    )
    await handlers.notify_budget_allocated(command, municipality=event.municipality, uow=uow)


@told.on(budgets.AllocationRejected)
async def on_allocation_rejected(envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
    event = envelope.data
    assert isinstance(event, budgets.AllocationRejected)
    command = commands.NotifyAllocationRejected(
        cause=_cause(envelope),
        initiative_id=event.initiative_id,
        requested_cents=event.requested_cents,
        available_cents=event.available_cents,
        shortfall_cents=event.shortfall_cents,
        fund_could_cover=event.fund_could_cover,
        reason=event.reason,
    )
    await handlers.notify_allocation_rejected(command, municipality=event.municipality, uow=uow)


def _with_webhooks(
    handler: EventHandler[NotificationsUnitOfWork] | None,
) -> EventHandler[NotificationsUnitOfWork]:
    async def handle(envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
        if handler is not None:
            await handler(envelope, uow)
        neighbourhood = await handlers.neighbourhood_of(envelope, uow)
        await handlers.queue_webhooks(envelope, neighbourhood=neighbourhood, uow=uow)

    return handle


routes: EventRoutes[NotificationsUnitOfWork] = EventRoutes(
    {
        model.event_type(): _with_webhooks(told.handlers.get(model.event_type()))
        for producer in CONSUMES["notifications"]
        for model in EVENTS_BY_PRODUCER[producer]
    }
)


def subscribe(runtime: Runtime, consumer: BatchConsumer[NotificationsUnitOfWork]) -> None:
    @runtime.batch_subscriber(consumer)
    async def on_events(message: KafkaMessage) -> None:
        """Notifications follows initiatives, advice and budgets to tell the people concerned."""
        await consumer.process(message)
