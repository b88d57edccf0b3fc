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

from services.notifications.domain.model import Audience, InitiativeView, NoticeKind

ALL_MUNICIPALITIES = "*"
REJECTED = "rejected"

ADVICE_REQUESTED = "nl.inspraak.advisory.advice-requested"
ADVICE_OVERDUE = "nl.inspraak.advisory.advice-overdue"
ADVICE_ROUND_COMPLETED = "nl.inspraak.advisory.advice-round-completed"
INITIATIVE_READY_FOR_DECISION = "nl.inspraak.initiatives.initiative-ready-for-decision"
INITIATIVE_DECIDED = "nl.inspraak.initiatives.initiative-decided"
BUDGET_ALLOCATED = "nl.inspraak.budgets.budget-allocated"
ALLOCATION_REJECTED = "nl.inspraak.budgets.allocation-rejected"


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


def _default(event_type: str, audience: Audience, notice: NoticeKind, **condition: str) -> Rule:
    return Rule(
        municipality=ALL_MUNICIPALITIES,
        event_type=event_type,
        audience=audience,
        notice=notice,
        condition=condition,
    )


DEFAULT_RULES: tuple[Rule, ...] = (
    _default(ADVICE_REQUESTED, Audience.COUNCIL_MEMBERS, NoticeKind.ADVICE_REQUESTED),
    _default(ADVICE_OVERDUE, Audience.COUNCIL_MEMBERS, NoticeKind.ADVICE_OVERDUE),
    # The advisory contract has no escalation flag on advice-overdue; a round closed after
    # escalation is the escalation that reaches chair and secretary of the silent councils.
    _default(
        ADVICE_ROUND_COMPLETED,
        Audience.COUNCIL_OFFICERS,
        NoticeKind.ADVICE_ESCALATED,
        closed_after_escalation="true",
    ),
    _default(INITIATIVE_READY_FOR_DECISION, Audience.BUDGET_HOLDERS, NoticeKind.READY_FOR_DECISION),
    # An approval reaches the initiator once budgets reserved the money (or could not): one
    # message with the whole outcome instead of two within seconds.
    _default(
        INITIATIVE_DECIDED, Audience.INITIATOR, NoticeKind.INITIATIVE_REJECTED, decision=REJECTED
    ),
    _default(INITIATIVE_DECIDED, Audience.SUPPORTERS, NoticeKind.SUPPORTED_INITIATIVE_DECIDED),
    _default(BUDGET_ALLOCATED, Audience.INITIATOR, NoticeKind.BUDGET_ALLOCATED),
    _default(ALLOCATION_REJECTED, Audience.INITIATOR, NoticeKind.ALLOCATION_REJECTED),
)


def effective_rules(stored: Iterable[Rule], municipality: str, event_type: str) -> list[Rule]:
    """The enabled rules for one municipality and event: its own override the defaults."""
    chosen: dict[tuple[str, Audience, NoticeKind], Rule] = {}
    for rule in sorted(stored, key=lambda r: r.municipality != ALL_MUNICIPALITIES):
        if rule.event_type == event_type and rule.municipality in (
            ALL_MUNICIPALITIES,
            municipality,
        ):
            chosen[rule.key] = rule
    return [rule for rule in chosen.values() if rule.enabled]


def needs_decision_first(initiative: InitiativeView | None) -> bool:
    """A budget event can only be told once the decision it follows is known here.

    Budgets' events and initiatives' events travel on different topics, so this service may
    see the allocation before the decision; such a notice waits until the decision arrives.
    """
    return initiative is None or not initiative.decided
