"""Domain facts -> the public contract's events (the only place they meet)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from services.budgets.domain import events
from services.budgets.domain.alternative import Adoption, AlternativeBudget
from services.budgets.domain.earmarks import EarmarkPosition
from services.budgets.domain.model import Allocation, Balances, Budget, EntryKind, LedgerEntry
from services.budgets.domain.payments import InitiativePosition
from services.budgets.domain.rounds import Ballot, BudgetingRound, Phase, RoundResults
from shared.contracts import budgets as contract
from shared.contracts.base import EventData

PSEUDONYMOUS = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def to_contract(event: events.DomainEvent) -> EventData:
    match event:
        case events.Allocated():
            return contract.BudgetAllocated(
                municipality=event.municipality,
                initiative_id=event.initiative_id,
                budget_id=event.budget_id,
                neighbourhood=event.neighbourhood,
                amount_cents=event.amount_cents,
                available_after_cents=event.available_after_cents,
            )
        case events.Refused():
            return contract.AllocationRejected(
                municipality=event.municipality,
                initiative_id=event.initiative_id,
                budget_id=event.budget_id,
                requested_cents=event.requested_cents,
                available_cents=event.available_cents,
                shortfall_cents=event.shortfall_cents,
                fund_could_cover=event.fund_could_cover,
                reason=event.reason,
            )
    raise TypeError(f"no contract event for {event!r}")


def contract_events(allocation: Allocation) -> Iterable[EventData]:
    return [to_contract(event) for event in allocation.pending_events]


def _pseudonymous(subject: str | None) -> str | None:
    # Token subjects are pseudonymous ids; anything else is left out rather than published.
    if subject is None or not PSEUDONYMOUS.fullmatch(subject):
        return None
    return subject


def budget_opened(budget: Budget, opening: LedgerEntry) -> contract.BudgetOpened:
    return contract.BudgetOpened(
        municipality=budget.municipality,
        budget_id=budget.id,
        kind=budget.kind.value,
        neighbourhood=budget.neighbourhood,
        year=budget.year,
        opening_amount_cents=opening.amount_cents,
        max_per_initiative_cents=budget.max_per_initiative_cents,
        opened_at=budget.opened_at,
    )


def ledger_event(
    entry: LedgerEntry,
    position: InitiativePosition,
    balances: Balances,
    *,
    planned_cents: int | None = None,
) -> EventData:
    """The event announcing a release, disbursement or spending report of an initiative."""
    assert entry.initiative_id is not None
    common = {
        "municipality": entry.municipality,
        "initiative_id": entry.initiative_id,
        "budget_id": entry.budget_id,
        "amount_cents": entry.amount_cents,
    }
    match entry.kind:
        case EntryKind.RELEASED:
            assert entry.release_reason is not None
            return contract.FundsReleased(
                **common,
                reason=contract.ReleaseReason(entry.release_reason.value),
                still_reserved_cents=position.committed_cents,
                available_after_cents=max(0, balances.available_cents),
            )
        case EntryKind.DISBURSED:
            return contract.FundsDisbursed(
                **common,
                disbursed_total_cents=position.disbursed_cents,
                still_reserved_cents=position.committed_cents,
                recorded_by=_pseudonymous(entry.recorded_by),
            )
        case EntryKind.SPENDING_REPORTED:
            return contract.SpendingReported(
                **common,
                description=entry.note,
                cost_line=entry.cost_line,
                planned_cents=planned_cents,
                spent_total_cents=position.spent_cents,
            )
    raise TypeError(f"no contract event for a {entry.kind} entry")


def round_phase_changed(
    round_: BudgetingRound, previous: Phase, at: datetime
) -> contract.RoundPhaseChanged:
    return contract.RoundPhaseChanged(
        municipality=round_.municipality,
        round_id=round_.id,
        neighbourhood=round_.neighbourhood,
        previous_phase=previous.value,
        phase=round_.phase.value,
        changed_at=at,
    )


def ballot_cast(round_: BudgetingRound, ballot: Ballot, replaced: bool) -> contract.BallotCast:
    """The ballot's receipt: who voted (pseudonymously) and how, never what they chose."""
    return contract.BallotCast(
        municipality=round_.municipality,
        round_id=round_.id,
        neighbourhood=round_.neighbourhood,
        voter_id=ballot.voter_id,
        channel=ballot.channel.value,
        replaced_earlier=replaced,
        cast_at=ballot.cast_at,
    )


