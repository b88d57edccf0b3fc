"""Neighbourhood reports (digital buurtschouw): residents report, staff triage, reporters hear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from services.initiatives.domain.exceptions import InvalidTransition, RuleViolation
from services.initiatives.domain.model import as_utc


class ReportStatus(StrEnum):
    RECEIVED = "received"
    INITIATIVE = "initiative"
    FORWARDED = "forwarded"
    CLOSED = "closed"


class ReportOutcome(StrEnum):
    INITIATIVE = "initiative"
    FORWARDED = "forwarded"
    CLOSED = "closed"


@dataclass(frozen=True)
class ReportReceived:
    report_id: str


@dataclass(frozen=True)
class ReportHandled:
    report_id: str


class Report(BaseModel):
    id: str
    municipality: str
    neighbourhood: str
    category: str
    description: str
    latitude: float
    longitude: float
    location_description: str = ""
    reporter_id: str
    status: ReportStatus = ReportStatus.RECEIVED
    received_at: datetime
    reason: str | None = None
    forwarded_to: str | None = None
    initiative_id: str | None = None
    handled_by: str | None = None
    handled_at: datetime | None = None
    pending_events: list[ReportReceived | ReportHandled] = Field(default_factory=list, exclude=True)

    @field_validator("received_at", "handled_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value)

    @classmethod
    def receive(cls, *, report_id: str, now: datetime, **fields: object) -> Report:
        report = cls(id=report_id, received_at=now, **fields)
        report.pending_events.append(ReportReceived(report_id))
        return report

    def triage(
        self,
        *,
        outcome: ReportOutcome,
        reason: str,
        by: str,
        now: datetime,
        forwarded_to: str | None = None,
        initiative_id: str | None = None,
    ) -> None:
        """Decide what happens with the report; the reporter is told why."""
        if self.status is not ReportStatus.RECEIVED:
            raise InvalidTransition(
                f"report {self.id} was already handled ({self.status})",
                current=self.status.value,
                allowed=[],
            )
        if not reason.strip():
            raise RuleViolation("the reporter is told why: a reason is required")
        if outcome is ReportOutcome.FORWARDED and not (forwarded_to or "").strip():
            raise RuleViolation("say where the report was forwarded to")
        if outcome is ReportOutcome.INITIATIVE and initiative_id is None:
            raise RuleViolation("an initiative outcome needs the initiative")
        self.status = ReportStatus(outcome.value)
        self.reason = reason
        self.forwarded_to = forwarded_to if outcome is ReportOutcome.FORWARDED else None
        self.initiative_id = initiative_id
        self.handled_by = by
        self.handled_at = now
        self.pending_events.append(ReportHandled(self.id))
