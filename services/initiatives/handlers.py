"""Use cases of the initiatives service. Each runs in one unit of work.

Handlers called from the API commit their unit of work; handlers called from a consumer or a
timer run inside the batch's or the timer's transaction, which its caller commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

from services.initiatives.domain import commands, events
from services.initiatives.domain.deadlines import end_of_day
from services.initiatives.domain.exceptions import (
    InitiativeNotFound,
    ReportNotFound,
    RuleViolation,
    UnknownInitiativeType,
)
from services.initiatives.domain.model import Advice, Initiative, InitiativeType
from services.initiatives.domain.reports import Report, ReportOutcome
from services.initiatives.integration import contract_events, report_events
from services.initiatives.persistence.unit_of_work import InitiativesUnitOfWork
from shared import clock
from shared.contracts.envelope import Envelope
from shared.messaging.timers import Timer, TimerHandler, cancel, schedule

SUPPORT_WINDOW = "initiative-support-window"
DECISION_DEADLINE = "initiative-decision-deadline"
MILESTONE_DUE = "initiative-milestone-due"


def _now() -> datetime:
    return clock.now()


async def _save_and_publish(
    initiative: Initiative, uow: InitiativesUnitOfWork, cause: Envelope | None = None
) -> None:
    """Store the initiative, set or clear its timers, and record its events for the outbox."""
    await uow.initiatives.save(initiative)
    await _sync_timers(initiative, uow)
    for data in contract_events(initiative):
        uow.publish(uow.wrap(data, cause))
    initiative.pending_events.clear()


async def _sync_timers(initiative: Initiative, uow: InitiativesUnitOfWork) -> None:
    session, tables, key = uow.session, uow.tables, initiative.id
    payload = {"municipality": initiative.municipality, "initiative_id": key}
    for event in initiative.pending_events:
        match event:
            case events.SupportWindowOpened(deadline=deadline):
                await schedule(
                    session, tables, name=SUPPORT_WINDOW, key=key, due_at=deadline, payload=payload
                )
            case events.ReadyForReview(decision_deadline=deadline):
                await cancel(session, tables, name=SUPPORT_WINDOW, key=key)
                if deadline is not None:
                    await schedule(
                        session,
                        tables,
                        name=DECISION_DEADLINE,
                        key=key,
                        due_at=deadline,
                        payload=payload,
                    )
            case events.Decided() | events.Withdrawn() | events.Expired():
                await cancel(session, tables, name=SUPPORT_WINDOW, key=key)
                await cancel(session, tables, name=DECISION_DEADLINE, key=key)
            case events.Started(milestones=milestones):
                for milestone_id, due in milestones:
                    await schedule(
                        session,
                        tables,
                        name=MILESTONE_DUE,
                        key=f"{key}:{milestone_id}",
                        due_at=end_of_day(due),
                        payload={**payload, "milestone_id": milestone_id},
                    )
            case events.MilestoneDone(milestone_id=milestone_id):
                await cancel(session, tables, name=MILESTONE_DUE, key=f"{key}:{milestone_id}")
            case events.ResultsReported():
                for milestone in initiative.milestones:
                    await cancel(session, tables, name=MILESTONE_DUE, key=f"{key}:{milestone.id}")


async def _load(
    uow: InitiativesUnitOfWork,
    municipality: str,
    initiative_id: str,
    *,
    supporters: Iterable[str] = (),
) -> Initiative:
    initiative = await uow.initiatives.get(
        municipality, initiative_id, lock=True, supporters=supporters
    )
    if initiative is None:
        raise InitiativeNotFound(f"initiative {initiative_id} does not exist in {municipality}")
    return initiative


async def _kind(uow: InitiativesUnitOfWork, municipality: str, code: str) -> InitiativeType:
    kind = await uow.types.get(municipality, code)
    if kind is None:
        raise UnknownInitiativeType(f"municipality {municipality} has no initiative type '{code}'")
    return kind


async def _change(
    uow: InitiativesUnitOfWork,
    municipality: str,
    initiative_id: str,
    change: Callable[[Initiative], object],
    *,
    supporters: Iterable[str] = (),
) -> Initiative:
    """Load, change, store and commit: the shape of every API command on one initiative."""
    initiative = await _load(uow, municipality, initiative_id, supporters=supporters)
    change(initiative)
    await _save_and_publish(initiative, uow)
    await uow.commit()
    return initiative


# -- types ------------------------------------------------------------------------------------


async def define_initiative_type(
    command: commands.DefineInitiativeType, municipality: str, uow: InitiativesUnitOfWork
) -> InitiativeType:
    kind = InitiativeType(municipality=municipality, **command.model_dump())
    await uow.types.save(kind)
    await uow.commit()
    return kind


# -- drafts and submission ----------------------------------------------------------------------


def _plan(command: commands.PlanFields, *, skip: set[str] | None = None) -> dict[str, object]:
    """The fields a command sets, as plain values for the aggregate."""
    return command.model_dump(exclude_unset=True, exclude=skip or set())


async def submit_initiative(
    command: commands.SubmitInitiative,
    *,
    municipality: str,
    initiator_id: str,
    uow: InitiativesUnitOfWork,
) -> Initiative:
    """Create an initiative: kept as a draft, or submitted at once."""
    kind = await _kind(uow, municipality, command.initiative_type)
    predecessor = None
    if command.follows is not None:
        predecessor = await _load(uow, municipality, command.follows)
    now = _now()
    initiative = Initiative.draft(
        initiative_id=str(uuid.uuid4()),
        kind=kind,
        initiator_id=initiator_id,
        now=now,
        predecessor=predecessor,
        title=command.title,
        description=command.description,
        neighbourhood=command.neighbourhood,
        theme=command.theme,
        requested_amount_cents=command.requested_amount_cents,
        **_plan(
            command,
            skip={
                "initiative_type",
                "title",
                "description",
                "neighbourhood",
                "theme",
                "requested_amount_cents",
                "draft",
                "follows",
            },
        ),
    )
    if not command.draft:
        initiative.submit_draft(kind=kind, by=initiator_id, now=now, fresh=True)
    await _save_and_publish(initiative, uow)
    if predecessor is not None:
        await _save_and_publish(predecessor, uow)
    await uow.commit()
    return initiative


async def edit_draft(
    command: commands.EditDraft,
    *,
    municipality: str,
    initiative_id: str,
    by: str,
    uow: InitiativesUnitOfWork,
) -> Initiative:
    changes = _plan(command)
    return await _change(
        uow,
        municipality,
        initiative_id,
        lambda i: i.edit_draft(by=by, changes=changes, now=_now()),
    )


async def submit_draft(
    *, municipality: str, initiative_id: str, by: str, uow: InitiativesUnitOfWork
) -> Initiative:
    initiative = await _load(uow, municipality, initiative_id)
    kind = await _kind(uow, municipality, initiative.initiative_type)
    initiative.submit_draft(kind=kind, by=by, now=_now())
    await _save_and_publish(initiative, uow)
    await uow.commit()
    return initiative


async def withdraw_initiative(
    command: commands.WithReason,
    *,
    municipality: str,
    initiative_id: str,
    by: str,
    uow: InitiativesUnitOfWork,
) -> Initiative:
    return await _change(
        uow,
        municipality,
        initiative_id,
        lambda i: i.withdraw(by=by, reason=command.reason, now=_now()),
    )


# -- support ----------------------------------------------------------------------------------


async def support_initiative(
    *, municipality: str, initiative_id: str, supporter_id: str, uow: InitiativesUnitOfWork
) -> Initiative:
    return await _change(
        uow,
        municipality,
        initiative_id,
        lambda i: i.support(supporter_id, now=_now()),
        supporters=[supporter_id],
    )


async def withdraw_support(
    *, municipality: str, initiative_id: str, supporter_id: str, uow: InitiativesUnitOfWork
) -> Initiative:
    return await _change(
        uow,
        municipality,
        initiative_id,
        lambda i: i.withdraw_support(supporter_id, now=_now()),
        supporters=[supporter_id],
    )


async def add_paper_supports(
    command: commands.PaperSupports,
    *,
    municipality: str,
    initiative_id: str,
    uow: InitiativesUnitOfWork,
) -> tuple[Initiative, list[str]]:
    """Supports signed on paper, entered by a civil servant; those already counted are skipped."""
    initiative = await _load(uow, municipality, initiative_id, supporters=command.supporter_ids)
    now = _now()
    skipped: list[str] = []
    for supporter_id in command.supporter_ids:
        if supporter_id in initiative.supporters:
            skipped.append(supporter_id)
        else:
            initiative.support(supporter_id, now=now, channel="paper")
    await _save_and_publish(initiative, uow)
    await uow.commit()
    return initiative, skipped


# -- decision -----------------------------------------------------------------------------------


async def decide_initiative(
    command: commands.DecideInitiative,
    *,
    municipality: str,
    initiative_id: str,
    decided_by: str,
    uow: InitiativesUnitOfWork,
) -> Initiative:
    return await _change(
        uow,
        municipality,
        initiative_id,
        lambda i: i.decide(
            approve=command.approve,
            reasons=command.reasons,
            conditions=command.conditions,
            decided_by=decided_by,
            now=_now(),
            advice_responses=command.advice_responses,
        ),
    )


# -- carrying it out ------------------------------------------------------------------------------


async def start_initiative(
    *, municipality: str, initiative_id: str, by: str, uow: InitiativesUnitOfWork
) -> Initiative:
    return await _change(uow, municipality, initiative_id, lambda i: i.start(by=by, now=_now()))


async def update_progress(
    command: commands.ProgressUpdateInput,
    *,
    municipality: str,
    initiative_id: str,
    by: str,
    uow: InitiativesUnitOfWork,
) -> Initiative:
    return await _change(
        uow,
        municipality,
        initiative_id,
        lambda i: i.update_progress(
            by=by, text=command.text, now=_now(), milestone_id=command.milestone_id
        ),
    )


async def report_results(
    command: commands.ReportResults,
    *,
    municipality: str,
    initiative_id: str,
    by: str,
    uow: InitiativesUnitOfWork,
) -> Initiative:
    return await _change(
        uow,
        municipality,
        initiative_id,
        lambda i: i.report_results(
            by=by, summary=command.summary, measured=command.measured, now=_now()
        ),
    )


async def account_for(
    command: commands.AccountFor,
    *,
    municipality: str,
    initiative_id: str,
    by: str,
    uow: InitiativesUnitOfWork,
) -> Initiative:
    return await _change(
        uow,
        municipality,
        initiative_id,
        lambda i: i.account_for(
            by=by, spent_cents=command.spent_cents, text=command.account, now=_now()
        ),
    )


async def close_initiative(
    command: commands.WithReason,
    *,
    municipality: str,
    initiative_id: str,
    by: str,
    uow: InitiativesUnitOfWork,
) -> Initiative:
    return await _change(
        uow,
        municipality,
        initiative_id,
        lambda i: i.close(by=by, reason=command.reason, now=_now()),
    )


# -- reactions to other services' events (inside the consumer's transaction) --------------------


async def mark_ready_for_decision(
    command: commands.MarkReadyForDecision,
    *,
    municipality: str,
    cause: Envelope,
    uow: InitiativesUnitOfWork,
) -> None:
    initiative = await _load(uow, municipality, command.initiative_id)
    initiative.mark_ready_for_decision(
        command.advice_round_id,
        command.advice_positions,
        _now(),
        advice=[Advice.model_validate(given) for given in command.advice],
    )
    await _save_and_publish(initiative, uow, cause)


async def record_advice_given(
    *,
    municipality: str,
    initiative_id: str,
    advice: Advice,
    given_by: str,
    uow: InitiativesUnitOfWork,
) -> None:
    initiative = await _load(uow, municipality, initiative_id)
    initiative.record_advice_given(
        council_id=advice.council_id,
        position=advice.position or "none",
        motivation=advice.motivation,
        conditions=advice.conditions,
        given_by=given_by,
        now=_now(),
    )
    await _save_and_publish(initiative, uow)


async def record_funding(
    command: commands.RecordFunding, *, municipality: str, uow: InitiativesUnitOfWork
) -> None:
    initiative = await _load(uow, municipality, command.initiative_id)
    initiative.record_funding(funded=command.funded, note=command.note, now=_now())
    await _save_and_publish(initiative, uow)


async def record_money(
    *,
    municipality: str,
    initiative_id: str,
    amount_cents: int,
    note: str,
    spending: bool,
    uow: InitiativesUnitOfWork,
) -> None:
    """Disbursements and booked spending from budgets: part of the public history."""
    initiative = await _load(uow, municipality, initiative_id)
    if spending:
        initiative.record_spending(amount_cents, note, _now())
    else:
        initiative.record_disbursement(amount_cents, note, _now())
    await _save_and_publish(initiative, uow)


# -- deadlines (inside the timer's transaction) ---------------------------------------------------


async def _on_timer(
    timer: Timer, uow: InitiativesUnitOfWork, change: Callable[[Initiative], None]
) -> None:
    initiative = await _load(uow, timer.payload["municipality"], timer.payload["initiative_id"])
    change(initiative)
    await _save_and_publish(initiative, uow)


async def support_window_ended(timer: Timer, uow: InitiativesUnitOfWork) -> None:
    await _on_timer(timer, uow, lambda i: i.support_window_ended(timer.due_at))


async def decision_deadline_passed(timer: Timer, uow: InitiativesUnitOfWork) -> None:
    await _on_timer(timer, uow, lambda i: i.decision_deadline_passed(timer.due_at))


async def milestone_due(timer: Timer, uow: InitiativesUnitOfWork) -> None:
    milestone_id = timer.payload["milestone_id"]
    await _on_timer(timer, uow, lambda i: i.milestone_due(milestone_id, timer.due_at))


TIMER_HANDLERS: dict[str, TimerHandler[InitiativesUnitOfWork]] = {
    SUPPORT_WINDOW: support_window_ended,
    DECISION_DEADLINE: decision_deadline_passed,
    MILESTONE_DUE: milestone_due,
}


# -- neighbourhood reports ------------------------------------------------------------------------


async def _publish_report(report: Report, uow: InitiativesUnitOfWork) -> None:
    await uow.reports.save(report)
    for data in report_events(report):
        uow.publish(uow.wrap(data))
    report.pending_events.clear()


async def submit_report(
    command: commands.SubmitReport,
    *,
    municipality: str,
    reporter_id: str,
    uow: InitiativesUnitOfWork,
) -> Report:
    report = Report.receive(
        report_id=str(uuid.uuid4()),
        now=_now(),
        municipality=municipality,
        reporter_id=reporter_id,
        **command.model_dump(),
    )
    await _publish_report(report, uow)
    await uow.commit()
    return report


async def triage_report(
    command: commands.TriageReport,
    *,
    municipality: str,
    report_id: str,
    by: str,
    uow: InitiativesUnitOfWork,
) -> Report:
    """Turn into an initiative (a draft the reporter owns), forward, or close with a reason."""
    report = await uow.reports.get(municipality, report_id, lock=True)
    if report is None:
        raise ReportNotFound(f"report {report_id} does not exist in {municipality}")
    now = _now()
    initiative_id = None
    if command.outcome is ReportOutcome.INITIATIVE:
        if command.initiative_type is None:
            raise RuleViolation("an initiative outcome needs the initiative type")
        kind = await _kind(uow, municipality, command.initiative_type)
        initiative = Initiative.draft(
            initiative_id=str(uuid.uuid4()),
            kind=kind,
            initiator_id=report.reporter_id,
            now=now,
            title=f"Buurtschouw: {report.category}",
            description=report.description,
            neighbourhood=report.neighbourhood,
            theme=report.category,
            requested_amount_cents=0,
            problem=report.description,
        )
        initiative_id = initiative.id
        report.triage(
            outcome=command.outcome,
            reason=command.reason,
            by=by,
            now=now,
            initiative_id=initiative_id,
        )
        await _save_and_publish(initiative, uow)
    else:
        report.triage(
            outcome=command.outcome,
            reason=command.reason,
            by=by,
            now=now,
            forwarded_to=command.forwarded_to,
        )
    await _publish_report(report, uow)
    await uow.commit()
    return report
