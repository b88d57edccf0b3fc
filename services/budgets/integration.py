"""Domain events of an allocation -> the public contract's events (the only place they meet)."""

from __future__ import annotations

from collections.abc import Iterable

from services.budgets.domain import events
from services.budgets.domain.model import Allocation
from shared.contracts import budgets as contract
from shared.contracts.base import EventData


def to_contract(event: events.DomainEvent) -> EventData:
    match event:
        case events.Allocated():
            return contract.BudgetAllocated(
                municipality=event.municipality,
                initiative_id=event.initiative_id,
                budget_id=event.budget_id,
                neighbourhood=event.neighbourhood,
                amount_cents=event.amount_cents,
                available_after_cents=event.available_after_cents,
            )
        case events.Refused():
            return contract.AllocationRejected(
                municipality=event.municipality,
                initiative_id=event.initiative_id,
                budget_id=event.budget_id,
                requested_cents=event.requested_cents,
                available_cents=event.available_cents,
                shortfall_cents=event.shortfall_cents,
                fund_could_cover=event.fund_could_cover,
                reason=event.reason,
            )
    raise TypeError(f"no contract event for {event!r}")


def contract_events(allocation: Allocation) -> Iterable[EventData]:
    return [to_contract(event) for event in allocation.pending_events]
