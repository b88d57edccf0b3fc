"""What notifications did, in its own words (mapped to the contract in integration.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DomainEvent:
    municipality: str


@dataclass(frozen=True)
class PersonErased(DomainEvent):
    person_id: str
    at: datetime


@dataclass(frozen=True)
class MessageDelivered(DomainEvent):
    recipient_id: str
    channel: str
    cause_event_id: str
    cause_event_type: str
    message_key: str | None = None
    notice: str | None = None


@dataclass(frozen=True)
class MessageFailed(DomainEvent):
    recipient_id: str
    channel: str
    cause_event_id: str
    cause_event_type: str
    message_key: str
    notice: str
    attempts: int
    reason: str
