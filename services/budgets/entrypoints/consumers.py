"""Thin subscribers: build a command from the event (routes hand it over typed), run it."""

from __future__ import annotations

from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from services.budgets import handlers
from services.budgets.domain import commands
from services.budgets.domain.exceptions import InvalidAllocationRequest
from services.budgets.domain.model import BudgetKind
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from shared.contracts import initiatives
from shared.contracts.envelope import Envelope
from shared.messaging.consumer import BatchConsumer, EventRoutes
from shared.runtime import Runtime

routes: EventRoutes[BudgetsUnitOfWork] = EventRoutes()


@routes.on(initiatives.InitiativeDecided)
async def on_initiative_decided(
    event: initiatives.InitiativeDecided, envelope: Envelope, uow: BudgetsUnitOfWork
) -> None:
    if event.decision is not initiatives.Decision.APPROVED:
        return
    try:
        command = commands.AllocateFunds(
            municipality=event.municipality,
            initiative_id=event.initiative_id,
            funding_source=BudgetKind(event.funding_source.value),
            neighbourhood=event.neighbourhood,
            requested_cents=event.requested_amount_cents,
            decided_at=event.decided_at,
            theme=event.theme,
        )
    except ValidationError as error:  # can never succeed: dead-letter it with the reason
        raise InvalidAllocationRequest(str(error)) from error
    await handlers.allocate_funds(command, cause=envelope, uow=uow)


@routes.on(initiatives.InitiativeClosed)
async def on_initiative_closed(
    event: initiatives.InitiativeClosed, envelope: Envelope, uow: BudgetsUnitOfWork
) -> None:
    await handlers.release_remaining(
        event.municipality, event.initiative_id, cause=envelope, uow=uow
    )


def subscribe(runtime: Runtime, consumer: BatchConsumer[BudgetsUnitOfWork]) -> None:
    @runtime.batch_subscriber(consumer)
    async def on_events(message: KafkaMessage) -> None:
        """Budgets reserves money for approved initiatives, and releases it when they close."""
        await consumer.process(message)
