"""What callers ask of the initiatives service; each command is validated at the edge."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.initiatives.domain.model import FundingSource

NEIGHBOURHOOD = r"^BU\d{8}$"


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DefineInitiativeType(Command):
    code: str = Field(pattern=r"^[a-z0-9-]{2,40}$", description="Short code, e.g. 'buurt-klein'.")
    name: str = Field(min_length=2, max_length=200)
    support_threshold: int = Field(ge=0, description="Supports needed; 0 goes to review at once.")
    max_amount_cents: int = Field(ge=0)
    funding_source: FundingSource


class SubmitInitiative(Command):
    initiative_type: str = Field(description="Code of the initiative type.")
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(min_length=10, max_length=10_000)
    neighbourhood: str = Field(pattern=NEIGHBOURHOOD, description="CBS neighbourhood code.")
    theme: str = Field(min_length=2, max_length=60)
    requested_amount_cents: int = Field(ge=0)


class DecideInitiative(Command):
    approve: bool
    reasons: str = Field(max_length=10_000, description="Required for a rejection.")
    conditions: list[str] = Field(default_factory=list)


class MarkReadyForDecision(Command):
    initiative_id: str
    advice_round_id: str
    advice_positions: list[str]


class RecordFunding(Command):
    initiative_id: str
    funded: bool
    note: str
