"""Thin subscribers: build a command from the event (routes hand it over typed), run it."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka.annotations import KafkaMessage

from services.advisory import handlers
from services.advisory.domain import commands
from services.advisory.persistence.unit_of_work import AdvisoryUnitOfWork
from shared.contracts import initiatives
from shared.contracts.envelope import Envelope
from shared.messaging.consumer import BatchConsumer, EventRoutes
from shared.runtime import Runtime

routes: EventRoutes[AdvisoryUnitOfWork] = EventRoutes()


@routes.on(initiatives.InitiativeReadyForReview)
async def on_initiative_ready_for_review(
    event: initiatives.InitiativeReadyForReview, envelope: Envelope, uow: AdvisoryUnitOfWork
) -> None:
    command = commands.RequestAdvice(
        subject_id=event.initiative_id,
        title=event.title,
        neighbourhood=event.neighbourhood,
        theme=event.theme,
        initiative_type=event.initiative_type,
        amount_cents=event.requested_amount_cents,
    )
    await handlers.request_advice(command, municipality=event.municipality, cause=envelope, uow=uow)


@routes.prepare(initiatives.InitiativeReadyForReview)
async def before_initiatives_ready_for_review(
    events: Sequence[initiatives.InitiativeReadyForReview], uow: AdvisoryUnitOfWork
) -> None:
    """One query for a batch, not one per event: which initiatives already have a round."""
    subjects = [(event.municipality, event.initiative_id) for event in events]
    await handlers.prepare_advice_requests(subjects, uow=uow)


def subscribe(runtime: Runtime, consumer: BatchConsumer[AdvisoryUnitOfWork]) -> None:
    @runtime.batch_subscriber(consumer)
    async def on_events(message: KafkaMessage) -> None:
        """Advisory asks councils for advice on initiatives that are ready for review."""
        await consumer.process(message)
