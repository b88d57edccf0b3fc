"""Events the initiatives service publishes on ``initiatives.events.v1``."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import (
    AwareDatetime,
    Cents,
    EventData,
    NeighbourhoodCode,
    PseudonymousId,
)


class FundingSource(StrEnum):
    NEIGHBOURHOOD_BUDGET = "neighbourhood_budget"
    INITIATIVES_FUND = "initiatives_fund"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class SupportChannel(StrEnum):
    DIGITAL = "digital"
    PAPER = "paper"


class ReportOutcome(StrEnum):
    INITIATIVE = "initiative"
    FORWARDED = "forwarded"
    CLOSED = "closed"


class InitiativeEvent(EventData):
    producer: ClassVar[str] = "initiatives"
    aggregate_field: ClassVar[str] = "initiative_id"

    initiative_id: str = Field(description="Id of the initiative; the Kafka key.")


class InitiativeFacts(InitiativeEvent):
    """What routing, budgeting and notifying need to know about an initiative."""

    title: str = Field(description="Public title of the initiative.")
    neighbourhood: NeighbourhoodCode
    theme: str = Field(description="Theme of the initiative, e.g. 'groen' or 'jeugd'.")
    initiative_type: str = Field(description="Code of the initiative type in the municipality.")
    requested_amount_cents: Cents
    funding_source: FundingSource = Field(description="Which budget pays if approved.")
    initiator_id: PseudonymousId


class InitiativeSubmitted(InitiativeFacts):
    """An initiator submitted an initiative."""

    name: ClassVar[str] = "initiative-submitted"

    submitted_at: AwareDatetime = Field(description="When the initiator submitted it.")


class SupportRegistered(InitiativeEvent):
    """A resident supports an initiative (one event per resident)."""

    name: ClassVar[str] = "support-registered"

    supporter_id: PseudonymousId
    support_count: int = Field(ge=0, description="Supports counted after this one.")
    channel: SupportChannel | None = Field(
        default=None, description="Digital, or paper entered by a civil servant."
    )
    support_threshold: int | None = Field(
        default=None, ge=0, description="Supports the initiative's type asks for."
    )


class SupportWithdrawn(InitiativeEvent):
    """A resident withdrew their support before the decision."""

    name: ClassVar[str] = "support-withdrawn"

    supporter_id: PseudonymousId
    support_count: int = Field(ge=0, description="Supports counted after this withdrawal.")


class InitiativeReadyForReview(InitiativeFacts):
    """The initiative has the support it needs and goes to the advisory councils."""

    name: ClassVar[str] = "initiative-ready-for-review"

    support_count: int = Field(ge=0, description="Supports the initiative gathered.")


class InitiativeReadyForDecision(InitiativeEvent):
    """The advice round completed; the budget holder can decide."""

    name: ClassVar[str] = "initiative-ready-for-decision"

    advice_round_id: str = Field(description="The advice round whose completion led here.")
    advice_positions: list[str] = Field(
        description="Positions of the councils that advised (positive, negative, conditional)."
    )
    requested_amount_cents: Cents


class InitiativeDecided(InitiativeFacts):
    """The budget holder approved (with conditions) or rejected (with reasons) it."""

    name: ClassVar[str] = "initiative-decided"

    decision: Decision = Field(description="Approved or rejected.")
    reasons: str = Field(description="Why: for a rejection, the answer to the advice received.")
    conditions: list[str] = Field(
        default_factory=list, description="Conditions attached to an approval."
    )
    decided_by: PseudonymousId
    decided_at: AwareDatetime = Field(description="When the budget holder decided.")


class MeasuredResult(BaseModel):
    """One indicator's target and measured value (part of an event, not an event of its own)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    indicator: str = Field(description="What was measured, e.g. 'bankjes geplaatst'.")
    target: float = Field(description="The value the action plan aimed for.")
    measured: float = Field(description="The value measured.")
    unit: str = Field(default="", description="Unit of target and measured value.")


class InitiativeResultsReported(InitiativeEvent):
    """The initiators reported what the initiative achieved."""

    name: ClassVar[str] = "initiative-results-reported"

    summary: str = Field(description="What the initiative achieved, in the initiator's words.")
    results: list[MeasuredResult] | None = Field(
        default=None, description="Measured results against the action plan's targets."
    )


