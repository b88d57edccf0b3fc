"""What happened to an initiative's allocation, in the domain's own words."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DomainEvent:
    municipality: str
    initiative_id: str


@dataclass(frozen=True)
class Allocated(DomainEvent):
    budget_id: str
    neighbourhood: str | None
    amount_cents: int
    available_after_cents: int


@dataclass(frozen=True)
class Refused(DomainEvent):
    budget_id: str | None
    requested_cents: int
    available_cents: int
    shortfall_cents: int
    fund_could_cover: bool
    reason: str
