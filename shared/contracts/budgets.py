"""Events the budgets service publishes on ``budgets.events.v1``."""

from __future__ import annotations

from datetime import date
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


class EarmarkSet(EventData):
    """Part of a budget is earmarked for a theme (or an earmark changed, or was given back)."""

    producer: ClassVar[str] = "budgets"
    name: ClassVar[str] = "earmark-set"
    aggregate_field: ClassVar[str] = "budget_id"

    budget_id: str = Field(description="The budget the earmark is part of; the Kafka key.")
    neighbourhood: NeighbourhoodCode | None = Field(
        default=None, description="The budget's neighbourhood, null for the initiatives fund."
    )
    theme: str = Field(description="The theme the money is earmarked for, e.g. 'groen'.")
    amount_cents: Cents = Field(description="The earmark now, in euro cents; 0 when given back.")
    previous_amount_cents: Cents = Field(description="The earmark before, in euro cents.")
    remaining_cents: Cents = Field(
        description="What the earmark still holds for initiatives of the theme, in euro cents."
    )
    available_after_cents: Cents = Field(
        description="The budget's money that is neither reserved nor earmarked, afterwards."
    )
    alternative_budget_id: str | None = Field(
        default=None, description="The adopted alternative budget that set it, if one did."
    )
    set_at: AwareDatetime = Field(description="When the earmark was set.")


class AlternativeBudgetLine(BaseModel):
    """One theme of an alternative budget's division."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    theme: str = Field(description="The theme, e.g. 'groen' or 'jeugd'.")
    amount_cents: Cents = Field(description="Proposed for the theme, in euro cents.")
    motivation: str = Field(description="Why the residents propose this amount.")


class AdoptedLine(BaseModel):
    """A line of an alternative budget as the municipal council adopted it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    theme: str = Field(description="The theme of the line.")
    proposed_cents: Cents = Field(description="What the alternative budget proposed.")
    adopted_cents: Cents = Field(description="What the council adopted; it becomes the earmark.")
    reasons: str = Field(default="", description="Why the council changed the amount, if it did.")


class AdoptionExtent(StrEnum):
    WHOLLY = "wholly"
    PARTLY = "partly"


class AlternativeBudgetEvent(EventData):
    """An event of residents' alternative budget (alternatieve begroting)."""

    producer: ClassVar[str] = "budgets"
    aggregate_field: ClassVar[str] = "alternative_budget_id"

    alternative_budget_id: str = Field(description="The alternative budget; the Kafka key.")
    budget_id: str = Field(description="The neighbourhood budget it divides.")
    neighbourhood: NeighbourhoodCode = Field(description="The budget's neighbourhood.")
    drafter_id: PseudonymousId = Field(description="The resident who drafted it.")
    co_signer_ids: list[PseudonymousId] = Field(
        default_factory=list, description="The residents who co-signed it (pseudonymous ids)."
    )


class AlternativeBudgetSubmitted(AlternativeBudgetEvent):
    """Residents submitted an alternative division of a budget to the municipal council."""

    name: ClassVar[str] = "alternative-budget-submitted"

    year: int = Field(description="The budget year.")
    submitted_by: PseudonymousId = Field(description="The resident who submitted it.")
    lines: list[AlternativeBudgetLine] = Field(description="The proposed division over themes.")
    total_cents: Cents = Field(description="The lines added up: the budget's whole amount.")
    submitted_at: AwareDatetime = Field(description="When it was submitted.")


class AlternativeBudgetAdopted(AlternativeBudgetEvent):
    """The municipal council adopted an alternative budget, wholly or partly."""

    name: ClassVar[str] = "alternative-budget-adopted"

    adoption: AdoptionExtent = Field(description="wholly, or partly (see the lines).")
    lines: list[AdoptedLine] = Field(description="The lines adopted, at the amounts adopted.")
    reasons: str = Field(description="The council's reasons (always given for a partial one).")
    decided_on: date = Field(description="The date of the council's decision.")
    recorded_by: PseudonymousId = Field(description="The civil servant who recorded it.")


class AlternativeBudgetNotAdopted(AlternativeBudgetEvent):
    """The municipal council did not adopt an alternative budget, with its reasons."""

    name: ClassVar[str] = "alternative-budget-not-adopted"

    reasons: str = Field(description="Why the council did not adopt it.")
    decided_on: date = Field(description="The date of the council's decision.")
    recorded_by: PseudonymousId = Field(description="The civil servant who recorded it.")


class AlternativeBudgetWithdrawn(AlternativeBudgetEvent):
    """The drafter withdrew an alternative budget before the municipal council decided on it."""

    name: ClassVar[str] = "alternative-budget-withdrawn"

    previous_status: str = Field(
        description="Where it stood when withdrawn: 'draft', or 'submitted' to the council."
    )
    reason: str | None = Field(
        default=None, description="Why the drafter withdrew it, when they said why."
    )
    withdrawn_by: PseudonymousId = Field(description="The resident who withdrew it: its drafter.")
    withdrawn_at: AwareDatetime = Field(description="When it was withdrawn.")


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
    EarmarkSet,
    AlternativeBudgetSubmitted,
    AlternativeBudgetAdopted,
    AlternativeBudgetNotAdopted,
    AlternativeBudgetWithdrawn,
)
