"""The alternative budget's rules: who may do what, in which state, and what the council's
decision must say; and the monitoring of an adopted one against the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.budgets.domain.alternative import (
    Adoption,
    AlternativeBudget,
    Line,
    LineDecision,
    Status,
    monitor,
)
from services.budgets.domain.earmarks import EarmarkPosition
from services.budgets.domain.exceptions import (
    InvalidField,
    InvalidTransition,
    NotAllowedForCaller,
)

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
COUNCIL_DAY = date(2026, 3, 12)
LINES = [
    Line(theme="Groen", amount_cents=2_000_000, motivation="Meer bomen in de straat."),
    Line(theme="jeugd", amount_cents=2_000_000, motivation="Een trapveldje."),
    Line(theme="ontmoeten", amount_cents=1_000_000, motivation="Buurtfeest en koffieochtend."),
]


def drafted(lines: list[Line] = LINES) -> AlternativeBudget:
    return AlternativeBudget.draft(
        alternative_id="alt-1",
        municipality="GM0362",
        budget_id="b-1",
        neighbourhood="BU03620001",
        year=2026,
        title="Een groenere buurt",
        drafter_id="resident-1",
        lines=lines,
        now=NOW,
    )


def submitted() -> AlternativeBudget:
    alternative = drafted()
    alternative.co_sign(resident_id="resident-2", now=NOW)
    alternative.submit(by="resident-1", budget_cents=5_000_000, now=NOW)
    return alternative


def test_a_draft_keeps_one_line_per_theme_whatever_its_spelling() -> None:
    alternative = drafted()
    assert [line.theme for line in alternative.lines] == ["groen", "jeugd", "ontmoeten"]
    assert alternative.total_cents == 5_000_000
    assert alternative.status is Status.DRAFT
    assert alternative.allowed_actions == ["edit", "co_sign", "submit", "withdraw"]

    with pytest.raises(InvalidField) as twice:
        drafted([*LINES, Line(theme=" GROEN", amount_cents=1, motivation="nog meer")])
    assert twice.value.field == "lines.3.theme"


def test_only_the_drafter_edits_and_a_changed_division_must_be_signed_again() -> None:
    alternative = drafted()
    alternative.co_sign(resident_id="resident-2", now=NOW)

    with pytest.raises(NotAllowedForCaller):
        alternative.edit(by="resident-2", title="Anders", lines=None)
    alternative.edit(by="resident-1", title="Nieuwe titel", lines=None)
    assert [s.resident_id for s in alternative.co_signatures] == ["resident-2"]

    alternative.edit(by="resident-1", title=None, lines=LINES[:2])
    assert alternative.title == "Nieuwe titel"
    assert alternative.co_signatures == []  # they signed another division


def test_residents_co_sign_once_and_the_drafter_does_not_co_sign() -> None:
    alternative = drafted()

    assert alternative.co_sign(resident_id="resident-2", now=NOW) is True
    assert alternative.co_sign(resident_id="resident-2", now=NOW) is False
    with pytest.raises(NotAllowedForCaller):
        alternative.co_sign(resident_id="resident-1", now=NOW)
    assert [s.resident_id for s in alternative.co_signatures] == ["resident-2"]


def test_the_lines_must_divide_the_whole_budget_to_be_submitted() -> None:
    alternative = drafted()

    with pytest.raises(InvalidField) as short:
        alternative.submit(by="resident-1", budget_cents=5_000_001, now=NOW)
    assert short.value.field == "lines"
    assert "€50,000.00" in str(short.value) and "€50,000.01" in str(short.value)
    with pytest.raises(NotAllowedForCaller):  # neither the drafter nor a co-signer
        alternative.submit(by="resident-9", budget_cents=5_000_000, now=NOW)

    alternative.submit(by="resident-1", budget_cents=5_000_000, now=NOW)
    assert (alternative.status, alternative.submitted_by) == (Status.SUBMITTED, "resident-1")


def test_an_illegal_step_says_the_current_state_and_what_is_allowed() -> None:
    alternative = submitted()

    with pytest.raises(InvalidTransition) as refused:
        alternative.edit(by="resident-1", title="Te laat", lines=None)
    assert refused.value.current == "submitted"
    assert refused.value.allowed == ["record_decision", "withdraw"]

    alternative.record_decision(
        adoption=Adoption.NOT_ADOPTED,
        lines=[],
        reasons="De raad houdt vast aan de begroting.",
        decided_on=COUNCIL_DAY,
        recorded_by="civil-1",
        now=NOW,
    )
    with pytest.raises(InvalidTransition) as again:
        alternative.record_decision(
            adoption=Adoption.WHOLLY,
            lines=[],
            reasons="",
            decided_on=COUNCIL_DAY,
            recorded_by="civil-1",
            now=NOW,
        )
    assert (again.value.current, again.value.allowed) == ("not_adopted", [])


def test_adopted_wholly_takes_every_line_as_proposed() -> None:
    alternative = submitted()

    decision = alternative.record_decision(
        adoption=Adoption.WHOLLY,
        lines=[],
        reasons="",
        decided_on=COUNCIL_DAY,
        recorded_by="civil-1",
        now=NOW,
    )

    assert alternative.status is Status.ADOPTED
    assert [(a.theme, a.adopted_cents) for a in decision.lines] == [
        ("groen", 2_000_000),
        ("jeugd", 2_000_000),
        ("ontmoeten", 1_000_000),
    ]


def test_a_partial_adoption_names_its_lines_and_says_why_an_amount_changed() -> None:
    alternative = submitted()
    decide = alternative.record_decision

    def partly(*lines: LineDecision, reasons: str = "Deels overgenomen.") -> None:
        decide(
            adoption=Adoption.PARTLY,
            lines=list(lines),
            reasons=reasons,
            decided_on=COUNCIL_DAY,
            recorded_by="civil-1",
            now=NOW,
        )

    with pytest.raises(InvalidField) as no_reason:
        partly(LineDecision(theme="groen", adopted_cents=1_500_000))
    assert no_reason.value.field == "lines.0.reasons"
    with pytest.raises(InvalidField) as unknown:
        partly(LineDecision(theme="sport", adopted_cents=1))
    assert unknown.value.field == "lines.0.theme"
    with pytest.raises(InvalidField) as overall:
        partly(LineDecision(theme="jeugd", adopted_cents=2_000_000), reasons=" ")
    assert overall.value.field == "reasons"
    with pytest.raises(InvalidField) as wholly:
        partly(*(LineDecision(theme=line.theme, adopted_cents=line.amount_cents) for line in LINES))
    assert wholly.value.field == "adoption"
    assert alternative.status is Status.SUBMITTED  # nothing was recorded

    partly(
        LineDecision(theme="Groen", adopted_cents=1_500_000, reasons="Bomen zijn duurder."),
        LineDecision(theme="jeugd", adopted_cents=2_000_000),
    )
    assert alternative.status is Status.PARTLY_ADOPTED
    assert alternative.decision is not None
    assert [(a.theme, a.proposed_cents, a.adopted_cents) for a in alternative.decision.lines] == [
        ("groen", 2_000_000, 1_500_000),
        ("jeugd", 2_000_000, 2_000_000),
    ]


def test_not_adopted_states_its_reasons() -> None:
    alternative = submitted()

    with pytest.raises(InvalidField) as refused:
        alternative.record_decision(
            adoption=Adoption.NOT_ADOPTED,
            lines=[],
            reasons="",
            decided_on=COUNCIL_DAY,
            recorded_by="civil-1",
            now=NOW,
        )
    assert refused.value.field == "reasons"


def test_monitoring_sets_each_adopted_line_against_its_earmark_in_the_ledger() -> None:
    alternative = submitted()
    with pytest.raises(InvalidTransition):
        monitor(alternative, {})
    alternative.record_decision(
        adoption=Adoption.PARTLY,
        lines=[
            LineDecision(theme="groen", adopted_cents=1_500_000, reasons="Bomen zijn duurder."),
            LineDecision(theme="jeugd", adopted_cents=2_000_000),
        ],
        reasons="Ontmoeten loopt via het initiatievenfonds.",
        decided_on=COUNCIL_DAY,
        recorded_by="civil-1",
        now=NOW,
    )
    groen = EarmarkPosition(
        theme="groen",
        earmarked_cents=1_500_000,
        committed_cents=100_000,
        disbursed_cents=400_000,
        spent_cents=250_000,
        remaining_cents=1_000_000,
    )

    report = monitor(alternative, {"groen": groen})

    assert report.adoption is Adoption.PARTLY
    assert [
        (
            line.theme,
            line.adopted_cents,
            line.reserved_cents,
            line.disbursed_cents,
            line.spent_cents,
            line.remaining_cents,
        )
        for line in report.lines
    ] == [
        ("groen", 1_500_000, 100_000, 400_000, 250_000, 1_000_000),
        ("jeugd", 2_000_000, 0, 0, 0, 0),
    ]
    assert report.totals.adopted_cents == 3_500_000
    assert report.totals.spent_cents == 250_000


def test_only_the_drafter_withdraws_and_not_after_the_council_decided() -> None:
    alternative = submitted()
    with pytest.raises(NotAllowedForCaller):
        alternative.withdraw(by="resident-2")
    alternative.withdraw(by="resident-1")
    assert alternative.status is Status.WITHDRAWN
    assert alternative.allowed_actions == []


def test_a_withdrawal_says_where_it_stood_so_the_co_signers_can_be_told() -> None:
    assert drafted().withdraw(by="resident-1") is Status.DRAFT
    assert submitted().withdraw(by="resident-1") is Status.SUBMITTED
