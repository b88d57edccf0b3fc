"""Routing rules: which councils must or may advise on an initiative, kept as data."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from services.advisory.domain.model import Council, SubjectFacts, district_of


class Obligation(StrEnum):
    MUST = "must"  # the round waits for this council's advice (or its escalation)
    MAY = "may"  # the council is invited; the round does not wait past its deadline


class RoutingRule(BaseModel):
    """Send initiatives matching every given condition to a council; empty means any."""

    id: str
    municipality: str
    council_id: str
    obligation: Obligation = Obligation.MUST
    neighbourhoods: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    initiative_types: list[str] = Field(default_factory=list)
    min_amount_cents: int | None = None
    max_amount_cents: int | None = None
    description: str = ""

    def matches(self, facts: SubjectFacts) -> bool:
        neighbourhood = facts.neighbourhood or ""
        if self.neighbourhoods or self.districts:
            in_area = neighbourhood in self.neighbourhoods or (
                bool(neighbourhood) and district_of(neighbourhood) in self.districts
            )
            if not in_area:
                return False
        if self.themes and facts.theme not in self.themes:
            return False
        if self.initiative_types and facts.initiative_type not in self.initiative_types:
            return False
        amount = facts.amount_cents or 0
        if self.min_amount_cents is not None and amount < self.min_amount_cents:
            return False
        return self.max_amount_cents is None or amount <= self.max_amount_cents


def route(
    facts: SubjectFacts, rules: list[RoutingRule], councils: list[Council]
) -> list[tuple[Council, bool]]:
    """The councils to ask, each with whether its advice is required.

    A municipality without rules of its own gets the default: neighbourhood councils by
    area, youth councils by theme, all required. A council that must advise by one rule and
    may by another must.
    """
    if not rules:
        return [
            (c, True) for c in councils if c.covers(facts.neighbourhood or "", facts.theme or "")
        ]
    required: dict[str, bool] = {}
    for rule in rules:
        if rule.matches(facts):
            must = rule.obligation is Obligation.MUST
            required[rule.council_id] = required.get(rule.council_id, False) or must
    return [(c, required[c.id]) for c in councils if c.id in required]
