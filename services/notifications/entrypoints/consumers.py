"""Thin subscribers: build a command from the event (routes hand it over typed), run it.

Every event of the topics this service reads also goes to the matching webhook subscriptions,
also event types no rule here reacts to: systems without Kafka see what a consumer would.
"""

from __future__ import annotations

from typing import Any

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
async def on_council_member_appointed(
    event: advisory.CouncilMemberAppointed, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.RecordCouncilMember(
        council_id=event.council_id,
        member_id=event.member_id,
        role=event.role.value,
        council_kind=event.council_kind.value,
    )
    await handlers.record_council_member(command, municipality=event.municipality, uow=uow)


@told.on(advisory.CouncilMemberLeft)
async def on_council_member_left(
    event: advisory.CouncilMemberLeft, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.RemoveCouncilMember(council_id=event.council_id, member_id=event.member_id)
    await handlers.remove_council_member(command, municipality=event.municipality, uow=uow)


@told.on(advisory.AdviceRequested)
async def on_advice_requested(
    event: advisory.AdviceRequested, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
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
async def on_initiative_submitted(
    event: initiatives.InitiativeSubmitted, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.RecordInitiative(
        initiative_id=event.initiative_id,
        initiator_id=event.initiator_id,
        title=event.title,
        neighbourhood=event.neighbourhood,
    )
    await handlers.record_initiative(command, municipality=event.municipality, uow=uow)
    await _initiative_changed(
        event,
        envelope,
        uow,
        initiator_id=event.initiator_id,
        requested_amount_cents=event.requested_amount_cents,
        funding_source=event.funding_source.value,
    )


@told.on(initiatives.InitiativeReadyForReview)
async def on_ready_for_review(
    event: initiatives.InitiativeReadyForReview, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.RecordInitiative(
        initiative_id=event.initiative_id,
        initiator_id=event.initiator_id,
        title=event.title,
        neighbourhood=event.neighbourhood,
    )
    await handlers.record_initiative(command, municipality=event.municipality, uow=uow)
    await _initiative_changed(
        event, envelope, uow, initiator_id=event.initiator_id, support_count=event.support_count
    )


@told.on(initiatives.SupportProgress)
async def on_support_progress(
    event: initiatives.SupportProgress, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    await _initiative_changed(
        event,
        envelope,
        uow,
        percentage=event.percentage,
        support_count=event.support_count,
        support_threshold=event.support_threshold,
    )


@told.on(initiatives.InitiativeDecisionOverdue)
async def on_decision_overdue(
    event: initiatives.InitiativeDecisionOverdue, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    await _initiative_changed(
        event, envelope, uow, decision_deadline=event.decision_deadline, status=event.status
    )


@told.on(initiatives.InitiativeResultsReported)
async def on_results_reported(
    event: initiatives.InitiativeResultsReported, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    results = [r.model_dump(mode="json") for r in event.results or []]
    await _initiative_changed(event, envelope, uow, summary=event.summary, results=results)


@told.on(initiatives.InitiativeAccounted)
async def on_accounted(
    event: initiatives.InitiativeAccounted, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    await _initiative_changed(
        event,
        envelope,
        uow,
        budgeted_cents=event.budgeted_cents,
        spent_cents=event.spent_cents,
        disbursed_cents=event.disbursed_cents,
        account=event.account,
    )


@told.on(initiatives.InitiativeClosed)
async def on_closed(
    event: initiatives.InitiativeClosed, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    await _initiative_changed(event, envelope, uow, reason=event.reason)


@told.on(initiatives.InitiativeWithdrawn)
async def on_withdrawn(
    event: initiatives.InitiativeWithdrawn, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    await _initiative_changed(
        event,
        envelope,
        uow,
        initiator_id=event.initiator_id,
        reason=event.reason,
        previous_status=event.previous_status,
    )


@told.on(initiatives.InitiativeExpired)
async def on_expired(
    event: initiatives.InitiativeExpired, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    await _initiative_changed(
        event,
        envelope,
        uow,
        initiator_id=event.initiator_id,
        support_count=event.support_count,
        support_threshold=event.support_threshold,
        support_deadline=event.support_deadline,
    )


@told.on(initiatives.MilestoneOverdue)
async def on_milestone_overdue(
    event: initiatives.MilestoneOverdue, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    await _initiative_changed(
        event,
        envelope,
        uow,
        initiator_id=event.initiator_id,
        milestone_id=event.milestone_id,
        milestone=event.milestone,
        due_date=event.due_date,
    )


@told.on(initiatives.ReportHandled)
async def on_report_handled(
    event: initiatives.ReportHandled, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.NotifyReportHandled(
        cause=_cause(envelope),
        report_id=event.report_id,
        reporter_id=event.reporter_id,
        neighbourhood=event.neighbourhood,
        outcome=event.outcome.value,
        reason=event.reason,
        forwarded_to=event.forwarded_to,
        initiative_id=event.initiative_id,
    )
    await handlers.notify_report_handled(command, municipality=event.municipality, uow=uow)


@told.on(initiatives.SupportRegistered)
async def on_support_registered(
    event: initiatives.SupportRegistered, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.RecordSupport(
        initiative_id=event.initiative_id, supporter_id=event.supporter_id, supported=True
    )
    await handlers.record_support(command, municipality=event.municipality, uow=uow)


@told.on(initiatives.SupportWithdrawn)
async def on_support_withdrawn(
    event: initiatives.SupportWithdrawn, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.RecordSupport(
        initiative_id=event.initiative_id, supporter_id=event.supporter_id, supported=False
    )
    await handlers.record_support(command, municipality=event.municipality, uow=uow)


@told.on(initiatives.InitiativeReadyForDecision)
async def on_ready_for_decision(
    event: initiatives.InitiativeReadyForDecision, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.NotifyReadyForDecision(
        cause=_cause(envelope),
        initiative_id=event.initiative_id,
        advice_positions=event.advice_positions,
        requested_amount_cents=event.requested_amount_cents,
    )
    await handlers.notify_ready_for_decision(command, municipality=event.municipality, uow=uow)


@told.on(advisory.AdviceOverdue)
async def on_advice_overdue(
    event: advisory.AdviceOverdue, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.NotifyAdviceOverdue(
        cause=_cause(envelope),
        request_id=event.request_id,
        round_id=event.round_id,
        council_id=event.council_id,
        subject_kind=event.subject_kind.value,
        subject_id=event.subject_id,
        deadline=event.deadline,
        escalate_to=event.escalate_to,
    )
    await handlers.notify_advice_overdue(command, municipality=event.municipality, uow=uow)


@told.on(advisory.AdviceDeadlineApproaching)
async def on_advice_deadline_approaching(
    event: advisory.AdviceDeadlineApproaching, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.NotifyAdviceDeadlineApproaching(
        cause=_cause(envelope),
        request_id=event.request_id,
        round_id=event.round_id,
        council_id=event.council_id,
        subject_kind=event.subject_kind.value,
        subject_id=event.subject_id,
        deadline=event.deadline,
        days_before=event.days_before,
    )
    await handlers.notify_advice_deadline_approaching(
        command, municipality=event.municipality, uow=uow
    )


@told.on(advisory.AdviceRoundCompleted)
async def on_advice_round_completed(
    event: advisory.AdviceRoundCompleted, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
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
async def on_initiative_decided(
    event: initiatives.InitiativeDecided, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
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
async def on_budget_allocated(
    event: budgets.BudgetAllocated, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.NotifyBudgetAllocated(
        cause=_cause(envelope),
        initiative_id=event.initiative_id,
        budget_id=event.budget_id,
        amount_cents=event.amount_cents,
        neighbourhood=event.neighbourhood,
        available_after_cents=event.available_after_cents,
    )
    await handlers.notify_budget_allocated(command, municipality=event.municipality, uow=uow)


@told.on(budgets.FundsReleased)
async def on_funds_released(
    event: budgets.FundsReleased, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    facts = {"amount_cents", "reason", "still_reserved_cents", "available_after_cents"}
    await _money_moved(event, envelope, uow, event.budget_id, facts)


@told.on(budgets.FundsDisbursed)
async def on_funds_disbursed(
    event: budgets.FundsDisbursed, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    facts = {"amount_cents", "disbursed_total_cents", "still_reserved_cents"}
    await _money_moved(event, envelope, uow, event.budget_id, facts)


@told.on(budgets.SpendingReported)
async def on_spending_reported(
    event: budgets.SpendingReported, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    facts = {"amount_cents", "description", "cost_line", "planned_cents", "spent_total_cents"}
    await _money_moved(event, envelope, uow, event.budget_id, facts)


@told.on(budgets.RoundPhaseChanged)
async def on_round_phase_changed(
    event: budgets.RoundPhaseChanged, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.NotifyRoundChanged(
        cause=_cause(envelope),
        round_id=event.round_id,
        neighbourhood=event.neighbourhood,
        facts={"previous_phase": event.previous_phase, "phase": event.phase},
    )
    await handlers.notify_round_changed(command, municipality=event.municipality, uow=uow)


@told.on(budgets.RoundResultsPublished)
async def on_round_results_published(
    event: budgets.RoundResultsPublished, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.NotifyRoundChanged(
        cause=_cause(envelope),
        round_id=event.round_id,
        neighbourhood=event.neighbourhood,
        facts={
            "rule": event.rule,
            "ballots": event.ballots,
            "budget_cents": event.budget_cents,
            "funded_cost_cents": event.funded_cost_cents,
            "projects": [p.model_dump(mode="json") for p in event.projects],
        },
    )
    await handlers.notify_round_changed(command, municipality=event.municipality, uow=uow)


@told.on(budgets.AllocationRejected)
async def on_allocation_rejected(
    event: budgets.AllocationRejected, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
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


@told.on(budgets.AlternativeBudgetSubmitted)
async def on_alternative_budget_submitted(
    event: budgets.AlternativeBudgetSubmitted, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    await _alternative_budget(
        event,
        envelope,
        uow,
        year=event.year,
        lines=[line.model_dump(mode="json") for line in event.lines],
        total_cents=event.total_cents,
        submitted_at=event.submitted_at,
    )


@told.on(budgets.AlternativeBudgetAdopted)
async def on_alternative_budget_adopted(
    event: budgets.AlternativeBudgetAdopted, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    await _alternative_budget(
        event,
        envelope,
        uow,
        adoption=event.adoption.value,
        lines=[line.model_dump(mode="json") for line in event.lines],
        reasons=event.reasons,
        decided_on=event.decided_on,
    )


@told.on(budgets.AlternativeBudgetNotAdopted)
async def on_alternative_budget_not_adopted(
    event: budgets.AlternativeBudgetNotAdopted, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    await _alternative_budget(
        event, envelope, uow, reasons=event.reasons, decided_on=event.decided_on
    )


@told.on(budgets.AlternativeBudgetWithdrawn)
async def on_alternative_budget_withdrawn(
    event: budgets.AlternativeBudgetWithdrawn, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    await _alternative_budget(
        event,
        envelope,
        uow,
        previous_status=event.previous_status,
        reason=event.reason,
        withdrawn_at=event.withdrawn_at,
    )


@told.on(advisory.ConsultationOpened)
async def on_consultation_opened(
    event: advisory.ConsultationOpened, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.RecordConsultation(
        consultation_id=event.consultation_id,
        title=event.title,
        link=event.link,
        council_ids=event.council_ids,
    )
    await handlers.record_consultation(command, municipality=event.municipality, uow=uow)


@told.on(advisory.ConsultationAnswered)
async def on_consultation_answered(
    event: advisory.ConsultationAnswered, envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    command = commands.NotifyConsultationAnswered(
        cause=_cause(envelope),
        consultation_id=event.consultation_id,
        answered_at=event.answered_at,
        adopted=event.adopted,
        partly_adopted=event.partly_adopted,
        not_adopted=event.not_adopted,
        contributor_ids=event.contributor_ids,
    )
    await handlers.notify_consultation_answered(command, municipality=event.municipality, uow=uow)


async def _alternative_budget(
    event: budgets.AlternativeBudgetEvent,
    envelope: Envelope,
    uow: NotificationsUnitOfWork,
    **facts: Any,
) -> None:
    """Tell an alternative budget event's facts to its drafter and co-signers."""
    command = commands.NotifyAlternativeBudget(
        cause=_cause(envelope),
        alternative_budget_id=event.alternative_budget_id,
        budget_id=event.budget_id,
        neighbourhood=event.neighbourhood,
        drafter_id=event.drafter_id,
        co_signer_ids=event.co_signer_ids,
        facts=facts,
    )
    await handlers.notify_alternative_budget(command, municipality=event.municipality, uow=uow)


async def _initiative_changed(
    event: initiatives.InitiativeEvent,
    envelope: Envelope,
    uow: NotificationsUnitOfWork,
    *,
    initiator_id: str | None = None,
    **facts: Any,
) -> None:
    """Tell an initiative event's facts to whom the rules name."""
    command = commands.NotifyInitiativeChanged(
        cause=_cause(envelope),
        initiative_id=event.initiative_id,
        initiator_id=initiator_id,
        facts=facts,
    )
    await handlers.notify_initiative_changed(command, municipality=event.municipality, uow=uow)


async def _money_moved(
    event: budgets.BudgetEvent,
    envelope: Envelope,
    uow: NotificationsUnitOfWork,
    budget_id: str,
    facts: set[str],
) -> None:
    """Tell followers of a budget that its money moved: these facts of the event, by name."""
    command = commands.NotifyMoneyMoved(
        cause=_cause(envelope),
        initiative_id=event.initiative_id,
        budget_id=budget_id,
        facts=event.model_dump(mode="json", include=facts),
    )
    await handlers.notify_money_moved(command, municipality=event.municipality, uow=uow)


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
