"""What callers ask of the budgets service; each command is validated at the edge."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from services.budgets.domain.alternative import Adoption
from services.budgets.domain.earmarks import Theme
from services.budgets.domain.model import BudgetKind, ReleaseReason
from services.budgets.domain.rounds import BallotKind, Phase, Rule, Verdict

NEIGHBOURHOOD = r"^BU\d{8}$"
MUNICIPALITY = r"^GM\d{4}$"
# Euro cents, as integers: a float or a string is refused rather than rounded.
MAX_CENTS = 10**13
PositiveCents = Annotated[StrictInt, Field(gt=0, le=MAX_CENTS)]
BudgetYear = Annotated[StrictInt, Field(ge=2000, le=2100)]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OpenNeighbourhoodBudget(Command):
    """Open a neighbourhood's budget (buurtbudget) for one year."""

    kind: Literal[BudgetKind.NEIGHBOURHOOD_BUDGET]
    neighbourhood: str = Field(pattern=NEIGHBOURHOOD, description="CBS neighbourhood code.")
    year: BudgetYear = Field(description="The budget year.")
    opening_amount_cents: PositiveCents = Field(description="Opening amount in euro cents.")


class OpenInitiativesFund(Command):
    """Open the municipality's rolling fund for small-scale social initiatives."""

    kind: Literal[BudgetKind.INITIATIVES_FUND]
    opening_amount_cents: PositiveCents = Field(description="Opening amount in euro cents.")
    max_per_initiative_cents: PositiveCents = Field(
        description="The most one initiative may receive from the fund, in euro cents."
    )
    year: BudgetYear | None = Field(
        default=None, description="The year the fund opened; the fund itself does not expire."
    )


OpenBudget = Annotated[OpenNeighbourhoodBudget | OpenInitiativesFund, Field(discriminator="kind")]


class AllocateFunds(Command):
    """Reserve the money an approved initiative asked for."""

    municipality: str = Field(pattern=MUNICIPALITY)
    initiative_id: str = Field(min_length=1, max_length=200)
    funding_source: BudgetKind
    neighbourhood: str = Field(pattern=NEIGHBOURHOOD)
    requested_cents: int = Field(ge=0, le=MAX_CENTS)
    decided_at: AwareDatetime
    theme: str | None = Field(
        default=None, max_length=200, description="The initiative's theme: its earmark pays first."
    )


# No control characters, and no leading = + - @: the open-data CSV must not become a formula.
CostLine = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f=+\-@][^\x00-\x1f]*$")
]
Note = Annotated[str, Field(max_length=500)]


class ReleaseFunds(Command):
    """Give (part of) an initiative's unpaid reservation back to its budget."""

    amount_cents: PositiveCents | None = Field(
        default=None, description="Euro cents to release; leave out to release all that is unpaid."
    )
    reason: ReleaseReason = Field(description="withdrawn, expired or underspend.")
    note: Note = ""


class DisburseFunds(Command):
    """Pay (part of) an initiative's reservation out to the initiative."""

    amount_cents: PositiveCents = Field(description="Euro cents paid; at most what is reserved.")
    note: Note = ""


class ReportSpending(Command):
    """Account for money paid out with the actual costs of one cost line."""

    cost_line: CostLine = Field(description="The cost line, as named in the cost plan.")
    amount_cents: PositiveCents = Field(description="Actual costs in euro cents.")
    note: Note = ""


class PlannedCostLine(Command):
    cost_line: CostLine
    planned_cents: Annotated[StrictInt, Field(ge=0, le=MAX_CENTS)] = Field(
        description="What the initiative plans to spend on this line, in euro cents."
    )


class PlanCosts(Command):
    """Record an approved initiative's cost plan; it replaces any earlier plan."""

    lines: list[PlannedCostLine] = Field(min_length=1, max_length=200)


class CorrectLedger(Command):
    """Correct the ledger with a new entry: change the funding, or reverse an earlier entry."""

    amount_cents: PositiveCents
    corrects_entry_id: StrictInt | None = Field(
        default=None,
        ge=1,
        description="The entry to reverse (partly); leave out to change funding.",
    )
    increase_funding: bool | None = Field(
        default=None,
        description="Without an entry to reverse: true adds money, false takes it out.",
    )
    note: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        description="Why the correction is made; corrections always say why."
    )


VoterChoices = Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=200)]


