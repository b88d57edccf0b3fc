"""Domain events of an initiative -> the public contract's events (the only place they meet)."""

from __future__ import annotations

from collections.abc import Iterable

from services.initiatives.domain import events
from services.initiatives.domain.model import Initiative
from services.initiatives.domain.reports import Report, ReportHandled, ReportReceived
from shared.contracts import initiatives as contract
from shared.contracts.base import EventData

SUMMARY_CHARS = 140


def _facts(initiative: Initiative) -> dict[str, object]:
    return {
        "municipality": initiative.municipality,
        "initiative_id": initiative.id,
        "title": initiative.title,
        "neighbourhood": initiative.neighbourhood,
        "theme": initiative.theme,
        "initiative_type": initiative.initiative_type,
        "requested_amount_cents": initiative.requested_amount_cents,
        "funding_source": contract.FundingSource(initiative.funding_source.value),
        "initiator_id": initiative.initiator_id,
    }


def _key(initiative: Initiative) -> dict[str, str]:
    return {"municipality": initiative.municipality, "initiative_id": initiative.id}


def to_contract(initiative: Initiative, event: events.DomainEvent) -> EventData | None:
    """The contract event for a domain event; None for what stays inside the service."""
    match event:
        case events.Submitted(at=at):
            return contract.InitiativeSubmitted(**_facts(initiative), submitted_at=at)
        case events.SupportRegistered(supporter_id=supporter, channel=channel):
            return contract.SupportRegistered(
                **_key(initiative),
                supporter_id=supporter,
                support_count=initiative.support_count,
                channel=contract.SupportChannel(channel),
                support_threshold=initiative.support_threshold,
            )
        case events.SupportWithdrawn(supporter_id=supporter):
            return contract.SupportWithdrawn(
                **_key(initiative), supporter_id=supporter, support_count=initiative.support_count
            )
        case events.SupportProgress(percentage=percentage):
            return contract.SupportProgress(
                **_key(initiative),
                percentage=percentage,
                support_count=initiative.support_count,
                support_threshold=initiative.support_threshold,
            )
        case events.ReadyForReview():
            return contract.InitiativeReadyForReview(
                **_facts(initiative), support_count=initiative.support_count
            )
        case events.ReadyForDecision(advice_round_id=round_id, advice_positions=positions):
            return contract.InitiativeReadyForDecision(
                municipality=initiative.municipality,
                initiative_id=initiative.id,
                advice_round_id=round_id,
                advice_positions=list(positions),
                requested_amount_cents=initiative.requested_amount_cents,
            )
        case events.Decided(at=at):
            return contract.InitiativeDecided(
                **_facts(initiative),
                decision=contract.Decision(initiative.status.value),
                reasons=initiative.decision_reasons or "",
                conditions=initiative.decision_conditions,
                decided_by=initiative.decided_by or "",
                decided_at=at,
            )
        case events.Withdrawn(previous_status=previous, reason=reason):
            return contract.InitiativeWithdrawn(
                **_key(initiative),
                reason=reason,
                previous_status=previous,
                initiator_id=initiative.initiator_id,
            )
        case events.Expired(deadline=deadline):
            return contract.InitiativeExpired(
                **_key(initiative),
                support_count=initiative.support_count,
                support_threshold=initiative.support_threshold,
                support_deadline=deadline,
                initiator_id=initiative.initiator_id,
            )
        case events.DecisionOverdue(deadline=deadline):
            return contract.InitiativeDecisionOverdue(
                **_key(initiative), decision_deadline=deadline, status=initiative.status.value
            )
        case events.MilestoneOverdue(milestone_id=milestone_id):
            [milestone] = [m for m in initiative.milestones if m.id == milestone_id]
            return contract.MilestoneOverdue(
                **_key(initiative),
                milestone_id=milestone_id,
                milestone=milestone.description,
                due_date=milestone.due_date,
                initiator_id=initiative.initiator_id,
            )
        case events.ResultsReported():
            return contract.InitiativeResultsReported(
                **_key(initiative),
                summary=initiative.results_summary,
                results=[
                    contract.MeasuredResult(
                        indicator=i.description,
                        target=i.target,
                        measured=i.measured if i.measured is not None else 0.0,
                        unit=i.unit,
                    )
                    for i in initiative.indicators
                ],
            )
        case events.Accounted():
            account = initiative.account
            return contract.InitiativeAccounted(
                **_key(initiative),
                budgeted_cents=initiative.budgeted_cents,
                spent_cents=account.spent_cents if account else 0,
                disbursed_cents=initiative.disbursed_cents,
                account=account.text if account else "",
            )
        case events.Closed(reason=reason):
            return contract.InitiativeClosed(**_key(initiative), reason=reason)
        case events.SupportWindowOpened() | events.Started() | events.MilestoneDone():
            return None  # timers, not news
    raise TypeError(f"no contract event for {event!r}")


def contract_events(initiative: Initiative) -> Iterable[EventData]:
    mapped = (to_contract(initiative, event) for event in initiative.pending_events)
    return [data for data in mapped if data is not None]


def report_events(report: Report) -> Iterable[EventData]:
    found: list[EventData] = []
    for event in report.pending_events:
        facts = {
            "municipality": report.municipality,
            "report_id": report.id,
            "neighbourhood": report.neighbourhood,
            "reporter_id": report.reporter_id,
        }
        if isinstance(event, ReportReceived):
            found.append(
                contract.ReportReceived(
                    **facts,
                    category=report.category,
                    summary=report.description[:SUMMARY_CHARS],
                )
            )
        elif isinstance(event, ReportHandled):
            found.append(
                contract.ReportHandled(
                    **facts,
                    outcome=contract.ReportOutcome(report.status.value),
                    reason=report.reason or "",
                    forwarded_to=report.forwarded_to,
                    initiative_id=report.initiative_id,
                    handled_by=report.handled_by or "",
                )
            )
    return found