def round_results_published(
    round_: BudgetingRound, results: RoundResults
) -> contract.RoundResultsPublished:
    return contract.RoundResultsPublished(
        municipality=round_.municipality,
        round_id=round_.id,
        neighbourhood=round_.neighbourhood,
        rule=results.rule.value,
        ballots=results.ballots,
        budget_cents=results.budget_cents,
        funded_cost_cents=results.funded_cost_cents,
        projects=[
            contract.ProjectOutcome(
                project_id=p.project_id,
                title=p.title,
                cost_cents=p.cost_cents,
                votes=p.votes,
                funded=p.funded,
            )
            for p in results.projects
        ],
    )


def earmark_set(
    budget: Budget,
    earmark: EarmarkPosition,
    *,
    previous_cents: int,
    balances: Balances,
    alternative_budget_id: str | None,
    at: datetime,
) -> contract.EarmarkSet:
    return contract.EarmarkSet(
        municipality=budget.municipality,
        budget_id=budget.id,
        neighbourhood=budget.neighbourhood,
        theme=earmark.theme,
        amount_cents=earmark.earmarked_cents,
        previous_amount_cents=previous_cents,
        remaining_cents=earmark.remaining_cents,
        available_after_cents=max(0, balances.available_cents),
        alternative_budget_id=alternative_budget_id,
        set_at=at,
    )


def _alternative_facts(alternative: AlternativeBudget) -> dict[str, object]:
    return {
        "municipality": alternative.municipality,
        "alternative_budget_id": alternative.id,
        "budget_id": alternative.budget_id,
        "neighbourhood": alternative.neighbourhood,
        "drafter_id": alternative.drafter_id,
        "co_signer_ids": [s.resident_id for s in alternative.co_signatures],
    }


def alternative_budget_submitted(
    alternative: AlternativeBudget,
) -> contract.AlternativeBudgetSubmitted:
    assert alternative.submitted_by is not None and alternative.submitted_at is not None
    return contract.AlternativeBudgetSubmitted(
        **_alternative_facts(alternative),
        year=alternative.year,
        submitted_by=alternative.submitted_by,
        lines=[
            contract.AlternativeBudgetLine(
                theme=line.theme, amount_cents=line.amount_cents, motivation=line.motivation
            )
            for line in alternative.lines
        ],
        total_cents=alternative.total_cents,
        submitted_at=alternative.submitted_at,
    )


def alternative_budget_withdrawn(
    alternative: AlternativeBudget, *, previous_status: str, reason: str | None, at: datetime
) -> contract.AlternativeBudgetWithdrawn:
    return contract.AlternativeBudgetWithdrawn(
        **_alternative_facts(alternative),
        previous_status=previous_status,
        # A blank reason says nothing: the co-signers should not read an empty quote.
        reason=(reason or "").strip() or None,
        withdrawn_by=alternative.drafter_id,
        withdrawn_at=at,
    )


def alternative_budget_decided(alternative: AlternativeBudget) -> EventData:
    """Adopted (wholly or partly, with the lines adopted) or not adopted, with the reasons."""
    decision = alternative.decision
    assert decision is not None
    if decision.adoption is Adoption.NOT_ADOPTED:
        return contract.AlternativeBudgetNotAdopted(
            **_alternative_facts(alternative),
            reasons=decision.reasons,
            decided_on=decision.decided_on,
            recorded_by=decision.recorded_by,
        )
    return contract.AlternativeBudgetAdopted(
        **_alternative_facts(alternative),
        adoption=contract.AdoptionExtent(decision.adoption.value),
        lines=[
            contract.AdoptedLine(
                theme=line.theme,
                proposed_cents=line.proposed_cents,
                adopted_cents=line.adopted_cents,
                reasons=line.reasons,
            )
            for line in decision.lines
        ],
        reasons=decision.reasons,
        decided_on=decision.decided_on,
        recorded_by=decision.recorded_by,
    )
