"""The alternative budget (alternatieve begroting): residents propose another division of a
neighbourhood budget over themes, and put it to the municipal council (gemeenteraad).

A resident drafts it (amounts per theme, each with a motivation, adding up to the budget),
other residents co-sign it, a resident submits it, and a civil servant records what the
council decided: adopted wholly, partly (which lines, at which amounts, and why), or not
(and why). An adopted division becomes the budget's earmarks, and its execution is monitored
line by line from the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field

from services.budgets.domain.earmarks import EarmarkPosition, checked_theme, theme_key
from services.budgets.domain.exceptions import (
    InvalidField,
    InvalidTransition,
    NotAllowedForCaller,
)
from services.budgets.domain.model import euros


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # with the municipal council, awaiting its decision
    ADOPTED = "adopted"
    PARTLY_ADOPTED = "partly_adopted"
    NOT_ADOPTED = "not_adopted"
    WITHDRAWN = "withdrawn"


class Adoption(StrEnum):
    """What the municipal council decided."""

    WHOLLY = "wholly"
    PARTLY = "partly"
    NOT_ADOPTED = "not_adopted"


ALLOWED_ACTIONS: dict[Status, list[str]] = {
    Status.DRAFT: ["edit", "co_sign", "submit", "withdraw"],
    Status.SUBMITTED: ["record_decision", "withdraw"],
    Status.ADOPTED: ["monitor"],
    Status.PARTLY_ADOPTED: ["monitor"],
    Status.NOT_ADOPTED: [],
    Status.WITHDRAWN: [],
}


class Line(BaseModel):
    """One theme of the proposed division, with what it should get and why."""

    model_config = ConfigDict(frozen=True)

    theme: str = Field(description="The theme, e.g. 'groen' or 'jeugd'.")
    amount_cents: int = Field(description="Proposed for the theme, in euro cents.")
    motivation: str = Field(description="Why the theme should get this amount.")


class CoSignature(BaseModel):
    model_config = ConfigDict(frozen=True)

    resident_id: str = Field(description="Pseudonymous id of the resident who co-signed.")
    signed_at: datetime


class AdoptedLine(BaseModel):
    """A line as the council adopted it: perhaps at another amount, then with reasons."""

    model_config = ConfigDict(frozen=True)

    theme: str
    proposed_cents: int = Field(description="What the alternative budget proposed.")
    adopted_cents: int = Field(description="What the council adopted.")
    reasons: str = Field(default="", description="Why the council changed the amount, if it did.")


class CouncilDecision(BaseModel):
    """What the municipal council decided on the alternative budget, as recorded."""

    model_config = ConfigDict(frozen=True)

    adoption: Adoption
    lines: list[AdoptedLine] = Field(description="The lines adopted; none if not adopted.")
    reasons: str = Field(description="The council's reasons.")
    decided_on: date = Field(description="The date of the council's decision.")
    recorded_by: str = Field(description="Pseudonymous id of the civil servant who recorded it.")
    recorded_at: datetime


class LineDecision(BaseModel):
    """One line of a partial adoption, as the civil servant enters it."""

    model_config = ConfigDict(frozen=True)

    theme: str
    adopted_cents: int
    reasons: str = ""


def _check_lines(lines: Sequence[Line]) -> list[Line]:
    if not lines:
        raise InvalidField("lines", "an alternative budget has at least one line")
    seen: set[str] = set()
    normalised = []
    for index, line in enumerate(lines):
        key = checked_theme(line.theme, f"lines.{index}.theme")
        if key in seen:
            raise InvalidField(f"lines.{index}.theme", f"theme {line.theme!r} appears twice")
        seen.add(key)
        normalised.append(line.model_copy(update={"theme": key}))
    return normalised


class AlternativeBudget(BaseModel):
    """Residents' alternative division of one neighbourhood budget, and where it stands."""

    id: str
    municipality: str
    budget_id: str
    neighbourhood: str
    year: int
    title: str
    drafter_id: str = Field(description="Pseudonymous id of the resident who drafted it.")
    lines: list[Line]
    co_signatures: list[CoSignature] = Field(default_factory=list)
    status: Status = Status.DRAFT
    created_at: datetime
    submitted_at: datetime | None = None
    submitted_by: str | None = None
    decision: CouncilDecision | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_cents(self) -> int:
        """The lines added up, in euro cents."""
        return sum(line.amount_cents for line in self.lines)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def allowed_actions(self) -> list[str]:
        """What may be done with it in its current state."""
        return list(ALLOWED_ACTIONS[self.status])

    def _require(self, action: str) -> None:
        if action not in ALLOWED_ACTIONS[self.status]:
            raise InvalidTransition(
                f"alternative budget {self.id} is {self.status}: "
                f"{action.replace('_', ' ')} is not allowed now",
                current=self.status.value,
                allowed=self.allowed_actions,
            )

    @classmethod
    def draft(
        cls,
        *,
        alternative_id: str,
        municipality: str,
        budget_id: str,
        neighbourhood: str,
        year: int,
        title: str,
        drafter_id: str,
        lines: Sequence[Line],
        now: datetime,
    ) -> AlternativeBudget:
        return cls(
            id=alternative_id,
            municipality=municipality,
            budget_id=budget_id,
            neighbourhood=neighbourhood,
            year=year,
            title=title,
            drafter_id=drafter_id,
            lines=_check_lines(lines),
            created_at=now,
        )

    def edit(self, *, by: str, title: str | None, lines: Sequence[Line] | None) -> None:
        """The drafter changes the draft; co-signatures of an earlier division lapse."""
        self._require("edit")
        if by != self.drafter_id:
            raise NotAllowedForCaller("only the resident who drafted it edits the draft")
        if title is not None:
            self.title = title
        if lines is not None:
            checked = _check_lines(lines)
            if checked != self.lines:
                # They signed another division: their signature must not carry over to this one.
                self.co_signatures = []
            self.lines = checked

    def co_sign(self, *, resident_id: str, now: datetime) -> bool:
        """A resident co-signs; ``False`` if they had already (co-signing twice is once)."""
        self._require("co_sign")
        if resident_id == self.drafter_id:
            raise NotAllowedForCaller("the drafter cannot co-sign their own alternative budget")
        if any(s.resident_id == resident_id for s in self.co_signatures):
            return False
        self.co_signatures.append(CoSignature(resident_id=resident_id, signed_at=now))
        return True

    def submit(self, *, by: str, budget_cents: int, now: datetime) -> None:
        """Put it to the municipal council: the lines must divide the whole budget."""
        self._require("submit")
        signers = {self.drafter_id} | {s.resident_id for s in self.co_signatures}
        if by not in signers:
            raise NotAllowedForCaller("the drafter or a co-signer submits the alternative budget")
        if self.total_cents != budget_cents:
            raise InvalidField(
                "lines",
                f"the lines add up to {euros(self.total_cents)}; they must divide the "
                f"budget's {euros(budget_cents)} exactly",
            )
        self.status = Status.SUBMITTED
        self.submitted_at = now
        self.submitted_by = by

    def withdraw(self, *, by: str) -> Status:
        """The drafter takes it back; returns where it stood, which its co-signers are told."""
        self._require("withdraw")
        if by != self.drafter_id:
            raise NotAllowedForCaller("only the resident who drafted it withdraws it")
        previous = self.status
        self.status = Status.WITHDRAWN
        return previous

    def record_decision(
        self,
        *,
        adoption: Adoption,
        lines: Sequence[LineDecision],
        reasons: str,
        decided_on: date,
        recorded_by: str,
        now: datetime,
    ) -> CouncilDecision:
        """Record the council's decision; for a partial adoption, which lines and amounts."""
        self._require("record_decision")
        adopted = self._adopted_lines(adoption, lines)
        if adoption is not Adoption.WHOLLY and not reasons.strip():
            raise InvalidField("reasons", "a partial adoption or a rejection states its reasons")
        self.decision = CouncilDecision(
            adoption=adoption,
            lines=adopted,
            reasons=reasons,
            decided_on=decided_on,
            recorded_by=recorded_by,
            recorded_at=now,
        )
        self.status = {
            Adoption.WHOLLY: Status.ADOPTED,
            Adoption.PARTLY: Status.PARTLY_ADOPTED,
            Adoption.NOT_ADOPTED: Status.NOT_ADOPTED,
        }[adoption]
        return self.decision

    def _adopted_lines(
        self, adoption: Adoption, lines: Sequence[LineDecision]
    ) -> list[AdoptedLine]:
        proposed = {line.theme: line for line in self.lines}
        if adoption is not Adoption.PARTLY:
            if lines:
                raise InvalidField(
                    "lines", f"lines are given only for a partial adoption, not for {adoption}"
                )
            if adoption is Adoption.NOT_ADOPTED:
                return []
            return [
                AdoptedLine(
                    theme=p.theme, proposed_cents=p.amount_cents, adopted_cents=p.amount_cents
                )
                for p in self.lines
            ]
        if not lines:
            raise InvalidField("lines", "a partial adoption names the lines adopted")
        adopted: list[AdoptedLine] = []
        for index, decided in enumerate(lines):
            key = theme_key(decided.theme)
            line = proposed.get(key)
            if line is None:
                raise InvalidField(
                    f"lines.{index}.theme", f"the alternative budget has no line {decided.theme!r}"
                )
            if any(a.theme == key for a in adopted):
                raise InvalidField(f"lines.{index}.theme", f"line {key!r} is decided twice")
            if decided.adopted_cents != line.amount_cents and not decided.reasons.strip():
                raise InvalidField(
                    f"lines.{index}.reasons",
                    f"the council adopted {key} at another amount than proposed: say why",
                )
            adopted.append(
                AdoptedLine(
                    theme=key,
                    proposed_cents=line.amount_cents,
                    adopted_cents=decided.adopted_cents,
                    reasons=decided.reasons,
                )
            )
        if len(adopted) == len(self.lines) and all(
            a.adopted_cents == a.proposed_cents for a in adopted
        ):
            raise InvalidField("adoption", "every line as proposed: that is adopting it wholly")
        if sum(a.adopted_cents for a in adopted) > self.total_cents:
            raise InvalidField("lines", "the adopted lines add up to more than the budget")
        return adopted


