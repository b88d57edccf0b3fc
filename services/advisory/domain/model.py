"""Advisory councils and advice rounds."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from services.advisory.domain.deadlines import local_date
from services.advisory.domain.exceptions import (
    AlreadyAdvised,
    NoDecision,
    NotAllowed,
    NotAMember,
    RequestClosed,
)


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


class AdoptionRule(StrEnum):
    """How a council adopts its advice."""

    RECORDED = "recorded"  # adopted in its own meeting; the chair or secretary records it
    VOTE = "vote"  # members vote through the service; quorum and majority decide


def district_of(neighbourhood: str) -> str:
    """The CBS district (wijk) of a neighbourhood (buurt): BU03620104 lies in WK036201."""
    return "WK" + neighbourhood[2:8]


class Member(BaseModel):
    person_id: str
    role: MemberRole
    term_start: date | None = None
    term_end: date | None = None

    def serving(self, on: date) -> bool:
        """Whether the member's term runs on ``on`` (the last day of a term still counts)."""
        started = self.term_start is None or self.term_start <= on
        return started and (self.term_end is None or on <= self.term_end)


class Council(BaseModel):
    id: str
    municipality: str
    name: str
    kind: CouncilKind
    neighbourhoods: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    advice_days: int = Field(ge=1)
    working_days: bool = True
    adoption: AdoptionRule = AdoptionRule.RECORDED
    quorum_percent: int = Field(default=50, ge=1, le=100)
    reminder_days: list[int] = Field(default_factory=lambda: [3, 1])
    members: list[Member] = Field(default_factory=list)

    def covers_area(self, neighbourhood: str) -> bool:
        return neighbourhood in self.neighbourhoods or district_of(neighbourhood) in self.districts

    def covers(self, neighbourhood: str, theme: str) -> bool:
        """Whether the council advises on an initiative in this neighbourhood and theme.

        The default routing, for municipalities that have no routing rules of their own.
        """
        if self.kind is CouncilKind.NEIGHBOURHOOD_COUNCIL:
            return self.covers_area(neighbourhood)
        if self.kind is CouncilKind.YOUTH_COUNCIL:
            return theme in self.themes
        return False

    def appoint(
        self,
        person_id: str,
        role: MemberRole,
        term_start: date | None = None,
        term_end: date | None = None,
    ) -> bool:
        """Appoint, or change a member's role or term; False when nothing changed."""
        appointed = Member(person_id=person_id, role=role, term_start=term_start, term_end=term_end)
        for index, member in enumerate(self.members):
            if member.person_id == person_id:
                if member == appointed:
                    return False
                self.members[index] = appointed
                return True
        self.members.append(appointed)
        return True

    def dismiss(self, person_id: str) -> bool:
        before = len(self.members)
        self.members = [m for m in self.members if m.person_id != person_id]
        return len(self.members) < before

    def member(self, person_id: str) -> Member | None:
        return next((m for m in self.members if m.person_id == person_id), None)

    def is_member(self, person_id: str) -> bool:
        return self.member(person_id) is not None

    def serving_members(self, on: date) -> list[Member]:
        return [m for m in self.members if m.serving(on)]

    def require_serving(self, person_id: str, on: date) -> Member:
        member = self.member(person_id)
        if member is None:
            raise NotAMember(f"{person_id} is not a member of council {self.name}")
        if not member.serving(on):
            raise NotAMember(f"the term of {person_id} in council {self.name} is not running")
        return member

    def require_officer(self, person_id: str, on: date) -> Member:
        """The chair or secretary, who speak for the council (record advice, close votes)."""
        member = self.require_serving(person_id, on)
        if member.role is MemberRole.MEMBER:
            raise NotAMember(f"only the chair or secretary of {self.name} may do this")
        return member

    def escalation_contacts(self, on: date) -> list[str]:
        """Who hears of a missed deadline: the serving chair and secretary."""
        return [m.person_id for m in self.serving_members(on) if m.role is not MemberRole.MEMBER]


class RequestStatus(StrEnum):
    OPEN = "open"
    ADVISED = "advised"
    OVERDUE = "overdue"  # a required council missed its deadline: escalated
    LAPSED = "lapsed"  # a council that may advise let its deadline pass
    CLOSED = "closed"  # the round was closed before this council advised


class MinorityPosition(BaseModel):
    position: Position
    motivation: str
    supporters: int | None = None


class Advice(BaseModel):
    position: Position
    motivation: str
    conditions: list[str] = Field(default_factory=list)
    given_by: str
    given_at: datetime
    adopted_by: AdoptionRule = AdoptionRule.RECORDED
    votes_for: int | None = None
    votes_cast: int | None = None
    minority_positions: list[MinorityPosition] = Field(default_factory=list)
    meeting_id: str | None = None


