"""Youth agenda items (Youth Manifesto) and council meetings."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from services.advisory.domain.exceptions import NotAllowed
from services.advisory.domain.model import Position

MEETINGS_WITH_MUNICIPALITY_PER_YEAR = 4


class AgendaStatus(StrEnum):
    PROPOSED = "proposed"
    SCHEDULED = "scheduled"
    CONCLUDED = "concluded"


class AgendaOutcome(StrEnum):
    ADOPTED = "adopted"
    REJECTED = "rejected"
    NOTED = "noted"
    NOT_SCHEDULED = "not_scheduled"


class AgendaItem(BaseModel):
    """A topic a youth council puts forward for the municipal council's (gemeenteraad) agenda."""

    id: str
    municipality: str
    council_id: str
    title: str
    description: str = ""
    proposed_by: str
    proposed_at: datetime
    status: AgendaStatus = AgendaStatus.PROPOSED
    meeting_date: date | None = None
    body: str | None = None
    scheduled_at: datetime | None = None
    outcome: AgendaOutcome | None = None
    summary: str | None = None
    concluded_at: datetime | None = None

    def schedule(self, meeting_date: date, body: str, at: datetime) -> None:
        if self.status is AgendaStatus.CONCLUDED:
            raise NotAllowed("this agenda item is concluded already")
        self.status = AgendaStatus.SCHEDULED
        self.meeting_date, self.body, self.scheduled_at = meeting_date, body, at

    def conclude(self, outcome: AgendaOutcome, summary: str, at: datetime) -> None:
        if self.status is AgendaStatus.CONCLUDED:
            raise NotAllowed("this agenda item is concluded already")
        if outcome is not AgendaOutcome.NOT_SCHEDULED and self.status is not AgendaStatus.SCHEDULED:
            raise NotAllowed("only a scheduled item can be adopted, rejected or noted")
        self.status = AgendaStatus.CONCLUDED
        self.outcome, self.summary, self.concluded_at = outcome, summary, at


class MeetingAgendaPoint(BaseModel):
    title: str
    round_id: str | None = None
    request_id: str | None = None
    consultation_id: str | None = None


class AdviceAtMeeting(BaseModel):
    round_id: str
    request_id: str
    title: str
    position: Position


class Meeting(BaseModel):
    id: str
    municipality: str
    council_id: str
    starts_at: datetime
    location: str = ""
    with_municipality: bool = True
    agenda: list[MeetingAgendaPoint] = Field(default_factory=list)
    minutes: str | None = None
    minutes_published_at: datetime | None = None
    advice: list[AdviceAtMeeting] = Field(default_factory=list)

    def publish_minutes(self, minutes: str, at: datetime) -> None:
        if at < self.starts_at:
            raise NotAllowed("minutes can only be published after the meeting started")
        self.minutes, self.minutes_published_at = minutes, at

    def held(self, now: datetime) -> bool:
        return self.minutes_published_at is not None or self.starts_at <= now
