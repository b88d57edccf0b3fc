"""What happened to an initiative, in the domain's own words (mapped to the contract elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DomainEvent:
    initiative_id: str


@dataclass(frozen=True)
class Submitted(DomainEvent):
    at: datetime


@dataclass(frozen=True)
class ReadyForReview(DomainEvent):
    pass


@dataclass(frozen=True)
class ReadyForDecision(DomainEvent):
    advice_round_id: str
    advice_positions: tuple[str, ...]


@dataclass(frozen=True)
class Decided(DomainEvent):
    at: datetime
