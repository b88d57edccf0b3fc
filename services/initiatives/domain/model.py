"""The initiative aggregate and the rules of its lifecycle.

The lifecycle follows the eight steps of "Burgers aan het stuur": what is going on (problem),
what must improve (desired improvement), an action plan (milestones and a costed budget),
measurable results (indicators with targets), carry it out (progress updates), measure the
results, account for money and results, and set new goals (a follow-up that links back).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.initiatives.domain import events
from services.initiatives.domain.deadlines import deadline_after
from services.initiatives.domain.exceptions import (
    InvalidTransition,
    NotAllowedForCaller,
    RuleViolation,
    SupportConflict,
)

PROGRESS_PERCENTAGES = (33, 66)


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    COLLECTING_SUPPORT = "collecting_support"
    IN_REVIEW = "in_review"
    READY_FOR_DECISION = "ready_for_decision"
    APPROVED = "approved"
    REJECTED = "rejected"
    FUNDED = "funded"
    AWAITING_FUNDS = "awaiting_funds"
    IN_PROGRESS = "in_progress"
    RESULTS_REPORTED = "results_reported"
    ACCOUNTED = "accounted"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Action(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    SUPPORT = "support"
    WITHDRAW_SUPPORT = "withdraw_support"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    COMPLETE_ADVICE = "complete_advice"
    DECIDE = "decide"
    RECORD_FUNDING = "record_funding"
    START = "start"
    UPDATE_PROGRESS = "update_progress"
    REPORT_RESULTS = "report_results"
    ACCOUNT = "account"
    CLOSE = "close"
    FOLLOW_UP = "follow_up"


S = Status
SUPPORTABLE = frozenset({S.COLLECTING_SUPPORT, S.IN_REVIEW, S.READY_FOR_DECISION})
WITHDRAWABLE = frozenset(
    {
        S.DRAFT,
        S.SUBMITTED,
        S.COLLECTING_SUPPORT,
        S.IN_REVIEW,
        S.READY_FOR_DECISION,
        S.AWAITING_FUNDS,
    }
)
# Which action may be taken in which state: the state machine's single source.
ALLOWED: dict[Action, frozenset[Status]] = {
    Action.EDIT: frozenset({S.DRAFT}),
    Action.SUBMIT: frozenset({S.DRAFT}),
    Action.SUPPORT: SUPPORTABLE,
    Action.WITHDRAW_SUPPORT: SUPPORTABLE,
    Action.WITHDRAW: WITHDRAWABLE,
    Action.EXPIRE: frozenset({S.COLLECTING_SUPPORT}),
    Action.COMPLETE_ADVICE: frozenset({S.IN_REVIEW}),
    Action.DECIDE: frozenset({S.READY_FOR_DECISION}),
    Action.RECORD_FUNDING: frozenset({S.APPROVED, S.AWAITING_FUNDS}),
    Action.START: frozenset({S.FUNDED}),
    Action.UPDATE_PROGRESS: frozenset({S.IN_PROGRESS}),
    Action.REPORT_RESULTS: frozenset({S.IN_PROGRESS}),
    Action.ACCOUNT: frozenset({S.RESULTS_REPORTED}),
    Action.CLOSE: frozenset({S.ACCOUNTED, S.REJECTED}),
    Action.FOLLOW_UP: frozenset({S.CLOSED}),
}
# Every state change the lifecycle knows; history entries of kind "transition" follow these.
TRANSITIONS: frozenset[tuple[Status | None, Status]] = frozenset(
    {
        (None, S.DRAFT),
        (None, S.SUBMITTED),
        (S.DRAFT, S.SUBMITTED),
        (S.SUBMITTED, S.COLLECTING_SUPPORT),
        (S.SUBMITTED, S.IN_REVIEW),
        (S.COLLECTING_SUPPORT, S.IN_REVIEW),
        (S.COLLECTING_SUPPORT, S.EXPIRED),
        (S.IN_REVIEW, S.READY_FOR_DECISION),
        (S.READY_FOR_DECISION, S.APPROVED),
        (S.READY_FOR_DECISION, S.REJECTED),
        (S.APPROVED, S.FUNDED),
        (S.APPROVED, S.AWAITING_FUNDS),
        (S.AWAITING_FUNDS, S.FUNDED),
        (S.AWAITING_FUNDS, S.AWAITING_FUNDS),
        (S.FUNDED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.RESULTS_REPORTED),
        (S.RESULTS_REPORTED, S.ACCOUNTED),
        (S.ACCOUNTED, S.CLOSED),
        (S.REJECTED, S.CLOSED),
        *((state, S.WITHDRAWN) for state in WITHDRAWABLE),
    }
)
FINAL = frozenset({S.CLOSED, S.WITHDRAWN, S.EXPIRED})


def allowed_actions(status: Status) -> list[str]:
    return [action.value for action, states in ALLOWED.items() if status in states]


class FundingSource(StrEnum):
    NEIGHBOURHOOD_BUDGET = "neighbourhood_budget"
    INITIATIVES_FUND = "initiatives_fund"


class InitiativeType(BaseModel):
    """A municipality's kind of initiative and the rules that come with it."""

    municipality: str
    code: str
    name: str
    support_threshold: int = Field(ge=0)
    support_window_days: int = Field(default=42, ge=1)
    min_co_initiators: int = Field(default=0, ge=0)
    max_amount_cents: int = Field(ge=0)
    funding_source: FundingSource
    decision_deadline_days: int = Field(default=56, ge=1)
    working_days: bool = False


