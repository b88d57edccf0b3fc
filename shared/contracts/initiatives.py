"""Events the initiatives service publishes on ``initiatives.events.v1``."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

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


class InitiativeResultsReported(InitiativeEvent):
    """The initiators reported what the initiative achieved."""

    name: ClassVar[str] = "initiative-results-reported"

    summary: str = Field(description="What the initiative achieved, in the initiator's words.")


class InitiativeClosed(InitiativeEvent):
    """The initiative is closed."""

    name: ClassVar[str] = "initiative-closed"

    reason: str = Field(description="Why the initiative was closed.")


EVENTS: tuple[type[EventData], ...] = (
    InitiativeSubmitted,
    SupportRegistered,
    SupportWithdrawn,
    InitiativeReadyForReview,
    InitiativeReadyForDecision,
    InitiativeDecided,
    InitiativeResultsReported,
    InitiativeClosed,
)
