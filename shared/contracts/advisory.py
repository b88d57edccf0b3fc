"""Events the advisory service publishes on ``advisory.events.v1``."""

from __future__ import annotations

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


class CouncilMemberLeft(CouncilEvent):
    """A person left an advisory council."""

    name: ClassVar[str] = "council-member-left"

    member_id: PseudonymousId


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


class AdviceOverdue(AdviceRoundEvent):
    """A council's advice deadline passed without advice."""

    name: ClassVar[str] = "advice-overdue"

    request_id: str = Field(description="The advice request that is overdue.")
    council_id: str = Field(description="The council that has not advised.")
    deadline: AwareDatetime = Field(description="The deadline that passed.")


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


EVENTS: tuple[type[EventData], ...] = (
    CouncilMemberAppointed,
    CouncilMemberLeft,
    AdviceRequested,
    AdviceGiven,
    AdviceOverdue,
    AdviceRoundCompleted,
)
