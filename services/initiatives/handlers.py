"""Use cases of the initiatives service. Each runs in one unit of work and commits it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.initiatives.domain import commands
from services.initiatives.domain.exceptions import InitiativeNotFound, UnknownInitiativeType
from services.initiatives.domain.model import Initiative, InitiativeType
from services.initiatives.integration import contract_events
from services.initiatives.persistence.unit_of_work import InitiativesUnitOfWork
from shared.contracts.envelope import Envelope


def _now() -> datetime:
    return datetime.now(UTC)


def _publish_pending(
    initiative: Initiative, uow: InitiativesUnitOfWork, cause: Envelope | None = None
) -> None:
    for data in contract_events(initiative):
        uow.publish(uow.wrap(data, cause))
    initiative.pending_events.clear()


async def define_initiative_type(
    command: commands.DefineInitiativeType, municipality: str, uow: InitiativesUnitOfWork
) -> InitiativeType:
    kind = InitiativeType(municipality=municipality, **command.model_dump())
    await uow.types.save(kind)
    await uow.commit()
    return kind


async def submit_initiative(
    command: commands.SubmitInitiative,
    *,
    municipality: str,
    initiator_id: str,
    uow: InitiativesUnitOfWork,
) -> Initiative:
    kind = await uow.types.get(municipality, command.initiative_type)
    if kind is None:
        raise UnknownInitiativeType(
            f"municipality {municipality} has no initiative type '{command.initiative_type}'"
        )
    initiative = Initiative.submit(
        initiative_id=str(uuid.uuid4()),
        kind=kind,
        title=command.title,
        description=command.description,
        neighbourhood=command.neighbourhood,
        theme=command.theme,
        requested_amount_cents=command.requested_amount_cents,
        initiator_id=initiator_id,
        now=_now(),
    )
    await uow.initiatives.save(initiative)
    _publish_pending(initiative, uow)
    await uow.commit()
    return initiative


async def _load(uow: InitiativesUnitOfWork, municipality: str, initiative_id: str) -> Initiative:
    initiative = await uow.initiatives.get(municipality, initiative_id, lock=True)
    if initiative is None:
        raise InitiativeNotFound(f"initiative {initiative_id} does not exist in {municipality}")
    return initiative


async def decide_initiative(
    command: commands.DecideInitiative,
    *,
    municipality: str,
    initiative_id: str,
    decided_by: str,
    uow: InitiativesUnitOfWork,
) -> Initiative:
    initiative = await _load(uow, municipality, initiative_id)
    initiative.decide(
        approve=command.approve,
        reasons=command.reasons,
        conditions=command.conditions,
        decided_by=decided_by,
        now=_now(),
    )
    await uow.initiatives.save(initiative)
    _publish_pending(initiative, uow)
    await uow.commit()
    return initiative


async def mark_ready_for_decision(
    command: commands.MarkReadyForDecision,
    *,
    municipality: str,
    cause: Envelope,
    uow: InitiativesUnitOfWork,
) -> None:
    """Runs inside a consumer's batch transaction: the consumer commits, not this handler."""
    initiative = await _load(uow, municipality, command.initiative_id)
    initiative.mark_ready_for_decision(command.advice_round_id, command.advice_positions, _now())
    await uow.initiatives.save(initiative)
    _publish_pending(initiative, uow, cause)


async def record_funding(
    command: commands.RecordFunding, *, municipality: str, uow: InitiativesUnitOfWork
) -> None:
    """Runs inside a consumer's batch transaction."""
    initiative = await _load(uow, municipality, command.initiative_id)
    initiative.record_funding(funded=command.funded, note=command.note, now=_now())
    await uow.initiatives.save(initiative)
