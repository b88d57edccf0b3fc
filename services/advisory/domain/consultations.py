"""Policy consultations: a policy document put to councils and residents, and the answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from services.advisory.domain.exceptions import NotAllowed
from services.advisory.domain.model import Advice, Position


class ConsultationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ANSWERED = "answered"


class PointOrigin(StrEnum):
    COUNCIL = "council"
    RESIDENT = "resident"


class AnswerOutcome(StrEnum):
    ADOPTED = "adopted"
    PARTLY_ADOPTED = "partly_adopted"
    NOT_ADOPTED = "not_adopted"


class Answer(BaseModel):
    outcome: AnswerOutcome
    reason: str
    answered_by: str
    answered_at: datetime


class Point(BaseModel):
    """One thing a council or resident said, which the municipality answers."""

    id: str
    origin: PointOrigin
    council_id: str | None = None
    contributor: str
    kind: str = "input"  # advice, condition, minority, input
    position: Position | None = None
    text: str
    submitted_at: datetime
    answer: Answer | None = None


class Consultation(BaseModel):
    id: str
    municipality: str
    title: str
    summary: str
    link: str
    themes: list[str] = Field(default_factory=list)
    areas: list[str] = Field(default_factory=list)
    council_ids: list[str] = Field(default_factory=list)
    open_to_residents: bool = False
    status: ConsultationStatus = ConsultationStatus.OPEN
    opened_by: str
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None = None
    answered_at: datetime | None = None
    advice_round_id: str | None = None
    points: list[Point] = Field(default_factory=list)

    def point(self, point_id: str) -> Point | None:
        return next((p for p in self.points if p.id == point_id), None)

    def add_input(self, point: Point) -> None:
        """A resident's input: only while open, and only when residents were invited."""
        if not self.open_to_residents:
            raise NotAllowed("this consultation asks the advisory councils only")
        if self.status is not ConsultationStatus.OPEN or point.submitted_at > self.closes_at:
            raise NotAllowed(f"input on this consultation closed at {self.closes_at.isoformat()}")
        self.points.append(point)

    def add_council_advice(self, council_id: str, advice: Advice, new_id: list[str]) -> None:
        """A council's advice becomes points to answer: the advice itself, each condition and
        each minority position. ``new_id`` supplies the ids, one per point."""
        ids = iter(new_id)

        def point(kind: str, text: str, position: Position | None) -> Point:
            return Point(
                id=next(ids),
                origin=PointOrigin.COUNCIL,
                council_id=council_id,
                contributor=council_id,
                kind=kind,
                position=position,
                text=text,
                submitted_at=advice.given_at,
            )

        self.points.append(point("advice", advice.motivation, advice.position))
        self.points += [point("condition", c, None) for c in advice.conditions]
        self.points += [
            point("minority", m.motivation, m.position) for m in advice.minority_positions
        ]

    def close(self, at: datetime) -> None:
        if self.status is not ConsultationStatus.OPEN:
            raise NotAllowed(f"the consultation is already {self.status}")
        self.status = ConsultationStatus.CLOSED
        self.closed_at = at

    def answer(self, point_id: str, answer: Answer) -> Point:
        point = self.point(point_id)
        if point is None:
            raise NotAllowed(f"no point {point_id} in this consultation")
        if self.status is ConsultationStatus.ANSWERED:
            raise NotAllowed("the answers to this consultation are published already")
        point.answer = answer
        return point

    def publish_answers(self, at: datetime) -> None:
        """Every point answered, after input closed: the answers are published."""
        if self.status is not ConsultationStatus.CLOSED:
            raise NotAllowed(f"the consultation is {self.status}; close it first")
        unanswered = [p.id for p in self.points if p.answer is None]
        if unanswered:
            raise NotAllowed(f"points without an answer: {', '.join(unanswered)}")
        self.status = ConsultationStatus.ANSWERED
        self.answered_at = at

    def contributors(self) -> list[str]:
        """The residents who gave input, each once, in the order they first did.

        Councils are not among them: their members are known from the councils asked.
        """
        residents = (p.contributor for p in self.points if p.origin is PointOrigin.RESIDENT)
        return list(dict.fromkeys(residents))

    def count(self, outcome: AnswerOutcome) -> int:
        return sum(1 for p in self.points if p.answer and p.answer.outcome is outcome)
