"""What callers ask of the advisory service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from services.advisory.domain.agenda import AgendaOutcome, MeetingAgendaPoint
from services.advisory.domain.consultations import AnswerOutcome
from services.advisory.domain.model import AdoptionRule, CouncilKind, MemberRole, Position
from services.advisory.domain.routing import Obligation

NEIGHBOURHOOD = r"^BU\d{8}$"
DISTRICT = r"^WK\d{6}$"
AREA = r"^(BU\d{8}|WK\d{6})$"
PERSON = r"^[A-Za-z0-9_.:-]{1,64}$"

Neighbourhood = Annotated[str, Field(pattern=NEIGHBOURHOOD)]
District = Annotated[str, Field(pattern=DISTRICT)]
Area = Annotated[str, Field(pattern=AREA)]
Theme = Annotated[str, Field(min_length=1, max_length=80)]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time with its UTC offset")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CreateCouncil(Command):
    name: str = Field(min_length=2, max_length=200)
    kind: CouncilKind
    neighbourhoods: list[Neighbourhood] = Field(
        default_factory=list, description="CBS neighbourhood (BU) codes it covers."
    )
    districts: list[District] = Field(
        default_factory=list, description="CBS district (WK) codes it covers, all their buurten."
    )
    themes: list[Theme] = Field(default_factory=list, description="Themes it advises on.")
    advice_days: int | None = Field(default=None, ge=1, le=120)
    working_days: bool = Field(True, description="Count the period in working days.")
    adoption: AdoptionRule = Field(
        AdoptionRule.RECORDED,
        description="'recorded': the chair or secretary records the adopted advice; "
        "'vote': members vote here.",
    )
    quorum_percent: int = Field(
        50, ge=1, le=100, description="Share of serving members that must vote for a decision."
    )
    reminder_days: list[int] = Field(
        default_factory=lambda: [3, 1],
        max_length=5,
        description="Days before the deadline on which the council is reminded.",
    )


class UpdateCouncil(Command):
    name: str | None = Field(default=None, min_length=2, max_length=200)
    neighbourhoods: list[Neighbourhood] | None = None
    districts: list[District] | None = None
    themes: list[Theme] | None = None
    advice_days: int | None = Field(default=None, ge=1, le=120)
    working_days: bool | None = None
    adoption: AdoptionRule | None = None
    quorum_percent: int | None = Field(default=None, ge=1, le=100)
    reminder_days: list[int] | None = Field(default=None, max_length=5)


class AppointMember(Command):
    person_id: str = Field(pattern=PERSON, description="Pseudonymous id.")
    role: MemberRole = MemberRole.MEMBER
    term_start: date | None = Field(default=None, description="First day of the term.")
    term_end: date | None = Field(default=None, description="Last day of the term.")

    @model_validator(mode="after")
    def _term_in_order(self) -> AppointMember:
        if self.term_start and self.term_end and self.term_end < self.term_start:
            raise ValueError("term_end lies before term_start")
        return self


class GiveAdvice(Command):
    position: Position
    motivation: Text
    conditions: list[Text] = Field(default_factory=list)
    minority_positions: list[MinorityPositionIn] = Field(
        default_factory=list, description="Positions of minorities in the council, kept."
    )
    meeting_id: str | None = Field(default=None, max_length=64)


class MinorityPositionIn(Command):
    position: Position
    motivation: Text
    supporters: int | None = Field(default=None, ge=0)


class CastVote(Command):
    position: Position
    motivation: Text
    conditions: list[Text] = Field(default_factory=list)


class CloseVote(Command):
    meeting_id: str | None = Field(default=None, max_length=64)


class ExtendDeadline(Command):
    """Either a number of (working) days after the current deadline, or a last day."""

    days: int | None = Field(default=None, ge=1, le=120)
    until: date | None = Field(default=None, description="The new last day (Amsterdam).")
    reason: Text

    @model_validator(mode="after")
    def _one_of(self) -> ExtendDeadline:
        if (self.days is None) == (self.until is None):
            raise ValueError("give either days or until")
        return self


class CloseRound(Command):
    reason: Text


class RouteCouncil(Command):
    council_id: str = Field(max_length=64)
    required: bool = True


class RouteRound(Command):
    councils: list[RouteCouncil] = Field(min_length=1)


class RequestAdvice(Command):
    """From an initiative that is ready for review."""

    subject_id: str
    title: str
    neighbourhood: str
    theme: str
    initiative_type: str | None = None
    amount_cents: int | None = None


class CreateRoutingRule(Command):
    council_id: str = Field(max_length=64)
    obligation: Obligation = Obligation.MUST
    neighbourhoods: list[Neighbourhood] = Field(default_factory=list)
    districts: list[District] = Field(default_factory=list)
    themes: list[Theme] = Field(default_factory=list)
    initiative_types: list[Theme] = Field(default_factory=list)
    min_amount_cents: int | None = Field(default=None, ge=0)
    max_amount_cents: int | None = Field(default=None, ge=0)
    description: str = Field("", max_length=500)


class OpenConsultation(Command):
    title: str = Field(min_length=2, max_length=200)
    summary: Text
    link: str = Field(pattern=r"^https?://", max_length=500)
    themes: list[Theme] = Field(default_factory=list)
    areas: list[Area] = Field(default_factory=list)
    council_ids: list[str] = Field(default_factory=list)
    open_to_residents: bool = False
    days: int | None = Field(
        default=None, ge=1, le=120, description="Period; each council's own when not given."
    )

    @model_validator(mode="after")
    def _someone_asked(self) -> OpenConsultation:
        if not self.council_ids and not self.open_to_residents:
            raise ValueError("ask at least one council or the residents")
        return self


class GiveInput(Command):
    text: Text


class AnswerPoint(Command):
    outcome: AnswerOutcome
    reason: Text


class ProposeAgendaItem(Command):
    title: str = Field(min_length=2, max_length=200)
    description: str = Field("", max_length=10_000)


class ScheduleAgendaItem(Command):
    meeting_date: date
    body: str = Field("gemeenteraad", min_length=2, max_length=100)


class ConcludeAgendaItem(Command):
    outcome: AgendaOutcome
    summary: Text


class PlanMeeting(Command):
    starts_at: AwareDatetime
    location: str = Field("", max_length=200)
    with_municipality: bool = True
    agenda: list[MeetingAgendaPoint] = Field(default_factory=list)


class PublishMinutes(Command):
    minutes: Text


GiveAdvice.model_rebuild()