class InitiativeClosed(InitiativeEvent):
    """The initiative is closed."""

    name: ClassVar[str] = "initiative-closed"

    reason: str = Field(description="Why the initiative was closed.")


class SupportProgress(InitiativeEvent):
    """An initiative collecting support passed a third or two thirds of its threshold."""

    name: ClassVar[str] = "support-progress"

    percentage: int = Field(description="The milestone passed: 33 or 66 (percent).")
    support_count: int = Field(ge=0, description="Supports counted now.")
    support_threshold: int = Field(ge=1, description="Supports the initiative's type asks for.")


class InitiativeWithdrawn(InitiativeEvent):
    """The initiators withdrew their initiative."""

    name: ClassVar[str] = "initiative-withdrawn"

    reason: str = Field(description="Why the initiators withdrew it.")
    previous_status: str = Field(description="The state it was withdrawn from.")
    initiator_id: PseudonymousId


class InitiativeExpired(InitiativeEvent):
    """The support window ended before the initiative had the support it needed."""

    name: ClassVar[str] = "initiative-expired"

    support_count: int = Field(ge=0, description="Supports it gathered.")
    support_threshold: int = Field(ge=0, description="Supports it needed.")
    support_deadline: AwareDatetime = Field(description="When the support window ended.")
    initiator_id: PseudonymousId


class InitiativeDecisionOverdue(InitiativeEvent):
    """The decision deadline of the initiative's type passed without a decision."""

    name: ClassVar[str] = "initiative-decision-overdue"

    decision_deadline: AwareDatetime = Field(description="The deadline that passed.")
    status: str = Field(description="Where the initiative stands: in review or ready for decision.")


class MilestoneOverdue(InitiativeEvent):
    """A milestone of the action plan passed its due date without being reported done."""

    name: ClassVar[str] = "milestone-overdue"

    milestone_id: str = Field(description="Id of the milestone within the initiative.")
    milestone: str = Field(description="What the milestone is, as the action plan says.")
    due_date: date = Field(description="The date it was due (Europe/Amsterdam).")
    initiator_id: PseudonymousId


class InitiativeAccounted(InitiativeEvent):
    """The initiators accounted for the money and the results (verantwoording)."""

    name: ClassVar[str] = "initiative-accounted"

    budgeted_cents: Cents = Field(description="The costed budget of the action plan, in cents.")
    spent_cents: Cents = Field(description="What the initiators say they spent, in cents.")
    disbursed_cents: Cents = Field(description="What the municipality paid out, in cents.")
    account: str = Field(description="The account of money and results, in their words.")


class ReportEvent(EventData):
    producer: ClassVar[str] = "initiatives"
    aggregate_field: ClassVar[str] = "report_id"

    report_id: str = Field(description="Id of the neighbourhood report; the Kafka key.")
    neighbourhood: NeighbourhoodCode
    reporter_id: PseudonymousId


class ReportReceived(ReportEvent):
    """A resident reported an observation in their neighbourhood (buurtschouw)."""

    name: ClassVar[str] = "report-received"

    category: str = Field(description="What kind of observation, e.g. 'groen' or 'verkeer'.")
    summary: str = Field(description="Short public summary of the observation.")


class ReportHandled(ReportEvent):
    """A civil servant triaged a report; the reporter hears what was done with it."""

    name: ClassVar[str] = "report-handled"

    outcome: ReportOutcome = Field(
        description="Turned into an initiative, forwarded, or closed with a reason."
    )
    reason: str = Field(description="What was done and why, for the reporter.")
    forwarded_to: str | None = Field(
        default=None, description="The department or organisation it was forwarded to."
    )
    initiative_id: str | None = Field(
        default=None, description="The initiative it was turned into."
    )
    handled_by: PseudonymousId


EVENTS: tuple[type[EventData], ...] = (
    InitiativeSubmitted,
    SupportRegistered,
    SupportWithdrawn,
    InitiativeReadyForReview,
    InitiativeReadyForDecision,
    InitiativeDecided,
    InitiativeResultsReported,
    InitiativeClosed,
    SupportProgress,
    InitiativeWithdrawn,
    InitiativeExpired,
    InitiativeDecisionOverdue,
    MilestoneOverdue,
    InitiativeAccounted,
    ReportReceived,
    ReportHandled,
)
