"""The initiative aggregate and the rules of its lifecycle."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from services.initiatives.domain import events
from services.initiatives.domain.exceptions import InvalidTransition


class Status(StrEnum):
    SUBMITTED = "submitted"
    COLLECTING_SUPPORT = "collecting_support"
    IN_REVIEW = "in_review"
    READY_FOR_DECISION = "ready_for_decision"
    APPROVED = "approved"
    REJECTED = "rejected"
    FUNDED = "funded"
    AWAITING_FUNDS = "awaiting_funds"


class FundingSource(StrEnum):
    NEIGHBOURHOOD_BUDGET = "neighbourhood_budget"
    INITIATIVES_FUND = "initiatives_fund"


class InitiativeType(BaseModel):
    """A municipality's kind of initiative and the rules that come with it."""

    municipality: str
    code: str
    name: str
    support_threshold: int = Field(ge=0)
    max_amount_cents: int = Field(ge=0)
    funding_source: FundingSource


class HistoryEntry(BaseModel):
    at: datetime
    status: Status
    note: str = ""


class Initiative(BaseModel):
    id: str
    municipality: str
    initiative_type: str
    title: str
    description: str
    neighbourhood: str
    theme: str
    requested_amount_cents: int
    funding_source: FundingSource
    initiator_id: str
    status: Status
    support_count: int = 0
    decision_reasons: str | None = None
    decision_conditions: list[str] = Field(default_factory=list)
    decided_by: str | None = None
    advice_positions: list[str] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    pending_events: list[events.DomainEvent] = Field(default_factory=list, exclude=True)

    @classmethod
    def submit(
        cls,
        *,
        initiative_id: str,
        kind: InitiativeType,
        title: str,
        description: str,
        neighbourhood: str,
        theme: str,
        requested_amount_cents: int,
        initiator_id: str,
        now: datetime,
    ) -> Initiative:
        if requested_amount_cents > kind.max_amount_cents:
            raise InvalidTransition(
                f"requested amount {requested_amount_cents} exceeds the maximum of "
                f"{kind.max_amount_cents} cents for type '{kind.code}'"
            )
        initiative = cls(
            id=initiative_id,
            municipality=kind.municipality,
            initiative_type=kind.code,
            title=title,
            description=description,
            neighbourhood=neighbourhood,
            theme=theme,
            requested_amount_cents=requested_amount_cents,
            funding_source=kind.funding_source,
            initiator_id=initiator_id,
            status=Status.SUBMITTED,
        )
        initiative._record(Status.SUBMITTED, now, "submitted by the initiator")
        initiative.pending_events.append(events.Submitted(initiative_id, now))
        if kind.support_threshold == 0:
            # A type that needs no support goes to review at once.
            initiative._record(Status.IN_REVIEW, now, "no support needed: advice requested")
            initiative.pending_events.append(events.ReadyForReview(initiative_id))
        else:
            initiative._record(Status.COLLECTING_SUPPORT, now, "collecting support")
        return initiative

    def mark_ready_for_decision(
        self, advice_round_id: str, positions: list[str], now: datetime
    ) -> None:
        self._require(Status.IN_REVIEW)
        self.advice_positions = positions
        self._record(Status.READY_FOR_DECISION, now, "advice round completed")
        self.pending_events.append(
            events.ReadyForDecision(self.id, advice_round_id, tuple(positions))
        )

    def decide(
        self,
        *,
        approve: bool,
        reasons: str,
        conditions: list[str],
        decided_by: str,
        now: datetime,
    ) -> None:
        """Yes, unless: a rejection must give reasons that answer the advice received."""
        self._require(Status.READY_FOR_DECISION)
        if not approve and not reasons.strip():
            raise InvalidTransition("a rejection must state its reasons")
        if not approve and conditions:
            raise InvalidTransition("conditions belong to an approval, not to a rejection")
        self.decision_reasons = reasons
        self.decision_conditions = conditions
        self.decided_by = decided_by
        status = Status.APPROVED if approve else Status.REJECTED
        self._record(status, now, reasons)
        self.pending_events.append(events.Decided(self.id, now))

    def record_funding(self, *, funded: bool, note: str, now: datetime) -> None:
        self._require(Status.APPROVED, Status.AWAITING_FUNDS)
        self._record(Status.FUNDED if funded else Status.AWAITING_FUNDS, now, note)

    def _require(self, *allowed: Status) -> None:
        if self.status not in allowed:
            wanted = " or ".join(allowed)
            raise InvalidTransition(f"initiative {self.id} is {self.status}, not {wanted}")

    def _record(self, status: Status, now: datetime, note: str) -> None:
        self.status = status
        self.history.append(HistoryEntry(at=now, status=status, note=note))