class Milestone(BaseModel):
    """A step of the action plan with its due date (Europe/Amsterdam)."""

    id: str
    description: str
    due_date: date
    done_at: datetime | None = None
    overdue_since: datetime | None = None


class CostLine(BaseModel):
    """One line of the costed budget."""

    description: str
    amount_cents: int = Field(ge=0)


class Indicator(BaseModel):
    """A measurable result with its target; ``measured`` is filled in when results come."""

    id: str
    description: str
    target: float
    unit: str = ""
    measured: float | None = None


class Advice(BaseModel):
    """One advisory council's advice on the initiative."""

    council_id: str
    position: str | None = None
    motivation: str = ""
    conditions: list[str] = Field(default_factory=list)


class ProgressUpdate(BaseModel):
    at: datetime
    by: str
    text: str
    milestone_id: str | None = None


class Account(BaseModel):
    """The initiators' account of money and results (verantwoording)."""

    at: datetime
    by: str
    spent_cents: int = Field(ge=0)
    text: str


class HistoryEntry(BaseModel):
    """One line of the public timeline: what happened, who did it, why."""

    at: datetime
    status: Status
    note: str = ""
    kind: str = "transition"
    actor: str | None = None


class Initiative(BaseModel):
    # Plan parts arrive as plain dicts from commands; assignment validates them.
    model_config = ConfigDict(validate_assignment=True)

    id: str
    municipality: str
    initiative_type: str
    title: str
    description: str
    neighbourhood: str
    theme: str
    requested_amount_cents: int
    funding_source: FundingSource
    initiator_id: str
    status: Status
    co_initiators: list[str] = Field(default_factory=list)
    problem: str = ""
    desired_improvement: str = ""
    milestones: list[Milestone] = Field(default_factory=list)
    cost_lines: list[CostLine] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    support_threshold: int = 0
    decision_deadline_days: int = 56
    working_days: bool = False
    support_count: int = 0
    progress_reached: list[int] = Field(default_factory=list)
    submitted_at: datetime | None = None
    support_deadline: datetime | None = None
    decision_deadline: datetime | None = None
    decision_reasons: str | None = None
    decision_conditions: list[str] = Field(default_factory=list)
    advice_responses: dict[str, str] = Field(default_factory=dict)
    decided_by: str | None = None
    decided_at: datetime | None = None
    advice_positions: list[str] = Field(default_factory=list)
    advice: list[Advice] = Field(default_factory=list)
    progress_updates: list[ProgressUpdate] = Field(default_factory=list)
    results_summary: str = ""
    account: Account | None = None
    disbursed_cents: int = 0
    booked_spending_cents: int = 0
    predecessor_id: str | None = None
    successor_ids: list[str] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    # The supporters known here: all of them in memory, only those a command is about when
    # loaded from storage; ``support_count`` is the count either way.
    supporters: set[str] = Field(default_factory=set, exclude=True)
    pending_events: list[events.DomainEvent] = Field(default_factory=list, exclude=True)

    @field_validator("submitted_at", "support_deadline", "decision_deadline", "decided_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value)

    # -- creation ---------------------------------------------------------------------------

    @classmethod
    def draft(
        cls,
        *,
        initiative_id: str,
        kind: InitiativeType,
        title: str,
        description: str,
        neighbourhood: str,
        theme: str,
        requested_amount_cents: int,
        initiator_id: str,
        now: datetime,
        predecessor: Initiative | None = None,
        **plan: object,
    ) -> Initiative:
        """A draft only its initiators see change; ``predecessor`` sets new goals after it."""
        if predecessor is not None:
            predecessor._require(Action.FOLLOW_UP)
        initiative = cls(
            id=initiative_id,
            municipality=kind.municipality,
            initiative_type=kind.code,
            title=title,
            description=description,
            neighbourhood=neighbourhood,
            theme=theme,
            requested_amount_cents=requested_amount_cents,
            funding_source=kind.funding_source,
            initiator_id=initiator_id,
            status=Status.DRAFT,
            predecessor_id=predecessor.id if predecessor else None,
        )
        initiative._apply_plan(plan)
        note = "draft created"
        if predecessor is not None:
            note = f"draft created as a follow-up of {predecessor.id} (new goals)"
            predecessor.successor_ids.append(initiative_id)
            predecessor._note(now, f"followed up by {initiative_id}", "link", initiator_id)
        initiative._record(Status.DRAFT, now, note, initiator_id)
        return initiative

    @classmethod
    def submit(cls, *, kind: InitiativeType, now: datetime, **fields: object) -> Initiative:
        """Create and submit in one go (what a web form or a municipal system does)."""
        initiator = str(fields["initiator_id"])
        initiative = cls.draft(kind=kind, now=now, **fields)  # type: ignore[arg-type]
        initiative.submit_draft(kind=kind, by=initiator, now=now, fresh=True)
        return initiative

    def _apply_plan(self, plan: dict[str, object]) -> None:
        for name, value in plan.items():
            if name not in {
                "problem",
                "desired_improvement",
                "milestones",
                "cost_lines",
                "indicators",
                "co_initiators",
                "title",
                "description",
                "neighbourhood",
                "theme",
                "requested_amount_cents",
            }:
                raise RuleViolation(f"'{name}' cannot be set on an initiative")
            if value is not None:
                setattr(self, name, value)
        if self.cost_lines:
            self.requested_amount_cents = sum(line.amount_cents for line in self.cost_lines)
        _unique("milestone", (m.id for m in self.milestones))
        _unique("indicator", (i.id for i in self.indicators))
        if self.initiator_id in self.co_initiators:
            raise RuleViolation("the initiator cannot also be a co-initiator")
        if len(set(self.co_initiators)) != len(self.co_initiators):
            raise RuleViolation("a co-initiator is listed twice")

    # -- the draft ---------------------------------------------------------------------------

    def edit_draft(self, *, by: str, changes: dict[str, object], now: datetime) -> None:
        self._require(Action.EDIT)
        self._require_initiator(by)
        self._apply_plan(changes)
        self._note(now, "draft edited: " + ", ".join(sorted(changes)), "edit", by)

    def submit_draft(
        self, *, kind: InitiativeType, by: str, now: datetime, fresh: bool = False
    ) -> None:
        self._require(Action.SUBMIT)
        self._require_initiator(by)
        if self.requested_amount_cents > kind.max_amount_cents:
            raise RuleViolation(
                f"requested amount {self.requested_amount_cents} exceeds the maximum of "
                f"{kind.max_amount_cents} cents for type '{kind.code}'"
            )
        if len(self.co_initiators) < kind.min_co_initiators:
            raise RuleViolation(
                f"type '{kind.code}' needs at least {kind.min_co_initiators} co-initiators, "
                f"the initiative has {len(self.co_initiators)}"
            )
        self.support_threshold = kind.support_threshold
        self.decision_deadline_days = kind.decision_deadline_days
        self.working_days = kind.working_days
        self.submitted_at = now
        note = "draft submitted"
        if fresh:  # created and submitted in one go: there never was a draft to speak of
            self.history = [entry for entry in self.history if entry.status is not Status.DRAFT]
            note = "submitted by the initiator"
        self._record(Status.SUBMITTED, now, note, by)
        self.pending_events.append(events.Submitted(self.id, now))
        if kind.support_threshold == 0:
            # A type that needs no support goes to review at once.
            self._to_review(now, "no support needed: advice requested")
        else:
            self.support_deadline = deadline_after(
                now, kind.support_window_days, working_days=kind.working_days
            )
            self._record(
                Status.COLLECTING_SUPPORT,
                now,
                f"collecting support: {kind.support_threshold} needed before "
                f"{self.support_deadline.isoformat()}",
            )
            self.pending_events.append(events.SupportWindowOpened(self.id, self.support_deadline))

    # -- support -----------------------------------------------------------------------------

    def support(self, supporter_id: str, *, now: datetime, channel: str = "digital") -> None:
        """A resident supports the initiative once; reaching the threshold sends it to review."""
        self._require(Action.SUPPORT)
        if supporter_id in self.supporters:
            raise SupportConflict(f"{supporter_id} already supports initiative {self.id}")
        self.supporters.add(supporter_id)
        self.support_count += 1
        self.pending_events.append(events.SupportRegistered(self.id, supporter_id, channel))
        if self.status is not Status.COLLECTING_SUPPORT:
            return
        if self.support_count >= self.support_threshold:
            self._note(now, f"support threshold of {self.support_threshold} reached", "support")
            self._to_review(now, "enough support: advice requested")
            return
        for percentage in PROGRESS_PERCENTAGES:
            reached = self.support_count * 100 >= percentage * self.support_threshold
            if reached and percentage not in self.progress_reached:
                self.progress_reached.append(percentage)
                self._note(now, f"{percentage}% of the support needed", "support")
                self.pending_events.append(events.SupportProgress(self.id, percentage))

    def withdraw_support(self, supporter_id: str, *, now: datetime) -> None:
        """Support can be withdrawn until the decision; milestones passed stay passed."""
        self._require(Action.WITHDRAW_SUPPORT)
        if supporter_id not in self.supporters:
            raise SupportConflict(f"{supporter_id} does not support initiative {self.id}")
        self.supporters.discard(supporter_id)
        self.support_count -= 1
        self.pending_events.append(events.SupportWithdrawn(self.id, supporter_id))

    def support_window_ended(self, now: datetime) -> None:
        """The support timer fired: expire if the threshold was not reached (else nothing)."""
        if self.status is not Status.COLLECTING_SUPPORT:
            return
        self._record(
            Status.EXPIRED,
            now,
            f"support window ended with {self.support_count} of {self.support_threshold} supports",
        )
        self.pending_events.append(events.Expired(self.id, self.support_deadline or now))

    def _to_review(self, now: datetime, note: str) -> None:
        self.decision_deadline = deadline_after(
            now, self.decision_deadline_days, working_days=self.working_days
        )
        self._record(Status.IN_REVIEW, now, note)
        self.pending_events.append(events.ReadyForReview(self.id, self.decision_deadline))

    # -- withdrawal ---------------------------------------------------------------------------

    def withdraw(self, *, by: str, reason: str, now: datetime) -> None:
        self._require(Action.WITHDRAW)
        self._require_initiator(by)
        if not reason.strip():
            raise RuleViolation("a withdrawal states its reason")
        previous = self.status
        self._record(Status.WITHDRAWN, now, reason, by)
        self.pending_events.append(events.Withdrawn(self.id, previous.value, reason))

    # -- advice and decision -----------------------------------------------------------------

    def record_advice_given(
        self,
        *,
        council_id: str,
        position: str,
        motivation: str,
        conditions: list[str],
        given_by: str,
        now: datetime,
    ) -> None:
        """A council advised: part of the history, whatever the state."""
        self._merge_advice(
            Advice(
                council_id=council_id,
                position=position,
                motivation=motivation,
                conditions=conditions,
            )
        )
        self._note(
            now, f"advice of council {council_id}: {position}. {motivation}", "advice", given_by
        )

    def mark_ready_for_decision(
        self,
        advice_round_id: str,
        positions: list[str],
        now: datetime,
        advice: list[Advice] | None = None,
    ) -> None:
        self._require(Action.COMPLETE_ADVICE)
        self.advice_positions = positions
        for given in advice or []:
            self._merge_advice(given)
        self._record(Status.READY_FOR_DECISION, now, "advice round completed")
        self.pending_events.append(
            events.ReadyForDecision(self.id, advice_round_id, tuple(positions))
        )

    def decision_deadline_passed(self, now: datetime) -> None:
        """The decision timer fired: say so if no decision was taken (else nothing)."""
        if self.status not in (Status.IN_REVIEW, Status.READY_FOR_DECISION):
            return
        self._note(now, "the decision deadline passed without a decision", "deadline")
        self.pending_events.append(events.DecisionOverdue(self.id, self.decision_deadline or now))

    def decide(
        self,
        *,
        approve: bool,
        reasons: str,
        conditions: list[str],
        decided_by: str,
        now: datetime,
        advice_responses: dict[str, str] | None = None,
    ) -> None:
        """Yes, unless: a rejection must give reasons that answer every advice received."""
        self._require(Action.DECIDE)
        responses = {k: v for k, v in (advice_responses or {}).items() if v.strip()}
        if not approve and not reasons.strip():
            raise RuleViolation("a rejection must state its reasons")
        if not approve and conditions:
            raise RuleViolation("conditions belong to an approval, not to a rejection")
        if not approve:
            unanswered = [
                a.council_id for a in self.advice if a.position and a.council_id not in responses
            ]
            if unanswered:
                raise RuleViolation(
                    "a rejection must answer every advice received; no answer to council(s) "
                    + ", ".join(unanswered)
                )
        self.decision_reasons = reasons
        self.decision_conditions = conditions
        self.advice_responses = responses
        self.decided_by = decided_by
        self.decided_at = now
        status = Status.APPROVED if approve else Status.REJECTED
        self._record(status, now, reasons, decided_by)
        self.pending_events.append(events.Decided(self.id, now))

    # -- money -------------------------------------------------------------------------------

    def record_funding(self, *, funded: bool, note: str, now: datetime) -> None:
        self._require(Action.RECORD_FUNDING)
        self._record(Status.FUNDED if funded else Status.AWAITING_FUNDS, now, note)

    def record_disbursement(self, amount_cents: int, note: str, now: datetime) -> None:
        self.disbursed_cents += amount_cents
        self._note(now, note, "money")

    def record_spending(self, amount_cents: int, note: str, now: datetime) -> None:
        self.booked_spending_cents += amount_cents
        self._note(now, note, "money")

    # -- carrying it out ---------------------------------------------------------------------

    def start(self, *, by: str, now: datetime) -> None:
        self._require(Action.START)
        self._require_initiator(by)
        if not self.milestones:
            raise RuleViolation("the action plan needs at least one milestone to start")
        self._record(Status.IN_PROGRESS, now, "carrying out the action plan", by)
        self.pending_events.append(
            events.Started(
                self.id, tuple((m.id, m.due_date) for m in self.milestones if m.done_at is None)
            )
        )

    def update_progress(
        self, *, by: str, text: str, now: datetime, milestone_id: str | None = None
    ) -> None:
        self._require(Action.UPDATE_PROGRESS)
        self._require_initiator(by)
        if milestone_id is not None:
            milestone = self._milestone(milestone_id)
            if milestone.done_at is not None:
                raise RuleViolation(f"milestone {milestone_id} is already done")
            milestone.done_at = now
            self.pending_events.append(events.MilestoneDone(self.id, milestone_id))
        self.progress_updates.append(
            ProgressUpdate(at=now, by=by, text=text, milestone_id=milestone_id)
        )
        done = f" (milestone {milestone_id} done)" if milestone_id else ""
        self._note(now, text + done, "progress", by)

    def milestone_due(self, milestone_id: str, now: datetime) -> None:
        """A milestone timer fired: overdue if still open while carrying out (else nothing)."""
        if self.status not in (Status.FUNDED, Status.IN_PROGRESS):
            return
        milestone = self._milestone(milestone_id)
        if milestone.done_at is not None or milestone.overdue_since is not None:
            return
        milestone.overdue_since = now
        self._note(now, f"milestone '{milestone.description}' is overdue", "deadline")
        self.pending_events.append(events.MilestoneOverdue(self.id, milestone_id))

    def report_results(
        self, *, by: str, summary: str, measured: dict[str, float], now: datetime
    ) -> None:
        """Measured results against every indicator's target."""
        self._require(Action.REPORT_RESULTS)
        self._require_initiator(by)
        known = {i.id for i in self.indicators}
        if unknown := sorted(set(measured) - known):
            raise RuleViolation(f"unknown indicator(s): {', '.join(unknown)}")
        if missing := sorted(known - set(measured)):
            raise RuleViolation(f"no measured value for indicator(s): {', '.join(missing)}")
        for indicator in self.indicators:
            indicator.measured = measured[indicator.id]
        self.results_summary = summary
        self._record(Status.RESULTS_REPORTED, now, summary, by)
        self.pending_events.append(events.ResultsReported(self.id))

    def account_for(self, *, by: str, spent_cents: int, text: str, now: datetime) -> None:
        self._require(Action.ACCOUNT)
        self._require_initiator(by)
        self.account = Account(at=now, by=by, spent_cents=spent_cents, text=text)
        self._record(
            Status.ACCOUNTED,
            now,
            f"accounted: {spent_cents} of {self.budgeted_cents} budgeted cents spent. {text}",
            by,
        )
        self.pending_events.append(events.Accounted(self.id))

    def close(self, *, by: str, reason: str, now: datetime) -> None:
        self._require(Action.CLOSE)
        if not reason.strip():
            raise RuleViolation("closing states its reason")
        self._record(Status.CLOSED, now, reason, by)
        self.pending_events.append(events.Closed(self.id, reason))

    # -- helpers -----------------------------------------------------------------------------

    @property
    def budgeted_cents(self) -> int:
        return sum(line.amount_cents for line in self.cost_lines) or self.requested_amount_cents

    @property
    def decision(self) -> str | None:
        for entry in self.history:
            if entry.kind == "transition" and entry.status in (Status.APPROVED, Status.REJECTED):
                return entry.status.value
        return None

    @property
    def initiators(self) -> set[str]:
        return {self.initiator_id, *self.co_initiators}

    def actions_allowed(self) -> list[str]:
        return allowed_actions(self.status)

    def _milestone(self, milestone_id: str) -> Milestone:
        for milestone in self.milestones:
            if milestone.id == milestone_id:
                return milestone
        raise RuleViolation(f"initiative {self.id} has no milestone {milestone_id}")

    def _merge_advice(self, given: Advice) -> None:
        self.advice = [a for a in self.advice if a.council_id != given.council_id] + [given]

    def _require(self, action: Action) -> None:
        if self.status not in ALLOWED[action]:
            wanted = " or ".join(sorted(ALLOWED[action]))
            raise InvalidTransition(
                f"cannot {action.value.replace('_', ' ')}: initiative {self.id} is "
                f"{self.status}, not {wanted}",
                current=self.status.value,
                allowed=self.actions_allowed(),
            )

    def _require_initiator(self, by: str) -> None:
        if by not in self.initiators:
            raise NotAllowedForCaller(f"only the initiators of initiative {self.id} may do this")

    def _record(self, status: Status, now: datetime, note: str, actor: str | None = None) -> None:
        self.status = status
        self.history.append(HistoryEntry(at=now, status=status, note=note, actor=actor))

    def _note(self, now: datetime, note: str, kind: str, actor: str | None = None) -> None:
        self.history.append(
            HistoryEntry(at=now, status=self.status, note=note, kind=kind, actor=actor)
        )


def as_utc(value: datetime | None) -> datetime | None:
    """Databases without time zones (SQLite) give naive UTC moments back."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _unique(what: str, ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise RuleViolation(f"{what} id '{item}' is used twice")
        seen.add(item)
