"""What callers ask of the initiatives service; each command is validated at the edge."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.initiatives.domain.model import FundingSource
from services.initiatives.domain.reports import ReportOutcome

NEIGHBOURHOOD = r"^BU\d{8}$"
PERSON = r"^[A-Za-z0-9_.:-]{1,64}$"
LOCAL_ID = r"^[a-z0-9-]{1,40}$"
PersonId = Annotated[str, Field(pattern=PERSON, description="A pseudonymous person id.")]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DefineInitiativeType(Command):
    code: str = Field(pattern=r"^[a-z0-9-]{2,40}$", description="Short code, e.g. 'buurt-klein'.")
    name: str = Field(min_length=2, max_length=200)
    support_threshold: int = Field(ge=0, description="Supports needed; 0 goes to review at once.")
    support_window_days: int = Field(
        default=42, ge=1, le=365, description="Days to collect the supports in."
    )
    min_co_initiators: int = Field(
        default=0, ge=0, le=50, description="Co-initiators needed besides the initiator."
    )
    max_amount_cents: int = Field(ge=0, description="Most that may be requested, in cents.")
    funding_source: FundingSource
    decision_deadline_days: int = Field(
        default=56, ge=1, le=365, description="Days from review to the decision."
    )
    working_days: bool = Field(
        default=False, description="Count periods in working days (no weekends, no holidays)."
    )


class MilestoneInput(Command):
    id: str = Field(pattern=LOCAL_ID, description="Id within the initiative, e.g. 'm1'.")
    description: str = Field(min_length=2, max_length=500)
    due_date: date = Field(description="Due at the end of this day, Europe/Amsterdam.")


class CostLineInput(Command):
    description: str = Field(min_length=2, max_length=500)
    amount_cents: int = Field(ge=0, description="Cost in euro cents.")


class IndicatorInput(Command):
    id: str = Field(pattern=LOCAL_ID, description="Id within the initiative, e.g. 'i1'.")
    description: str = Field(min_length=2, max_length=500)
    target: float = Field(description="The value to reach.")
    unit: str = Field(default="", max_length=40)


class PlanFields(Command):
    """The "Burgers aan het stuur" steps one to four; optional until they are needed."""

    problem: str | None = Field(default=None, max_length=10_000, description="What is going on.")
    desired_improvement: str | None = Field(
        default=None, max_length=10_000, description="What must improve."
    )
    milestones: list[MilestoneInput] | None = Field(default=None, max_length=50)
    cost_lines: list[CostLineInput] | None = Field(
        default=None, max_length=100, description="The costed budget; its sum is the request."
    )
    indicators: list[IndicatorInput] | None = Field(
        default=None, max_length=50, description="Measurable results with targets."
    )
    co_initiators: list[PersonId] | None = Field(default=None, max_length=50)


class SubmitInitiative(PlanFields):
    initiative_type: str = Field(description="Code of the initiative type.")
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(min_length=10, max_length=10_000)
    neighbourhood: str = Field(pattern=NEIGHBOURHOOD, description="CBS neighbourhood code.")
    theme: str = Field(min_length=2, max_length=60)
    requested_amount_cents: int = Field(
        default=0, ge=0, description="Ignored when cost lines are given (their sum counts)."
    )
    draft: bool = Field(default=False, description="Keep it as a draft instead of submitting.")
    follows: str | None = Field(
        default=None, max_length=36, description="A closed initiative this one sets new goals for."
    )


class EditDraft(PlanFields):
    title: str | None = Field(default=None, min_length=3, max_length=200)
    description: str | None = Field(default=None, min_length=10, max_length=10_000)
    neighbourhood: str | None = Field(default=None, pattern=NEIGHBOURHOOD)
    theme: str | None = Field(default=None, min_length=2, max_length=60)
    requested_amount_cents: int | None = Field(default=None, ge=0)


class WithReason(Command):
    reason: str = Field(min_length=1, max_length=2_000)


class PaperSupports(Command):
    supporter_ids: list[PersonId] = Field(
        min_length=1, max_length=5_000, description="Residents who signed on paper."
    )


class DecideInitiative(Command):
    approve: bool
    reasons: str = Field(max_length=10_000, description="Required for a rejection.")
    conditions: list[str] = Field(default_factory=list)
    advice_responses: dict[str, str] = Field(
        default_factory=dict,
        description="Per advisory council id, the answer to its advice (required to reject).",
    )


class ProgressUpdateInput(Command):
    text: str = Field(min_length=2, max_length=5_000)
    milestone_id: str | None = Field(default=None, description="A milestone this completes.")


class ReportResults(Command):
    summary: str = Field(min_length=2, max_length=10_000)
    measured: dict[str, float] = Field(description="Measured value per indicator id.")


class AccountFor(Command):
    spent_cents: int = Field(ge=0, description="What was spent, in cents.")
    account: str = Field(min_length=2, max_length=10_000, description="Money and results.")


class MarkReadyForDecision(Command):
    initiative_id: str
    advice_round_id: str
    advice_positions: list[str]
    advice: list[dict[str, object]] = Field(default_factory=list)


class RecordFunding(Command):
    initiative_id: str
    funded: bool
    note: str


class SubmitReport(Command):
    neighbourhood: str = Field(pattern=NEIGHBOURHOOD, description="CBS neighbourhood code.")
    category: str = Field(min_length=2, max_length=60, description="E.g. 'groen', 'verkeer'.")
    description: str = Field(min_length=5, max_length=5_000)
    latitude: float = Field(ge=50.7, le=53.6, description="WGS84 latitude in the Netherlands.")
    longitude: float = Field(ge=3.3, le=7.3, description="WGS84 longitude in the Netherlands.")
    location_description: str = Field(default="", max_length=500)


class TriageReport(Command):
    outcome: ReportOutcome
    reason: str = Field(min_length=1, max_length=2_000, description="Told to the reporter.")
    forwarded_to: str | None = Field(default=None, max_length=200)
    initiative_type: str | None = Field(
        default=None, description="For outcome 'initiative': the type of the draft made."
    )