class PlanRound(Command):
    """Plan a neighbourhood budgeting round with the dates its phases start."""

    neighbourhood: str = Field(pattern=NEIGHBOURHOOD, description="CBS neighbourhood code.")
    title: str = Field(min_length=1, max_length=200)
    budget_cents: PositiveCents = Field(description="What the round divides, in euro cents.")
    ballot_kind: BallotKind = Field(description="approval, or knapsack (within the budget).")
    rule: Rule = Field(description="greedy (by votes) or mes (Method of Equal Shares).")
    max_choices: Annotated[StrictInt, Field(ge=1, le=200)] | None = Field(
        default=None, description="Approval ballots: the most proposals one ballot may choose."
    )
    schedule: dict[Phase, AwareDatetime] = Field(
        description="When each phase starts: proposals, review, voting, counting, done."
    )


class SubmitProposal(Command):
    """Propose something for the round, with what it costs."""

    title: str = Field(min_length=1, max_length=200)
    cost_cents: PositiveCents = Field(description="What it costs, in euro cents.")


class JudgeProposal(Command):
    """The feasibility verdict on a proposal; the reasons are told to the proposer."""

    verdict: Literal[Verdict.FEASIBLE, Verdict.INFEASIBLE]
    reasons: str = Field(min_length=1, max_length=2000, description="Why, in plain words.")


class AdvanceRound(Command):
    """Move the round on to its next phase."""

    phase: Phase = Field(description="The next phase.")


class CastBallot(Command):
    """A resident's ballot: it replaces any earlier ballot of theirs in this round."""

    project_ids: VoterChoices = Field(description="The chosen proposals' ids.")


class PaperBallot(Command):
    paper_id: str = Field(
        pattern=r"^[A-Za-z0-9_.-]{1,40}$", description="The number printed on the paper ballot."
    )
    project_ids: VoterChoices


class ImportPaperBallots(Command):
    """Paper ballots, entered in bulk: all are taken or, if one is wrong, none."""

    ballots: list[PaperBallot] = Field(min_length=1, max_length=20_000)


Cents = Annotated[StrictInt, Field(ge=0, le=MAX_CENTS)]


class SetEarmark(Command):
    """Earmark part of a budget for a theme; 0 gives the unused earmark back to the budget."""

    amount_cents: Cents = Field(description="What the theme's earmark becomes, in euro cents.")
    note: Note = ""


class AlternativeLine(Command):
    theme: Theme = Field(description="The theme, e.g. 'groen' or 'jeugd'.")
    amount_cents: Cents = Field(description="Proposed for the theme, in euro cents.")
    motivation: str = Field(
        min_length=1, max_length=2000, description="Why the theme should get this amount."
    )


AlternativeLines = Annotated[list[AlternativeLine], Field(min_length=1, max_length=50)]
Title = Annotated[str, Field(min_length=1, max_length=200)]


class DraftAlternativeBudget(Command):
    """Draft another division of a neighbourhood budget over themes."""

    budget_id: str = Field(max_length=36, description="The neighbourhood budget it divides.")
    title: Title
    lines: AlternativeLines = Field(description="The division: an amount per theme, and why.")


class EditAlternativeBudget(Command):
    """Change the draft (only its drafter); a changed division needs signing again."""

    title: Title | None = None
    lines: AlternativeLines | None = None


class WithdrawAlternativeBudget(Command):
    """The drafter withdraws it; a reason is optional and goes to the co-signers."""

    reason: Annotated[str, Field(max_length=2000)] | None = Field(
        default=None, description="Why it is withdrawn; the co-signers are told."
    )


class LineDecisionInput(Command):
    theme: Theme = Field(description="A line of the alternative budget.")
    adopted_cents: Cents = Field(description="What the council adopted for it, in euro cents.")
    reasons: Annotated[str, Field(max_length=2000)] = Field(
        default="", description="Why, when the council adopted another amount than proposed."
    )


class RecordCouncilDecision(Command):
    """Record the municipal council's decision on a submitted alternative budget."""

    adoption: Adoption = Field(description="wholly, partly or not_adopted.")
    lines: Annotated[list[LineDecisionInput], Field(max_length=50)] = Field(
        default_factory=list, description="For a partial adoption: the lines adopted."
    )
    reasons: Annotated[str, Field(max_length=4000)] = Field(
        default="", description="The council's reasons; required unless adopted wholly."
    )
    decided_on: date = Field(description="The date of the council's decision.")
