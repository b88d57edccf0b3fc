"""Thin subscribers: build a command from the event (routes hand it over typed), run it."""

from __future__ import annotations

from faststream.kafka.annotations import KafkaMessage

from services.initiatives import handlers
from services.initiatives.domain import commands
from services.initiatives.domain.model import Advice
from services.initiatives.persistence.unit_of_work import InitiativesUnitOfWork
from shared.contracts import advisory, budgets
from shared.contracts.envelope import Envelope
from shared.messaging.consumer import BatchConsumer, EventRoutes
from shared.runtime import Runtime

routes: EventRoutes[InitiativesUnitOfWork] = EventRoutes()


@routes.on(advisory.AdviceRoundCompleted)
async def on_advice_round_completed(
    event: advisory.AdviceRoundCompleted, envelope: Envelope, uow: InitiativesUnitOfWork
) -> None:
    if event.subject_kind is not advisory.SubjectKind.INITIATIVE:
        return
    command = commands.MarkReadyForDecision(
        initiative_id=event.subject_id,
        advice_round_id=event.round_id,
        advice_positions=[a.position.value if a.position else "none" for a in event.advice],
        advice=[
            {
                "council_id": a.council_id,
                "position": a.position.value if a.position else None,
                "motivation": a.motivation,
                "conditions": a.conditions,
            }
            for a in event.advice
        ],
    )
    await handlers.mark_ready_for_decision(
        command, municipality=event.municipality, cause=envelope, uow=uow
    )


@routes.on(advisory.AdviceGiven)
async def on_advice_given(
    event: advisory.AdviceGiven, envelope: Envelope, uow: InitiativesUnitOfWork
) -> None:
    if event.subject_kind is not advisory.SubjectKind.INITIATIVE:
        return
    advice = Advice(
        council_id=event.council_id,
        position=event.position.value,
        motivation=event.motivation,
        conditions=event.conditions,
    )
    await handlers.record_advice_given(
        municipality=event.municipality,
        initiative_id=event.subject_id,
        advice=advice,
        given_by=event.given_by,
        uow=uow,
    )


@routes.on(budgets.BudgetAllocated)
async def on_budget_allocated(
    event: budgets.BudgetAllocated, envelope: Envelope, uow: InitiativesUnitOfWork
) -> None:
    command = commands.RecordFunding(
        initiative_id=event.initiative_id,
        funded=True,
        note=f"{event.amount_cents} cents reserved from budget {event.budget_id}",
    )
    await handlers.record_funding(command, municipality=event.municipality, uow=uow)


@routes.on(budgets.AllocationRejected)
async def on_allocation_rejected(
    event: budgets.AllocationRejected, envelope: Envelope, uow: InitiativesUnitOfWork
) -> None:
    command = commands.RecordFunding(
        initiative_id=event.initiative_id,
        funded=False,
        note=f"awaiting funds: {event.reason} (short {event.shortfall_cents} cents)",
    )
    await handlers.record_funding(command, municipality=event.municipality, uow=uow)


@routes.on(budgets.FundsDisbursed)
async def on_funds_disbursed(
    event: budgets.FundsDisbursed, envelope: Envelope, uow: InitiativesUnitOfWork
) -> None:
    await handlers.record_money(
        municipality=event.municipality,
        initiative_id=event.initiative_id,
        amount_cents=event.amount_cents,
        note=f"{event.amount_cents} cents paid out from budget {event.budget_id}",
        spending=False,
        uow=uow,
    )


@routes.on(budgets.SpendingReported)
async def on_spending_reported(
    event: budgets.SpendingReported, envelope: Envelope, uow: InitiativesUnitOfWork
) -> None:
    await handlers.record_money(
        municipality=event.municipality,
        initiative_id=event.initiative_id,
        amount_cents=event.amount_cents,
        note=f"{event.amount_cents} cents spent: {event.description}",
        spending=True,
        uow=uow,
    )


def subscribe(runtime: Runtime, consumer: BatchConsumer[InitiativesUnitOfWork]) -> None:
    @runtime.batch_subscriber(consumer)
    async def on_events(message: KafkaMessage) -> None:
        """Initiatives follows advice and the money (allocations, payments, spending)."""
        await consumer.process(message)