class MonitoredLine(BaseModel):
    """An adopted line against what the ledger says was done with it."""

    theme: str
    adopted_cents: int = Field(description="What the council adopted for the theme.")
    earmarked_cents: int = Field(description="The theme's earmark in the budget now.")
    reserved_cents: int = Field(description="Reserved for initiatives of the theme, not paid.")
    disbursed_cents: int = Field(description="Paid out to initiatives of the theme.")
    spent_cents: int = Field(description="Paid out and accounted for with actual costs.")
    remaining_cents: int = Field(description="Still in the earmark, free for the theme.")


class Monitoring(BaseModel):
    """How an adopted alternative budget is carried out, line by line."""

    alternative_budget_id: str
    budget_id: str
    adoption: Adoption
    lines: list[MonitoredLine]
    totals: MonitoredLine


def monitor(alternative: AlternativeBudget, earmarks: Mapping[str, EarmarkPosition]) -> Monitoring:
    """Each adopted line: adopted vs reserved, disbursed, spent (from the ledger) vs remaining."""
    if alternative.decision is None or alternative.status not in (
        Status.ADOPTED,
        Status.PARTLY_ADOPTED,
    ):
        raise InvalidTransition(
            f"alternative budget {alternative.id} is {alternative.status}: only an adopted "
            "one is monitored",
            current=alternative.status.value,
            allowed=alternative.allowed_actions,
        )
    lines = []
    for adopted in alternative.decision.lines:
        position = earmarks.get(adopted.theme) or EarmarkPosition.derive(adopted.theme, [])
        lines.append(
            MonitoredLine(
                theme=adopted.theme,
                adopted_cents=adopted.adopted_cents,
                earmarked_cents=position.earmarked_cents,
                reserved_cents=position.committed_cents,
                disbursed_cents=position.disbursed_cents,
                spent_cents=position.spent_cents,
                remaining_cents=position.remaining_cents,
            )
        )
    totals = MonitoredLine(
        theme="",
        **{
            name: sum(getattr(line, name) for line in lines)
            for name in MonitoredLine.model_fields
            if name != "theme"
        },
    )
    return Monitoring(
        alternative_budget_id=alternative.id,
        budget_id=alternative.budget_id,
        adoption=alternative.decision.adoption,
        lines=lines,
        totals=totals,
    )
