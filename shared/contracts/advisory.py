"""Events the advisory service publishes on ``advisory.events.v1``."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import AwareDatetime, EventData, PseudonymousId


class CouncilKind(StrEnum):
    NEIGHBOURHOOD_COUNCIL = "neighbourhood_council"
    YOUTH_COUNCIL = "youth_council"
    BROAD_ADVISORY_COMMITTEE = "broad_advisory_committee"


class MemberRole(StrEnum):
    CHAIR = "chair"
    SECRETARY = "secretary"
    MEMBER = "member"


class AdvicePosition(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    CONDITIONAL = "conditional"


class SubjectKind(StrEnum):
    INITIATIVE = "initiative"
    POLICY = "policy"


class AdoptionRule(StrEnum):
    RECORDED = "recorded"
    VOTE = "vote"


class AnswerOutcome(StrEnum):
    ADOPTED = "adopted"
    PARTLY_ADOPTED = "partly_adopted"
    NOT_ADOPTED = "not_adopted"


class AgendaOutcome(StrEnum):
    ADOPTED = "adopted"
    REJECTED = "rejected"
    NOTED = "noted"
    NOT_SCHEDULED = "not_scheduled"


class CouncilEvent(EventData):
    producer: ClassVar[str] = "advisory"
    aggregate_field: ClassVar[str] = "council_id"

    council_id: str = Field(description="Id of the advisory council; the Kafka key.")


class CouncilMemberAppointed(CouncilEvent):
    """A person was appointed to an advisory council, or changed role."""

    name: ClassVar[str] = "council-member-appointed"

    member_id: PseudonymousId
    role: MemberRole = Field(description="The member's role in the council.")
    council_kind: CouncilKind = Field(description="What kind of council this is.")
    term_end: date | None = Field(
        default=None, description="Last day of the member's term; null when open-ended."
    )


class CouncilMemberLeft(CouncilEvent):
    """A person left an advisory council."""

    name: ClassVar[str] = "council-member-left"

    member_id: PseudonymousId
    reason: str = Field(default="dismissed", description="Why: 'dismissed' or 'term_ended'.")


class AdviceRoundEvent(EventData):
    producer: ClassVar[str] = "advisory"
    aggregate_field: ClassVar[str] = "round_id"

    round_id: str = Field(description="Id of the advice round; the Kafka key.")
    subject_kind: SubjectKind = Field(description="What advice is asked on.")
    subject_id: str = Field(description="Id of the initiative or policy document.")


class AdviceRequested(AdviceRoundEvent):
    """A council is asked for advice, with a deadline."""

    name: ClassVar[str] = "advice-requested"

    request_id: str = Field(description="Id of this council's advice request.")
    council_id: str = Field(description="The council asked for advice.")
    council_kind: CouncilKind = Field(description="What kind of council is asked.")
    title: str = Field(description="Public title of what advice is asked on.")
    deadline: AwareDatetime = Field(description="When the advice is due.")
    required: bool = Field(
        default=True,
        description="False when the council may advise but the round does not wait past its "
        "deadline for it.",
    )


class MinorityPosition(BaseModel):
    """A position of a minority of the council, kept with the adopted advice."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    position: AdvicePosition = Field(description="The minority's position.")
    motivation: str = Field(description="The minority's motivation.")
    supporters: int | None = Field(
        default=None, ge=0, description="How many members held it, when counted."
    )


class AdviceGiven(AdviceRoundEvent):
    """A council gave its advice, with a motivation."""

    name: ClassVar[str] = "advice-given"

    request_id: str = Field(description="The advice request answered.")
    council_id: str = Field(description="The council that advised.")
    position: AdvicePosition = Field(description="Positive, negative or conditional.")
    motivation: str = Field(min_length=1, description="Why the council advises so.")
    conditions: list[str] = Field(
        default_factory=list, description="Conditions of a conditional advice."
    )
    given_by: PseudonymousId
    adopted_by: AdoptionRule = Field(
        default=AdoptionRule.RECORDED,
        description="'recorded' by the chair or secretary, or adopted by a 'vote' of members.",
    )
    votes_for: int | None = Field(default=None, ge=0, description="Votes for the position.")
    votes_cast: int | None = Field(default=None, ge=0, description="Votes cast in all.")
    minority_positions: list[MinorityPosition] = Field(
        default_factory=list, description="Positions of minorities in the council, kept."
    )
    meeting_id: str | None = Field(
        default=None, description="The council meeting where the advice was adopted."
    )


