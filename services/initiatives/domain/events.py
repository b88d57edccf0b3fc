"""What happened to an initiative, in the domain's own words (mapped to the contract elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class DomainEvent:
    initiative_id: str


@dataclass(frozen=True)
class Submitted(DomainEvent):
    at: datetime


@dataclass(frozen=True)
class SupportWindowOpened(DomainEvent):
    """Support is collected until ``deadline`` (a timer, not a contract event)."""

    deadline: datetime


@dataclass(frozen=True)
class SupportRegistered(DomainEvent):
    supporter_id: str
    channel: str


@dataclass(frozen=True)
class SupportWithdrawn(DomainEvent):
    supporter_id: str


@dataclass(frozen=True)
class SupportProgress(DomainEvent):
    percentage: int


@dataclass(frozen=True)
class ReadyForReview(DomainEvent):
    decision_deadline: datetime | None = None


@dataclass(frozen=True)
class ReadyForDecision(DomainEvent):
    advice_round_id: str
    advice_positions: tuple[str, ...]


@dataclass(frozen=True)
class Decided(DomainEvent):
    at: datetime


@dataclass(frozen=True)
class Withdrawn(DomainEvent):
    previous_status: str
    reason: str


@dataclass(frozen=True)
class Expired(DomainEvent):
    deadline: datetime


@dataclass(frozen=True)
class DecisionOverdue(DomainEvent):
    deadline: datetime


@dataclass(frozen=True)
class Started(DomainEvent):
    """Milestones' due dates become timers (not a contract event)."""

    milestones: tuple[tuple[str, date], ...]


@dataclass(frozen=True)
class MilestoneDone(DomainEvent):
    milestone_id: str


@dataclass(frozen=True)
class MilestoneOverdue(DomainEvent):
    milestone_id: str


@dataclass(frozen=True)
class ResultsReported(DomainEvent):
    pass


@dataclass(frozen=True)
class Accounted(DomainEvent):
    pass


@dataclass(frozen=True)
class Closed(DomainEvent):
    reason: str
