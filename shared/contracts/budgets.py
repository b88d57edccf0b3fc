"""Events the budgets service publishes on ``budgets.events.v1``."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import AwareDatetime, Cents, EventData, NeighbourhoodCode, PseudonymousId


class BudgetEvent(EventData):
    producer: ClassVar[str] = "budgets"
    aggregate_field: ClassVar[str] = "initiative_id"

    initiative_id: str = Field(description="The initiative the money is for; the Kafka key.")


class BudgetAllocated(BudgetEvent):
    """The approved amount is reserved from a budget."""

    name: ClassVar[str] = "budget-allocated"

    budget_id: str = Field(description="The budget the amount is reserved from.")
    neighbourhood: NeighbourhoodCode | None = Field(
        default=None, description="The budget's neighbourhood, null for the initiatives fund."
    )
    amount_cents: Cents
    available_after_cents: Cents


class AllocationRejected(BudgetEvent):
    """Nothing was reserved: the budget is short (by how much) or missing."""

    name: ClassVar[str] = "allocation-rejected"

    budget_id: str | None = Field(description="The budget that was tried; null if none exists.")
    requested_cents: Cents
    available_cents: Cents
    shortfall_cents: Cents
    fund_could_cover: bool = Field(
        description="Whether the initiatives fund holds enough to cover the whole amount."
    )
    reason: str = Field(description="Why nothing was reserved.")


class BudgetOpened(EventData):
    """A neighbourhood budget or the initiatives fund was opened with its opening amount."""

    producer: ClassVar[str] = "budgets"
    name: ClassVar[str] = "budget-opened"
    aggregate_field: ClassVar[str] = "budget_id"

    budget_id: str = Field(description="The new budget; the Kafka key.")
    kind: str = Field(description="neighbourhood_budget or initiatives_fund.")
    neighbourhood: NeighbourhoodCode | None = Field(
        default=None, description="The budget's neighbourhood, null for the initiatives fund."
    )
    year: int | None = Field(
        default=None, description="The budget year; for the rolling fund the year it opened."
    )
    opening_amount_cents: Cents
    max_per_initiative_cents: Cents | None = Field(
        default=None, description="The fund's ceiling per initiative in euro cents, if any."
    )
    opened_at: AwareDatetime = Field(description="When the budget was opened.")


class ReleaseReason(StrEnum):
    """Why reserved money went back to the budget."""

    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    UNDERSPEND = "underspend"


class FundsReleased(BudgetEvent):
    """(Part of) an initiative's reservation went back to the budget."""

    name: ClassVar[str] = "funds-released"

    budget_id: str = Field(description="The budget the money went back to.")
    amount_cents: Cents
    reason: ReleaseReason = Field(
        description="withdrawn (stopped), expired (not used in time) or underspend."
    )
    still_reserved_cents: Cents = Field(
        description="What stays reserved and unpaid for the initiative after this release."
    )
    available_after_cents: Cents = Field(description="The budget's free money afterwards.")


class FundsDisbursed(BudgetEvent):
    """Money was paid out to the initiative."""

    name: ClassVar[str] = "funds-disbursed"

    budget_id: str = Field(description="The budget paid from.")
    amount_cents: Cents
    disbursed_total_cents: Cents | None = Field(
        default=None, description="Paid out to the initiative in total, this payment included."
    )
    still_reserved_cents: Cents | None = Field(
        default=None, description="What stays reserved and unpaid for the initiative."
    )
    recorded_by: PseudonymousId | None = Field(
        default=None, description="Pseudonymous id of the civil servant or budget holder."
    )


class SpendingReported(BudgetEvent):
    """Actual spending was booked against the initiative's reservation."""

    name: ClassVar[str] = "spending-reported"

    budget_id: str = Field(description="The budget the spending is booked on.")
    amount_cents: Cents
    description: str = Field(description="What the money was spent on.")
    cost_line: str | None = Field(
        default=None, description="The cost line of the initiative's plan the costs belong to."
    )
    planned_cents: Cents | None = Field(
        default=None, description="What the initiative's plan has for this cost line, if known."
    )
    spent_total_cents: Cents | None = Field(
        default=None, description="Accounted for by the initiative in total, this report included."
    )


class RoundEvent(EventData):
    """An event of a neighbourhood budgeting round (buurtbegroten)."""

    producer: ClassVar[str] = "budgets"
    aggregate_field: ClassVar[str] = "round_id"

    round_id: str = Field(description="The budgeting round; the Kafka key.")
    neighbourhood: NeighbourhoodCode = Field(description="The neighbourhood the round is for.")


class RoundPhaseChanged(RoundEvent):
    """A budgeting round moved on to its next phase."""

    name: ClassVar[str] = "round-phase-changed"

    previous_phase: str = Field(description="proposals, review, voting or counting.")
    phase: str = Field(description="review, voting, counting or done.")
    changed_at: AwareDatetime = Field(description="When the round moved on.")


class BallotCast(RoundEvent):
    """A resident's ballot was received; what it chose stays secret."""

    name: ClassVar[str] = "ballot-cast"

    voter_id: PseudonymousId = Field(description="The pseudonymous voter (or paper ballot) id.")
    channel: str = Field(description="online or paper.")
    replaced_earlier: bool = Field(description="Whether it replaced the voter's earlier ballot.")
    cast_at: AwareDatetime = Field(description="When the ballot was cast or imported.")


class ProjectOutcome(BaseModel):
    """One proposal's result in a counted round."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    project_id: str = Field(description="The proposal's id within the round.")
    title: str = Field(description="The proposal's title as it was on the ballot.")
    cost_cents: Cents
    votes: int = Field(ge=0, description="Ballots that chose the proposal.")
    funded: bool = Field(description="Whether the proposal won funding.")


class RoundResultsPublished(RoundEvent):
    """A budgeting round was counted: every proposal's votes and whether it is funded."""

    name: ClassVar[str] = "round-results-published"

    rule: str = Field(description="greedy (by votes) or mes (Method of Equal Shares).")
    ballots: int = Field(ge=0, description="Ballots counted.")
    budget_cents: Cents
    funded_cost_cents: Cents
    projects: list[ProjectOutcome] = Field(description="Every proposal, most votes first.")


EVENTS: tuple[type[EventData], ...] = (
    BudgetAllocated,
    AllocationRejected,
    FundsDisbursed,
    SpendingReported,
    BudgetOpened,
    FundsReleased,
    RoundPhaseChanged,
    BallotCast,
    RoundResultsPublished,
)
