"""Domain events of notifications -> the public contract's events (the only place they meet)."""

from __future__ import annotations

from services.notifications.domain import events
from shared.contracts import notifications as contract
from shared.contracts.base import EventData


def to_contract(event: events.DomainEvent) -> EventData:
    match event:
        case events.PersonErased(municipality=municipality, person_id=person_id, at=at):
            return contract.PersonErased(
                municipality=municipality, person_id=person_id, erased_at=at
            )
        case events.MessageDelivered():
            return contract.MessageDelivered(
                municipality=event.municipality,
                recipient_id=event.recipient_id,
                channel=event.channel,
                cause_event_id=event.cause_event_id,
                cause_event_type=event.cause_event_type,
            )
    raise TypeError(f"no contract event for {event!r}")
