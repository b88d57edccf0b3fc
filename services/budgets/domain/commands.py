"""What callers ask of the budgets service; each command is validated at the edge."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from services.budgets.domain.model import BudgetKind

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
