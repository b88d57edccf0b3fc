"""Domain events of notifications -> the public contract's events (the only place they meet)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from services.notifications.domain import events
from shared.contracts import notifications as contract
from shared.contracts.base import EventData
from shared.contracts.envelope import CONTENT_TYPE, SPEC_VERSION, Envelope


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
                message_key=event.message_key,
                notice=event.notice,
            )
        case events.MessageFailed():
            return contract.MessageFailed(
                municipality=event.municipality,
                recipient_id=event.recipient_id,
                channel=event.channel,
                cause_event_id=event.cause_event_id,
                cause_event_type=event.cause_event_type,
                message_key=event.message_key,
                notice=event.notice,
                attempts=event.attempts,
                reason=event.reason,
            )
    raise TypeError(f"no contract event for {event!r}")


def cloud_event(envelope: Envelope) -> dict[str, Any]:
    """The event as CloudEvents JSON (structured mode) for systems that take it over HTTP."""
    attributes: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": envelope.id,
        "source": envelope.source,
        "type": envelope.type,
        "time": envelope.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "subject": envelope.subject,
        "datacontenttype": CONTENT_TYPE,
        "dataschema": envelope.dataschema,
        "partitionkey": envelope.partitionkey,
        "municipality": envelope.municipality,
        "correlationid": envelope.correlationid,
    }
    if envelope.causationid:
        attributes["causationid"] = envelope.causationid
    return {**attributes, "data": envelope.data.model_dump(mode="json")}