class Vote(BaseModel):
    member_id: str
    position: Position
    motivation: str
    conditions: list[str] = Field(default_factory=list)
    cast_at: datetime


class Extension(BaseModel):
    previous_deadline: datetime
    deadline: datetime
    reason: str
    extended_by: str
    extended_at: datetime


class AdviceRequest(BaseModel):
    id: str
    council_id: str
    council_kind: CouncilKind
    deadline: datetime
    required: bool = True
    status: RequestStatus = RequestStatus.OPEN
    advice: Advice | None = None
    votes: list[Vote] = Field(default_factory=list)
    reminder_days: list[int] = Field(default_factory=list)
    reminders_sent: list[int] = Field(default_factory=list)
    overdue_at: datetime | None = None
    extensions: list[Extension] = Field(default_factory=list)

    @property
    def settled(self) -> bool:
        """Nothing more is waited for from this council."""
        return self.status in (RequestStatus.ADVISED, RequestStatus.LAPSED, RequestStatus.CLOSED)


class RoundStatus(StrEnum):
    OPEN = "open"
    UNROUTED = "unrouted"
    COMPLETED = "completed"


class SubjectFacts(BaseModel):
    """What routing looks at: where, about what, what kind and how much."""

    neighbourhood: str | None = None
    theme: str | None = None
    initiative_type: str | None = None
    amount_cents: int | None = None


def tally(
    votes: list[Vote], serving: set[str], quorum_percent: int
) -> tuple[list[tuple[Position, int]], bool]:
    """Votes per position of serving members (most first), and whether the quorum is met."""
    counted = [v for v in votes if v.member_id in serving]
    quorum = len(counted) * 100 >= quorum_percent * len(serving) and bool(counted)
    return Counter(v.position for v in counted).most_common(), quorum


