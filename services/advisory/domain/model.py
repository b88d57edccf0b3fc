"""Advisory councils and advice rounds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from services.advisory.domain.exceptions import AlreadyAdvised, NotAMember


class CouncilKind(StrEnum):
    NEIGHBOURHOOD_COUNCIL = "neighbourhood_council"
    YOUTH_COUNCIL = "youth_council"
    BROAD_ADVISORY_COMMITTEE = "broad_advisory_committee"


class MemberRole(StrEnum):
    CHAIR = "chair"
    SECRETARY = "secretary"
    MEMBER = "member"


class Position(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    CONDITIONAL = "conditional"


class Member(BaseModel):
    person_id: str
    role: MemberRole


class Council(BaseModel):
    id: str
    municipality: str
    name: str
    kind: CouncilKind
    neighbourhoods: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    advice_days: int = Field(ge=1)
    working_days: bool = True
    members: list[Member] = Field(default_factory=list)

    def covers(self, neighbourhood: str, theme: str) -> bool:
        """Whether the council advises on an initiative in this neighbourhood and theme."""
        if self.kind is CouncilKind.NEIGHBOURHOOD_COUNCIL:
            return neighbourhood in self.neighbourhoods
        if self.kind is CouncilKind.YOUTH_COUNCIL:
            return theme in self.themes
        return False

    def appoint(self, person_id: str, role: MemberRole) -> bool:
        """Appoint or change a member's role; False when nothing changed."""
        for member in self.members:
            if member.person_id == person_id:
                if member.role is role:
                    return False
                member.role = role
                return True
        self.members.append(Member(person_id=person_id, role=role))
        return True

    def dismiss(self, person_id: str) -> bool:
        before = len(self.members)
        self.members = [m for m in self.members if m.person_id != person_id]
        return len(self.members) < before

    def is_member(self, person_id: str) -> bool:
        return any(m.person_id == person_id for m in self.members)


class RequestStatus(StrEnum):
    OPEN = "open"
    ADVISED = "advised"


class Advice(BaseModel):
    position: Position
    motivation: str
    conditions: list[str] = Field(default_factory=list)
    given_by: str
    given_at: datetime


class AdviceRequest(BaseModel):
    id: str
    council_id: str
    council_kind: CouncilKind
    deadline: datetime
    status: RequestStatus = RequestStatus.OPEN
    advice: Advice | None = None


class RoundStatus(StrEnum):
    OPEN = "open"
    UNROUTED = "unrouted"
    COMPLETED = "completed"


class AdviceRound(BaseModel):
    """One subject (an initiative) put to one or more councils."""

    id: str
    municipality: str
    subject_kind: str
    subject_id: str
    title: str
    status: RoundStatus
    requests: list[AdviceRequest] = Field(default_factory=list)
    completed_at: datetime | None = None

    def request(self, request_id: str) -> AdviceRequest | None:
        return next((r for r in self.requests if r.id == request_id), None)

    def give_advice(self, request_id: str, council: Council, advice: Advice) -> bool:
        """Record a council's advice; True when this completes the round."""
        request = self.request(request_id)
        if request is None or request.council_id != council.id:
            raise NotAMember(f"request {request_id} is not for council {council.id}")
        if not council.is_member(advice.given_by):
            raise NotAMember(f"{advice.given_by} is not a member of council {council.name}")
        if request.status is RequestStatus.ADVISED or self.status is RoundStatus.COMPLETED:
            raise AlreadyAdvised(f"council {council.name} has already advised on this")
        request.advice = advice
        request.status = RequestStatus.ADVISED
        if all(r.status is RequestStatus.ADVISED for r in self.requests):
            self.status = RoundStatus.COMPLETED
            self.completed_at = advice.given_at
            return True
        return False
