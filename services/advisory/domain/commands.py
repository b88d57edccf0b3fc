"""What callers ask of the advisory service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.advisory.domain.model import CouncilKind, MemberRole, Position

NEIGHBOURHOOD = r"^BU\d{8}$"


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CreateCouncil(Command):
    name: str = Field(min_length=2, max_length=200)
    kind: CouncilKind
    neighbourhoods: list[str] = Field(default_factory=list, description="CBS codes it covers.")
    themes: list[str] = Field(default_factory=list, description="Themes it advises on.")
    advice_days: int | None = Field(default=None, ge=1, le=120)
    working_days: bool = True


class AppointMember(Command):
    person_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="Pseudonymous id.")
    role: MemberRole = MemberRole.MEMBER


class GiveAdvice(Command):
    position: Position
    motivation: str = Field(min_length=1, max_length=10_000)
    conditions: list[str] = Field(default_factory=list)


class RequestAdvice(Command):
    """From an initiative that is ready for review."""

    subject_id: str
    title: str
    neighbourhood: str
    theme: str
