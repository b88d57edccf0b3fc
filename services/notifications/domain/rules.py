"""Who is told what: rules as data, per municipality, free of I/O.

A rule says: when an event of this type arrives (and its facts meet the condition), tell this
audience this kind of notice. The defaults below are seeded into the ``notification_rule``
table for every municipality (``*``); a municipality overrides a default by storing a rule with
the same (event type, audience, notice) under its own code, e.g. ``enabled=False`` to stop it.
How an audience is found (the initiative's initiator, its supporters, a council's members) is
code in the handlers; which audience hears what is only here and in the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.notifications.domain.model import Audience, FollowTarget, InitiativeView, NoticeKind

ALL_MUNICIPALITIES = "*"
REJECTED = "rejected"

ADVICE_REQUESTED = "nl.inspraak.advisory.advice-requested"
ADVICE_DEADLINE_APPROACHING = "nl.inspraak.advisory.advice-deadline-approaching"
ADVICE_OVERDUE = "nl.inspraak.advisory.advice-overdue"
ADVICE_ROUND_COMPLETED = "nl.inspraak.advisory.advice-round-completed"
INITIATIVE_SUBMITTED = "nl.inspraak.initiatives.initiative-submitted"
SUPPORT_PROGRESS = "nl.inspraak.initiatives.support-progress"
INITIATIVE_READY_FOR_REVIEW = "nl.inspraak.initiatives.initiative-ready-for-review"
INITIATIVE_READY_FOR_DECISION = "nl.inspraak.initiatives.initiative-ready-for-decision"
INITIATIVE_DECISION_OVERDUE = "nl.inspraak.initiatives.initiative-decision-overdue"
INITIATIVE_DECIDED = "nl.inspraak.initiatives.initiative-decided"
INITIATIVE_RESULTS_REPORTED = "nl.inspraak.initiatives.initiative-results-reported"
INITIATIVE_ACCOUNTED = "nl.inspraak.initiatives.initiative-accounted"
INITIATIVE_CLOSED = "nl.inspraak.initiatives.initiative-closed"
INITIATIVE_WITHDRAWN = "nl.inspraak.initiatives.initiative-withdrawn"
INITIATIVE_EXPIRED = "nl.inspraak.initiatives.initiative-expired"
MILESTONE_OVERDUE = "nl.inspraak.initiatives.milestone-overdue"
REPORT_HANDLED = "nl.inspraak.initiatives.report-handled"
BUDGET_ALLOCATED = "nl.inspraak.budgets.budget-allocated"
ALLOCATION_REJECTED = "nl.inspraak.budgets.allocation-rejected"
FUNDS_RELEASED = "nl.inspraak.budgets.funds-released"
FUNDS_DISBURSED = "nl.inspraak.budgets.funds-disbursed"
SPENDING_REPORTED = "nl.inspraak.budgets.spending-reported"
ROUND_PHASE_CHANGED = "nl.inspraak.budgets.round-phase-changed"
ROUND_RESULTS_PUBLISHED = "nl.inspraak.budgets.round-results-published"
ALTERNATIVE_BUDGET_SUBMITTED = "nl.inspraak.budgets.alternative-budget-submitted"
ALTERNATIVE_BUDGET_ADOPTED = "nl.inspraak.budgets.alternative-budget-adopted"
ALTERNATIVE_BUDGET_NOT_ADOPTED = "nl.inspraak.budgets.alternative-budget-not-adopted"
ALTERNATIVE_BUDGET_WITHDRAWN = "nl.inspraak.budgets.alternative-budget-withdrawn"
CONSULTATION_OPENED = "nl.inspraak.advisory.consultation-opened"
CONSULTATION_ANSWERED = "nl.inspraak.advisory.consultation-answered"

# When one event has rules for several audiences, a person in more than one of them hears
# the most specific message only (the chair of a late council hears the escalation, not also
# the reminder every member gets): audiences earlier here win.
AUDIENCE_PRECEDENCE: tuple[Audience, ...] = (
    Audience.INITIATOR,
    Audience.REPORTER,
    # A drafter who also co-signed their own alternative budget hears it as its drafter.
    Audience.DRAFTER,
    Audience.CO_SIGNERS,
    # A council member who also gave input as a resident hears what became of their own input.
    Audience.CONTRIBUTORS,
    Audience.COUNCIL_OFFICERS,
    Audience.BUDGET_HOLDERS,
    Audience.COUNCIL_MEMBERS,
    Audience.SUPPORTERS,
    Audience.FOLLOWERS,
)


class Rule(BaseModel):
    """When ``event_type`` arrives and every ``condition`` fact matches, tell ``audience``."""

    model_config = ConfigDict(frozen=True)

    municipality: str = Field(description="CBS code, or '*' for the default of every one.")
    event_type: str = Field(description="CloudEvents type of the event that triggers it.")
    audience: Audience = Field(description="Who is told.")
    notice: NoticeKind = Field(description="What they are told (the template).")
    condition: dict[str, str] = Field(
        default_factory=dict, description="Facts the event must have, e.g. decision=rejected."
    )
    enabled: bool = Field(default=True, description="False switches a default off.")

    @property
    def key(self) -> tuple[str, Audience, NoticeKind]:
        return self.event_type, self.audience, self.notice

    def applies_to(self, facts: Mapping[str, Any]) -> bool:
        return self.enabled and all(
            _text(facts.get(name)) == value for name, value in self.condition.items()
        )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(getattr(value, "value", value))


def _default(
    event_type: str,
    audience: Audience,
    notice: NoticeKind,
    *,
    enabled: bool = True,
    **condition: str,
) -> Rule:
    return Rule(
        municipality=ALL_MUNICIPALITIES,
        event_type=event_type,
        audience=audience,
        notice=notice,
        condition=condition,
        enabled=enabled,
    )


DEFAULT_RULES: tuple[Rule, ...] = (
    # Advisory councils: asked, reminded before the deadline, told when it passed.
    _default(ADVICE_REQUESTED, Audience.COUNCIL_MEMBERS, NoticeKind.ADVICE_REQUESTED),
    _default(
        ADVICE_DEADLINE_APPROACHING,
        Audience.COUNCIL_MEMBERS,
        NoticeKind.ADVICE_DEADLINE_APPROACHING,
    ),
    _default(ADVICE_OVERDUE, Audience.COUNCIL_MEMBERS, NoticeKind.ADVICE_OVERDUE),
    # advice-overdue names the chair and secretary to escalate to (``escalate_to``); they hear
    # the escalation instead of the members' reminder (see AUDIENCE_PRECEDENCE).
    _default(ADVICE_OVERDUE, Audience.COUNCIL_OFFICERS, NoticeKind.ADVICE_OVERDUE_ESCALATED),
    # The old way to reach them, from before advice-overdue carried ``escalate_to``: off by
    # default, since the officers already heard at the overdue advice; a municipality that
    # also wants the round's closing told switches it on.
    _default(
        ADVICE_ROUND_COMPLETED,
        Audience.COUNCIL_OFFICERS,
        NoticeKind.ADVICE_ESCALATED,
        enabled=False,
        closed_after_escalation="true",
    ),
    # The initiator, at every state change of their initiative.
    _default(INITIATIVE_SUBMITTED, Audience.INITIATOR, NoticeKind.INITIATIVE_SUBMITTED),
    _default(SUPPORT_PROGRESS, Audience.INITIATOR, NoticeKind.SUPPORT_PROGRESS),
    _default(INITIATIVE_READY_FOR_REVIEW, Audience.INITIATOR, NoticeKind.INITIATIVE_IN_REVIEW),
    _default(INITIATIVE_READY_FOR_DECISION, Audience.INITIATOR, NoticeKind.AWAITING_DECISION),
    _default(INITIATIVE_DECISION_OVERDUE, Audience.INITIATOR, NoticeKind.DECISION_OVERDUE),
    _default(INITIATIVE_RESULTS_REPORTED, Audience.INITIATOR, NoticeKind.RESULTS_REPORTED),
    _default(INITIATIVE_ACCOUNTED, Audience.INITIATOR, NoticeKind.INITIATIVE_ACCOUNTED),
    _default(INITIATIVE_CLOSED, Audience.INITIATOR, NoticeKind.INITIATIVE_CLOSED),
    _default(INITIATIVE_WITHDRAWN, Audience.INITIATOR, NoticeKind.INITIATIVE_WITHDRAWN),
    _default(INITIATIVE_EXPIRED, Audience.INITIATOR, NoticeKind.INITIATIVE_EXPIRED),
    _default(MILESTONE_OVERDUE, Audience.INITIATOR, NoticeKind.MILESTONE_OVERDUE),
    # Supporters hear what became of what they supported.
    _default(
        INITIATIVE_RESULTS_REPORTED, Audience.SUPPORTERS, NoticeKind.SUPPORTED_INITIATIVE_RESULTS
    ),
    _default(INITIATIVE_ACCOUNTED, Audience.SUPPORTERS, NoticeKind.SUPPORTED_INITIATIVE_ACCOUNTED),
    # A reporter hears what was done with their report (buurtschouw).
    _default(REPORT_HANDLED, Audience.REPORTER, NoticeKind.REPORT_HANDLED),
    # Residents following a neighbourhood or a budget: "follow the money".
    _default(ROUND_PHASE_CHANGED, Audience.FOLLOWERS, NoticeKind.ROUND_PHASE_CHANGED),
    _default(ROUND_RESULTS_PUBLISHED, Audience.FOLLOWERS, NoticeKind.ROUND_RESULTS_PUBLISHED),
    _default(SPENDING_REPORTED, Audience.FOLLOWERS, NoticeKind.SPENDING_REPORTED),
    _default(BUDGET_ALLOCATED, Audience.FOLLOWERS, NoticeKind.FOLLOWED_BUDGET_ALLOCATED),
    _default(FUNDS_RELEASED, Audience.FOLLOWERS, NoticeKind.FUNDS_RELEASED),
    _default(FUNDS_DISBURSED, Audience.FOLLOWERS, NoticeKind.FUNDS_DISBURSED),
    _default(INITIATIVE_READY_FOR_DECISION, Audience.BUDGET_HOLDERS, NoticeKind.READY_FOR_DECISION),
    # An approval reaches the initiator once budgets reserved the money (or could not): one
    # message with the whole outcome instead of two within seconds.
    _default(
        INITIATIVE_DECIDED, Audience.INITIATOR, NoticeKind.INITIATIVE_REJECTED, decision=REJECTED
    ),
    _default(INITIATIVE_DECIDED, Audience.SUPPORTERS, NoticeKind.SUPPORTED_INITIATIVE_DECIDED),
    _default(BUDGET_ALLOCATED, Audience.INITIATOR, NoticeKind.BUDGET_ALLOCATED),
    _default(ALLOCATION_REJECTED, Audience.INITIATOR, NoticeKind.ALLOCATION_REJECTED),
    # An alternative budget: its drafter and co-signers hear it is on its way to the municipal
    # council, and the council's decision with its reasons and what was adopted.
    *(
        _default(event_type, audience, notice)
        for event_type, notice in (
            (ALTERNATIVE_BUDGET_SUBMITTED, NoticeKind.ALTERNATIVE_BUDGET_SUBMITTED),
            (ALTERNATIVE_BUDGET_ADOPTED, NoticeKind.ALTERNATIVE_BUDGET_ADOPTED),
            (ALTERNATIVE_BUDGET_NOT_ADOPTED, NoticeKind.ALTERNATIVE_BUDGET_NOT_ADOPTED),
        )
        for audience in (Audience.DRAFTER, Audience.CO_SIGNERS)
    ),
    # Withdrawn by its drafter: the co-signers put their name to it and hear it is gone (the
    # drafter did it themselves and is not told).
    _default(
        ALTERNATIVE_BUDGET_WITHDRAWN, Audience.CO_SIGNERS, NoticeKind.ALTERNATIVE_BUDGET_WITHDRAWN
    ),
    # A policy consultation: the members of the councils asked and the residents who gave input
    # hear what the municipality did with what was said. consultation-answered names the
    # residents; the councils are known here from consultation-opened.
    _default(CONSULTATION_ANSWERED, Audience.COUNCIL_MEMBERS, NoticeKind.CONSULTATION_ANSWERED),
    _default(CONSULTATION_ANSWERED, Audience.CONTRIBUTORS, NoticeKind.CONSULTATION_INPUT_ANSWERED),
)


def effective_rules(stored: Iterable[Rule], municipality: str, event_type: str) -> list[Rule]:
    """The enabled rules for one municipality and event, its own overriding the defaults.

    In order of AUDIENCE_PRECEDENCE, so whoever is in two audiences hears the first one's.
    """
    chosen: dict[tuple[str, Audience, NoticeKind], Rule] = {}
    for rule in sorted(stored, key=lambda r: r.municipality != ALL_MUNICIPALITIES):
        if rule.event_type == event_type and rule.municipality in (
            ALL_MUNICIPALITIES,
            municipality,
        ):
            chosen[rule.key] = rule
    enabled = [rule for rule in chosen.values() if rule.enabled]
    return sorted(enabled, key=lambda rule: AUDIENCE_PRECEDENCE.index(rule.audience))


def needs_decision_first(initiative: InitiativeView | None) -> bool:
    """A budget event can only be told once the decision it follows is known here.

    Budgets' events and initiatives' events travel on different topics, so this service may
    see the allocation before the decision; such a notice waits until the decision arrives.
    """
    return initiative is None or not initiative.decided


# Followers of a budget hear every move of its money; followers of a neighbourhood hear its
# budgeting rounds and what was spent there (not every reservation and payment).
NEIGHBOURHOOD_FOLLOWERS_HEAR = frozenset(
    {ROUND_PHASE_CHANGED, ROUND_RESULTS_PUBLISHED, SPENDING_REPORTED}
)


def followed_by(
    event_type: str, budget_id: str | None, neighbourhood: str | None
) -> tuple[tuple[FollowTarget, str], ...]:
    """What an event is about, as far as followers go: its budget and maybe its neighbourhood."""
    found: list[tuple[FollowTarget, str]] = []
    if budget_id:
        found.append((FollowTarget.BUDGET, budget_id))
    if neighbourhood and event_type in NEIGHBOURHOOD_FOLLOWERS_HEAR:
        found.append((FollowTarget.NEIGHBOURHOOD, neighbourhood))
    return tuple(found)


def follow_scope(target: FollowTarget, target_id: str) -> str:
    """The fan-out scope of a followed target, e.g. ``neighbourhood:BU03620001``."""
    return f"{target.value}:{target_id}"


def parse_follow_scope(scope_id: str) -> tuple[FollowTarget, str]:
    target, _, target_id = scope_id.partition(":")
    return FollowTarget(target), target_id
