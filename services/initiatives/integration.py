"""Domain events of an initiative -> the public contract's events (the only place they meet)."""

from __future__ import annotations

from collections.abc import Iterable

from services.initiatives.domain import events
from services.initiatives.domain.model import Initiative
from shared.contracts import initiatives as contract
from shared.contracts.base import EventData


def _facts(initiative: Initiative) -> dict[str, object]:
    return {
        "municipality": initiative.municipality,
        "initiative_id": initiative.id,
        "title": initiative.title,
        "neighbourhood": initiative.neighbourhood,
        "theme": initiative.theme,
        "initiative_type": initiative.initiative_type,
        "requested_amount_cents": initiative.requested_amount_cents,
        "funding_source": contract.FundingSource(initiative.funding_source.value),
        "initiator_id": initiative.initiator_id,
    }


def to_contract(initiative: Initiative, event: events.DomainEvent) -> EventData:
    match event:
        case events.Submitted(at=at):
            return contract.InitiativeSubmitted(**_facts(initiative), submitted_at=at)
        case events.ReadyForReview():
            return contract.InitiativeReadyForReview(
                **_facts(initiative), support_count=initiative.support_count
            )
        case events.ReadyForDecision(advice_round_id=round_id, advice_positions=positions):
            return contract.InitiativeReadyForDecision(
                municipality=initiative.municipality,
                initiative_id=initiative.id,
                advice_round_id=round_id,
                advice_positions=list(positions),
                requested_amount_cents=initiative.requested_amount_cents,
            )
        case events.Decided(at=at):
            return contract.InitiativeDecided(
                **_facts(initiative),
                decision=contract.Decision(initiative.status.value),
                reasons=initiative.decision_reasons or "",
                conditions=initiative.decision_conditions,
                decided_by=initiative.decided_by or "",
                decided_at=at,
            )
    raise TypeError(f"no contract event for {event!r}")


def contract_events(initiative: Initiative) -> Iterable[EventData]:
    return [to_contract(initiative, event) for event in initiative.pending_events]