class AdviceRound(BaseModel):
    """One subject (an initiative or a policy document) put to one or more councils."""

    id: str
    municipality: str
    subject_kind: str
    subject_id: str
    title: str
    status: RoundStatus
    facts: SubjectFacts | None = None
    requests: list[AdviceRequest] = Field(default_factory=list)
    completed_at: datetime | None = None
    closed_by: str | None = None
    closing_reason: str | None = None

    def request(self, request_id: str) -> AdviceRequest | None:
        return next((r for r in self.requests if r.id == request_id), None)

    def _open_request(self, request_id: str, council: Council) -> AdviceRequest:
        request = self.request(request_id)
        if request is None or request.council_id != council.id:
            raise NotAMember(f"request {request_id} is not for council {council.id}")
        if request.status is RequestStatus.ADVISED:
            raise AlreadyAdvised(f"council {council.name} has already advised on this")
        if self.status is RoundStatus.COMPLETED or request.settled:
            raise RequestClosed(
                f"the advice request to {council.name} is {request.status}: "
                "the round no longer takes advice"
            )
        return request

    def _complete_if_settled(self, at: datetime) -> bool:
        if self.status is RoundStatus.OPEN and all(r.settled for r in self.requests):
            self.status = RoundStatus.COMPLETED
            self.completed_at = at
            return True
        return False

    def give_advice(self, request_id: str, council: Council, advice: Advice) -> bool:
        """The chair or secretary records the advice the council adopted; True when this
        completes the round. Late advice (after escalation) is still taken while the round
        is open."""
        request = self._open_request(request_id, council)
        council.require_officer(advice.given_by, local_date(advice.given_at))
        if council.adoption is AdoptionRule.VOTE:
            raise NotAllowed(f"council {council.name} adopts its advice by a vote of its members")
        request.advice = advice
        request.status = RequestStatus.ADVISED
        return self._complete_if_settled(advice.given_at)

    def cast_vote(self, request_id: str, council: Council, vote: Vote) -> Advice | None:
        """A serving member votes (again, replacing their vote); the advice, once adopted.

        The advice is adopted as soon as the quorum is met and the votes still to come
        cannot change the outcome.
        """
        request = self._open_request(request_id, council)
        if council.adoption is not AdoptionRule.VOTE:
            raise NotAllowed(f"council {council.name} records its adopted advice; it has no vote")
        council.require_serving(vote.member_id, local_date(vote.cast_at))
        request.votes = [v for v in request.votes if v.member_id != vote.member_id] + [vote]
        serving = {m.person_id for m in council.serving_members(local_date(vote.cast_at))}
        counts, quorum = tally(request.votes, serving, council.quorum_percent)
        outstanding = len(serving - {v.member_id for v in request.votes})
        runner_up = counts[1][1] if len(counts) > 1 else 0
        if quorum and counts[0][1] > runner_up + outstanding:
            return self._adopt(request, counts[0][0], vote.member_id, vote.cast_at, serving)
        return None

    def close_vote(
        self,
        request_id: str,
        council: Council,
        *,
        closed_by: str,
        at: datetime,
        meeting_id: str | None = None,
    ) -> Advice:
        """The chair or secretary ends the vote: the largest position wins if the quorum is
        met; a tie is broken by the chair's vote."""
        request = self._open_request(request_id, council)
        council.require_officer(closed_by, local_date(at))
        serving = {m.person_id for m in council.serving_members(local_date(at))}
        counts, quorum = tally(request.votes, serving, council.quorum_percent)
        if not quorum:
            raise NoDecision(
                f"the quorum of {council.quorum_percent}% of {len(serving)} serving members "
                "has not voted"
            )
        tied = [position for position, n in counts if n == counts[0][1]]
        winner = tied[0]
        if len(tied) > 1:
            chair = next(
                (
                    m.person_id
                    for m in council.serving_members(local_date(at))
                    if m.role is MemberRole.CHAIR
                ),
                None,
            )
            chair_vote = next((v for v in request.votes if v.member_id == chair), None)
            if chair_vote is None or chair_vote.position not in tied:
                raise NoDecision("the vote is tied and the chair's vote does not break the tie")
            winner = chair_vote.position
        return self._adopt(request, winner, closed_by, at, serving, meeting_id)

    def _adopt(
        self,
        request: AdviceRequest,
        position: Position,
        by: str,
        at: datetime,
        serving: set[str],
        meeting_id: str | None = None,
    ) -> Advice:
        votes = [v for v in request.votes if v.member_id in serving]
        majority = [v for v in votes if v.position is position]
        minorities: dict[Position, list[Vote]] = {}
        for vote in votes:
            if vote.position is not position:
                minorities.setdefault(vote.position, []).append(vote)
        request.advice = Advice(
            position=position,
            motivation="\n".join(v.motivation for v in majority),
            conditions=list(dict.fromkeys(c for v in majority for c in v.conditions)),
            given_by=by,
            given_at=at,
            adopted_by=AdoptionRule.VOTE,
            votes_for=len(majority),
            votes_cast=len(votes),
            minority_positions=[
                MinorityPosition(
                    position=minority,
                    motivation="\n".join(v.motivation for v in held),
                    supporters=len(held),
                )
                for minority, held in minorities.items()
            ],
            meeting_id=meeting_id,
        )
        request.status = RequestStatus.ADVISED
        return request.advice

    def complete_if_settled(self, at: datetime) -> bool:
        return self._complete_if_settled(at)

    def pass_deadline(self, request_id: str, at: datetime) -> RequestStatus | None:
        """The deadline of an open request passed: a required council is overdue, a council
        that only may advise has let it lapse. None when nothing changed."""
        request = self.request(request_id)
        if request is None or request.status is not RequestStatus.OPEN:
            return None
        request.status = RequestStatus.OVERDUE if request.required else RequestStatus.LAPSED
        request.overdue_at = at
        return request.status

    def extend(self, request_id: str, extension: Extension) -> AdviceRequest:
        """Give a council more time; an overdue request opens again."""
        request = self.request(request_id)
        if request is None:
            raise NotAllowed(f"no advice request {request_id} in round {self.id}")
        if self.status is not RoundStatus.OPEN or request.status not in (
            RequestStatus.OPEN,
            RequestStatus.OVERDUE,
            RequestStatus.LAPSED,
        ):
            raise RequestClosed(f"the advice request is {request.status}; it cannot be extended")
        if extension.deadline <= request.deadline or extension.deadline <= extension.extended_at:
            raise NotAllowed("an extension must move the deadline later, and into the future")
        request.extensions.append(extension)
        request.deadline = extension.deadline
        request.status = RequestStatus.OPEN
        request.overdue_at = None
        request.reminders_sent = []
        return request

    def close(self, *, closed_by: str, reason: str, at: datetime) -> None:
        """A civil servant closes the round after escalation: every council that has not
        advised must have missed its deadline."""
        if self.status is not RoundStatus.OPEN:
            raise RequestClosed(f"the round is {self.status}; only an open round can be closed")
        waiting = [r for r in self.requests if r.status is RequestStatus.OPEN]
        if waiting:
            raise NotAllowed(
                "councils still within their deadline: "
                + ", ".join(f"{r.council_id} (until {r.deadline.isoformat()})" for r in waiting)
            )
        for request in self.requests:
            if request.status is RequestStatus.OVERDUE:
                request.status = RequestStatus.CLOSED
        self.status = RoundStatus.COMPLETED
        self.completed_at = at
        self.closed_by = closed_by
        self.closing_reason = reason