class AdviceDeadlineApproaching(AdviceRoundEvent):
    """A council's advice is due soon: a reminder."""

    name: ClassVar[str] = "advice-deadline-approaching"

    request_id: str = Field(description="The advice request still open.")
    council_id: str = Field(description="The council that has not advised yet.")
    deadline: AwareDatetime = Field(description="When the advice is due.")
    days_before: int = Field(ge=0, description="How many days before the deadline this is.")


class AdviceOverdue(AdviceRoundEvent):
    """A council's advice deadline passed without advice."""

    name: ClassVar[str] = "advice-overdue"

    request_id: str = Field(description="The advice request that is overdue.")
    council_id: str = Field(description="The council that has not advised.")
    deadline: AwareDatetime = Field(description="The deadline that passed.")
    escalate_to: list[PseudonymousId] = Field(
        default_factory=list,
        description="Pseudonymous ids of the council's serving chair and secretary, who are "
        "told; the municipality's civil servants follow the round itself.",
    )


class AdviceDeadlineExtended(AdviceRoundEvent):
    """A council's advice deadline was moved, with a reason."""

    name: ClassVar[str] = "advice-deadline-extended"

    request_id: str = Field(description="The advice request whose deadline moved.")
    council_id: str = Field(description="The council that gets more time.")
    previous_deadline: AwareDatetime = Field(description="The deadline before the extension.")
    deadline: AwareDatetime = Field(description="The new deadline.")
    reason: str = Field(min_length=1, description="Why the deadline was extended.")
    extended_by: PseudonymousId


class AdviceRoundUnrouted(AdviceRoundEvent):
    """No routing rule matched: a civil servant must pick the councils."""

    name: ClassVar[str] = "advice-round-unrouted"

    title: str = Field(description="Public title of what advice is asked on.")
    neighbourhood: str | None = Field(default=None, description="CBS neighbourhood code.")
    theme: str | None = Field(default=None, description="Theme of the subject.")


class GivenAdvice(BaseModel):
    """One council's advice inside ``advice-round-completed`` (not an event of its own)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    council_id: str = Field(description="The council.")
    position: AdvicePosition | None = Field(description="Its position; null when it never advised.")
    motivation: str = Field(description="Its motivation; empty when it never advised.")
    conditions: list[str] = Field(default_factory=list, description="Its conditions.")


class AdviceRoundCompleted(AdviceRoundEvent):
    """Every council asked has advised, or the round was closed after escalation."""

    name: ClassVar[str] = "advice-round-completed"

    advice: list[GivenAdvice] = Field(description="The advice of every council that was asked.")
    closed_after_escalation: bool = Field(
        description="True when the round was closed without every council's advice."
    )
    completed_at: AwareDatetime = Field(description="When the round completed.")
    closed_by: PseudonymousId | None = Field(
        default=None, description="The civil servant who closed the round, if one did."
    )
    closing_reason: str | None = Field(
        default=None, description="Why the round was closed without every advice."
    )


class ConsultationEvent(EventData):
    producer: ClassVar[str] = "advisory"
    aggregate_field: ClassVar[str] = "consultation_id"

    consultation_id: str = Field(description="Id of the policy consultation; the Kafka key.")


class ConsultationOpened(ConsultationEvent):
    """The municipality put a policy document to councils and, perhaps, residents."""

    name: ClassVar[str] = "consultation-opened"

    title: str = Field(description="Title of the policy document.")
    summary: str = Field(description="Summary of the policy document.")
    link: str = Field(description="Where the policy document can be read.")
    themes: list[str] = Field(default_factory=list, description="Themes it concerns.")
    areas: list[str] = Field(
        default_factory=list, description="CBS neighbourhood (BU) and district (WK) codes."
    )
    council_ids: list[str] = Field(default_factory=list, description="The councils asked.")
    open_to_residents: bool = Field(description="Whether residents can give input.")
    advice_round_id: str | None = Field(
        default=None, description="The advice round asking the councils, if any."
    )
    closes_at: AwareDatetime = Field(description="When input closes.")


class ConsultationClosed(ConsultationEvent):
    """Input on a policy consultation closed."""

    name: ClassVar[str] = "consultation-closed"

    closed_at: AwareDatetime = Field(description="When input closed.")
    points: int = Field(ge=0, description="How many advice and input points were recorded.")


class ConsultationAnswered(ConsultationEvent):
    """The municipality answered every point of a consultation."""

    name: ClassVar[str] = "consultation-answered"

    answered_at: AwareDatetime = Field(description="When the answers were published.")
    adopted: int = Field(ge=0, description="Points adopted.")
    partly_adopted: int = Field(ge=0, description="Points partly adopted.")
    not_adopted: int = Field(ge=0, description="Points not adopted, each with a reason.")
    contributor_ids: list[PseudonymousId] = Field(
        default_factory=list,
        description="Pseudonymous ids of the residents who gave input, each once, so they can "
        "be told what was done with it; empty in events published before this field existed.",
    )


class AgendaItemEvent(EventData):
    producer: ClassVar[str] = "advisory"
    aggregate_field: ClassVar[str] = "agenda_item_id"

    agenda_item_id: str = Field(description="Id of the agenda item; the Kafka key.")
    council_id: str = Field(description="The (youth) council that proposed it.")


class AgendaItemProposed(AgendaItemEvent):
    """A youth council proposed a topic for the municipal council's agenda."""

    name: ClassVar[str] = "agenda-item-proposed"

    title: str = Field(description="The topic.")
    proposed_by: PseudonymousId


class AgendaItemScheduled(AgendaItemEvent):
    """A proposed topic was put on the agenda of a municipal council meeting."""

    name: ClassVar[str] = "agenda-item-scheduled"

    title: str = Field(description="The topic.")
    meeting_date: date = Field(description="Date of the municipal council meeting.")
    body: str = Field(description="The body whose agenda it is on, e.g. 'gemeenteraad'.")


class AgendaItemConcluded(AgendaItemEvent):
    """What came of a proposed topic, reported back to the council."""

    name: ClassVar[str] = "agenda-item-concluded"

    title: str = Field(description="The topic.")
    outcome: AgendaOutcome = Field(description="Adopted, rejected, noted or not scheduled.")
    summary: str = Field(description="What was decided and why.")


class MeetingEvent(EventData):
    producer: ClassVar[str] = "advisory"
    aggregate_field: ClassVar[str] = "meeting_id"

    meeting_id: str = Field(description="Id of the meeting; the Kafka key.")
    council_id: str = Field(description="The council that meets.")


class MeetingScheduled(MeetingEvent):
    """A council meeting (with the municipality or not) was planned, with its agenda."""

    name: ClassVar[str] = "meeting-scheduled"

    starts_at: AwareDatetime = Field(description="When the meeting starts.")
    with_municipality: bool = Field(description="Whether the municipality takes part.")
    agenda: list[str] = Field(default_factory=list, description="Titles of the agenda points.")


class MeetingMinutesPublished(MeetingEvent):
    """The minutes of a council meeting were published."""

    name: ClassVar[str] = "meeting-minutes-published"

    published_at: AwareDatetime = Field(description="When the minutes were published.")


EVENTS: tuple[type[EventData], ...] = (
    CouncilMemberAppointed,
    CouncilMemberLeft,
    AdviceRequested,
    AdviceGiven,
    AdviceOverdue,
    AdviceRoundCompleted,
    AdviceDeadlineApproaching,
    AdviceDeadlineExtended,
    AdviceRoundUnrouted,
    ConsultationOpened,
    ConsultationClosed,
    ConsultationAnswered,
    AgendaItemProposed,
    AgendaItemScheduled,
    AgendaItemConcluded,
    MeetingScheduled,
    MeetingMinutesPublished,
)
