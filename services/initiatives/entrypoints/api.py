"""HTTP API of the initiatives service: requests become commands, queries read state."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from services.initiatives import handlers
from services.initiatives.domain import commands
from services.initiatives.domain.exceptions import (
    InitiativeError,
    InitiativeNotFound,
    InvalidTransition,
    NotAllowedForCaller,
    ReportNotFound,
    RuleViolation,
    SupportConflict,
    UnknownInitiativeType,
)
from services.initiatives.domain.model import HistoryEntry, Initiative, InitiativeType
from services.initiatives.domain.reports import Report
from services.initiatives.persistence.unit_of_work import InitiativesUnitOfWork
from shared.auth import Authorize, Principal, Role
from shared.http import PROBLEM_JSON, Problem

router = APIRouter(prefix="/v1/municipalities/{municipality}", tags=["initiatives"])
InitiativeId = Annotated[str, Path(max_length=36)]
ReportId = Annotated[str, Path(max_length=36)]
T = TypeVar("T")

may_submit = Authorize(Role.RESIDENT, Role.INITIATOR, Role.SYSTEM)
may_act_as_initiator = Authorize(Role.RESIDENT, Role.INITIATOR)
may_support = Authorize(Role.RESIDENT, Role.INITIATOR)
may_configure = Authorize(Role.CIVIL_SERVANT)
may_decide = Authorize(Role.BUDGET_HOLDER, Role.CIVIL_SERVANT)
may_report = Authorize(Role.RESIDENT, Role.INITIATOR, Role.SYSTEM)
may_read = Authorize(*Role)

OPEN_DATA_FIELDS = (
    "id",
    "municipality",
    "initiative_type",
    "title",
    "neighbourhood",
    "theme",
    "status",
    "funding_source",
    "requested_amount_cents",
    "budgeted_cents",
    "support_count",
    "support_threshold",
    "submitted_at",
    "decided_at",
    "decision",
    "disbursed_cents",
    "booked_spending_cents",
    "spent_cents",
    "predecessor_id",
)


class StateConflict(Problem):
    """409 that says where the initiative stands and what may be done now."""

    def __init__(self, error: InvalidTransition) -> None:
        super().__init__(409, "Not allowed in this state", str(error))
        self.current_state = error.current
        self.allowed_actions = error.allowed

    def response(self, instance: str) -> JSONResponse:
        body = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            "current_state": self.current_state,
            "allowed_actions": self.allowed_actions,
        }
        return JSONResponse(jsonable_encoder(body), self.status, media_type=PROBLEM_JSON)


def unit_of_work(request: Request) -> InitiativesUnitOfWork:
    return request.app.state.unit_of_work()


def as_problem(error: InitiativeError) -> Problem:
    if isinstance(error, InitiativeNotFound):
        return Problem(404, "Initiative not found", str(error))
    if isinstance(error, ReportNotFound):
        return Problem(404, "Report not found", str(error))
    if isinstance(error, UnknownInitiativeType):
        return Problem(
            422,
            "Unknown initiative type",
            str(error),
            errors=[{"field": "initiative_type", "message": str(error)}],
        )
    if isinstance(error, InvalidTransition):
        return StateConflict(error)
    if isinstance(error, NotAllowedForCaller):
        return Problem(403, "Forbidden", str(error))
    if isinstance(error, SupportConflict):
        return Problem(409, "Support conflict", str(error))
    if isinstance(error, RuleViolation):
        return Problem(422, "Rule violated", str(error))
    return Problem(409, "Not allowed now", str(error))


async def run(uow: InitiativesUnitOfWork, use_case: Awaitable[T]) -> T:
    """Run a use case in its unit of work, answering the domain's refusals as problems."""
    try:
        async with uow:
            return await use_case
    except InitiativeError as error:
        raise as_problem(error) from error


Caller = Annotated[Principal, Depends(may_act_as_initiator)]
UnitOfWork = Annotated[InitiativesUnitOfWork, Depends(unit_of_work)]


# -- initiative types ----------------------------------------------------------------------------


@router.put("/initiative-types/{code}", status_code=200)
async def define_initiative_type(
    code: Annotated[str, Path(pattern=r"^[a-z0-9-]{2,40}$")],
    body: commands.DefineInitiativeType,
    principal: Annotated[Principal, Depends(may_configure)],
    uow: UnitOfWork,
) -> InitiativeType:
    """Create or change an initiative type of the municipality and its rules (civil servants)."""
    if body.code != code:
        raise Problem(
            422,
            "Code mismatch",
            "The body's code must equal the path's code.",
            errors=[{"field": "code", "message": "differs from the path"}],
        )
    async with uow:
        return await handlers.define_initiative_type(body, principal.municipality, uow)


@router.get("/initiative-types")
async def list_initiative_types(
    principal: Annotated[Principal, Depends(may_read)], uow: UnitOfWork
) -> list[InitiativeType]:
    async with uow:
        return await uow.types.list(principal.municipality)


# -- lifecycle -----------------------------------------------------------------------------------


@router.post("/initiatives", status_code=201)
async def submit_initiative(
    body: commands.SubmitInitiative,
    principal: Annotated[Principal, Depends(may_submit)],
    uow: UnitOfWork,
) -> Initiative:
    """Submit a neighbourhood initiative, or keep it as a draft; the caller is its initiator."""
    return await run(
        uow,
        handlers.submit_initiative(
            body, municipality=principal.municipality, initiator_id=principal.subject, uow=uow
        ),
    )


@router.patch("/initiatives/{initiative_id}")
async def edit_draft(
    initiative_id: InitiativeId, body: commands.EditDraft, principal: Caller, uow: UnitOfWork
) -> Initiative:
    """Change a draft: only its initiators, only while it is a draft."""
    return await run(
        uow,
        handlers.edit_draft(
            body,
            municipality=principal.municipality,
            initiative_id=initiative_id,
            by=principal.subject,
            uow=uow,
        ),
    )


@router.post("/initiatives/{initiative_id}/submit")
async def submit_draft(
    initiative_id: InitiativeId, principal: Caller, uow: UnitOfWork
) -> Initiative:
    """Submit a draft: it collects support, or goes to review when its type needs none."""
    return await run(
        uow,
        handlers.submit_draft(
            municipality=principal.municipality,
            initiative_id=initiative_id,
            by=principal.subject,
            uow=uow,
        ),
    )


@router.post("/initiatives/{initiative_id}/withdraw")
async def withdraw_initiative(
    initiative_id: InitiativeId, body: commands.WithReason, principal: Caller, uow: UnitOfWork
) -> Initiative:
    """The initiators withdraw their initiative (until funds are reserved)."""
    return await run(
        uow,
        handlers.withdraw_initiative(
            body,
            municipality=principal.municipality,
            initiative_id=initiative_id,
            by=principal.subject,
            uow=uow,
        ),
    )


@router.post("/initiatives/{initiative_id}/supports", status_code=201)
async def support_initiative(
    initiative_id: InitiativeId,
    principal: Annotated[Principal, Depends(may_support)],
    uow: UnitOfWork,
) -> Initiative:
    """A resident of the municipality supports the initiative, once."""
    return await run(
        uow,
        handlers.support_initiative(
            municipality=principal.municipality,
            initiative_id=initiative_id,
            supporter_id=principal.subject,
            uow=uow,
        ),
    )


@router.delete("/initiatives/{initiative_id}/supports/me")
async def withdraw_support(
    initiative_id: InitiativeId,
    principal: Annotated[Principal, Depends(may_support)],
    uow: UnitOfWork,
) -> Initiative:
    """A resident withdraws their support, until the decision."""
    return await run(
        uow,
        handlers.withdraw_support(
            municipality=principal.municipality,
            initiative_id=initiative_id,
            supporter_id=principal.subject,
            uow=uow,
        ),
    )


class PaperSupportsAdded(BaseModel):
    initiative: Initiative
    added: int
    skipped: list[str]


@router.post("/initiatives/{initiative_id}/paper-supports")
async def add_paper_supports(
    initiative_id: InitiativeId,
    body: commands.PaperSupports,
    principal: Annotated[Principal, Depends(may_configure)],
    uow: UnitOfWork,
) -> PaperSupportsAdded:
    """A civil servant enters supports signed on paper; those already counted are skipped."""
    initiative, skipped = await run(
        uow,
        handlers.add_paper_supports(
            body, municipality=principal.municipality, initiative_id=initiative_id, uow=uow
        ),
    )
    added = len(body.supporter_ids) - len(skipped)
    return PaperSupportsAdded(initiative=initiative, added=added, skipped=skipped)


@router.post("/initiatives/{initiative_id}/decision")
async def decide_initiative(
    initiative_id: InitiativeId,
    body: commands.DecideInitiative,
    principal: Annotated[Principal, Depends(may_decide)],
    uow: UnitOfWork,
) -> Initiative:
    """Decide, "yes, unless": a rejection states reasons that answer every advice."""
    return await run(
        uow,
        handlers.decide_initiative(
            body,
            municipality=principal.municipality,
            initiative_id=initiative_id,
            decided_by=principal.subject,
            uow=uow,
        ),
    )


@router.post("/initiatives/{initiative_id}/start")
async def start_initiative(
    initiative_id: InitiativeId, principal: Caller, uow: UnitOfWork
) -> Initiative:
    """The initiators start carrying out the action plan; milestones get their timers."""
    return await run(
        uow,
        handlers.start_initiative(
            municipality=principal.municipality,
            initiative_id=initiative_id,
            by=principal.subject,
            uow=uow,
        ),
    )


@router.post("/initiatives/{initiative_id}/progress")
async def update_progress(
    initiative_id: InitiativeId,
    body: commands.ProgressUpdateInput,
    principal: Caller,
    uow: UnitOfWork,
) -> Initiative:
    """A progress update, possibly completing a milestone."""
    return await run(
        uow,
        handlers.update_progress(
            body,
            municipality=principal.municipality,
            initiative_id=initiative_id,
            by=principal.subject,
            uow=uow,
        ),
    )


@router.post("/initiatives/{initiative_id}/results")
async def report_results(
    initiative_id: InitiativeId, body: commands.ReportResults, principal: Caller, uow: UnitOfWork
) -> Initiative:
    """Measured results against every indicator's target."""
    return await run(
        uow,
        handlers.report_results(
            body,
            municipality=principal.municipality,
            initiative_id=initiative_id,
            by=principal.subject,
            uow=uow,
        ),
    )


@router.post("/initiatives/{initiative_id}/account")
async def account_for(
    initiative_id: InitiativeId, body: commands.AccountFor, principal: Caller, uow: UnitOfWork
) -> Initiative:
    """The initiators account for the money and the results."""
    return await run(
        uow,
        handlers.account_for(
            body,
            municipality=principal.municipality,
            initiative_id=initiative_id,
            by=principal.subject,
            uow=uow,
        ),
    )


@router.post("/initiatives/{initiative_id}/close")
async def close_initiative(
    initiative_id: InitiativeId,
    body: commands.WithReason,
    principal: Annotated[Principal, Depends(may_configure)],
    uow: UnitOfWork,
) -> Initiative:
    """A civil servant closes an accounted (or rejected) initiative."""
    return await run(
        uow,
        handlers.close_initiative(
            body,
            municipality=principal.municipality,
            initiative_id=initiative_id,
            by=principal.subject,
            uow=uow,
        ),
    )


# -- read side -----------------------------------------------------------------------------------


class InitiativeView(Initiative):
    """An initiative as read: with the actions its state allows now."""

    allowed_actions: list[str]


def _view(initiative: Initiative) -> InitiativeView:
    return InitiativeView(**initiative.model_dump(), allowed_actions=initiative.actions_allowed())


@router.get("/initiatives/{initiative_id}")
async def get_initiative(
    initiative_id: InitiativeId,
    principal: Annotated[Principal, Depends(may_read)],
    uow: UnitOfWork,
) -> InitiativeView:
    async with uow:
        initiative = await uow.initiatives.get(principal.municipality, initiative_id)
    if initiative is None:
        raise Problem(404, "Initiative not found", f"No initiative {initiative_id}.")
    return _view(initiative)


class Timeline(BaseModel):
    initiative_id: str
    status: str
    allowed_actions: list[str]
    predecessor_id: str | None
    successor_ids: list[str]
    entries: list[HistoryEntry]


@router.get("/initiatives/{initiative_id}/timeline")
async def initiative_timeline(
    initiative_id: InitiativeId,
    principal: Annotated[Principal, Depends(may_read)],
    uow: UnitOfWork,
) -> Timeline:
    """What happened, who did it and why, in order: the initiative's full history."""
    async with uow:
        initiative = await uow.initiatives.get(principal.municipality, initiative_id)
    if initiative is None:
        raise Problem(404, "Initiative not found", f"No initiative {initiative_id}.")
    return Timeline(
        initiative_id=initiative.id,
        status=initiative.status,
        allowed_actions=initiative.actions_allowed(),
        predecessor_id=initiative.predecessor_id,
        successor_ids=initiative.successor_ids,
        entries=sorted(initiative.history, key=lambda entry: entry.at),
    )


Filter = Annotated[str | None, Query(max_length=40)]


@router.get("/initiatives")
async def list_initiatives(
    principal: Annotated[Principal, Depends(may_read)],
    uow: UnitOfWork,
    status: Filter = None,
    neighbourhood: Filter = None,
    initiative_type: Filter = None,
    theme: Filter = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Initiative]:
    """Initiatives of the municipality, filtered by state, neighbourhood, type or theme."""
    async with uow:
        return await uow.initiatives.list(
            principal.municipality,
            status=status,
            neighbourhood=neighbourhood,
            initiative_type=initiative_type,
            theme=theme,
            limit=limit,
            offset=offset,
        )


def _open_record(initiative: Initiative) -> dict[str, Any]:
    """An initiative without anything about persons: no ids of initiators, supporters, staff."""
    values: dict[str, Any] = {
        "id": initiative.id,
        "municipality": initiative.municipality,
        "initiative_type": initiative.initiative_type,
        "title": initiative.title,
        "neighbourhood": initiative.neighbourhood,
        "theme": initiative.theme,
        "status": initiative.status.value,
        "funding_source": initiative.funding_source.value,
        "requested_amount_cents": initiative.requested_amount_cents,
        "budgeted_cents": initiative.budgeted_cents,
        "support_count": initiative.support_count,
        "support_threshold": initiative.support_threshold,
        "submitted_at": _iso(initiative.submitted_at),
        "decided_at": _iso(initiative.decided_at),
        "decision": initiative.decision,
        "disbursed_cents": initiative.disbursed_cents,
        "booked_spending_cents": initiative.booked_spending_cents,
        "spent_cents": initiative.account.spent_cents if initiative.account else None,
        "predecessor_id": initiative.predecessor_id,
    }
    return {name: values[name] for name in OPEN_DATA_FIELDS}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def _published(municipality: str, uow: InitiativesUnitOfWork) -> list[dict[str, Any]]:
    """Open data: submitted initiatives only (drafts are their initiators' business)."""
    async with uow:
        found = await uow.initiatives.list(municipality, limit=100_000)
    return [_open_record(i) for i in found if i.status != "draft"]


@router.get("/open-data/initiatives.json")
async def open_data_json(
    municipality: Annotated[str, Path(pattern=r"^GM\d{4}$")], uow: UnitOfWork
) -> list[dict[str, Any]]:
    """Open data (no token needed): every submitted initiative, without personal data."""
    return await _published(municipality, uow)


@router.get("/open-data/initiatives.csv", response_class=Response)
async def open_data_csv(
    municipality: Annotated[str, Path(pattern=r"^GM\d{4}$")], uow: UnitOfWork
) -> Response:
    """The same open data as CSV."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=OPEN_DATA_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in await _published(municipality, uow):
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="initiatives-{municipality}.csv"'},
    )


# -- neighbourhood reports -----------------------------------------------------------------------


@router.post("/reports", status_code=201)
async def submit_report(
    body: commands.SubmitReport,
    principal: Annotated[Principal, Depends(may_report)],
    uow: UnitOfWork,
) -> Report:
    """A resident reports an observation in the neighbourhood (buurtschouw)."""
    return await run(
        uow,
        handlers.submit_report(
            body, municipality=principal.municipality, reporter_id=principal.subject, uow=uow
        ),
    )


@router.post("/reports/{report_id}/triage")
async def triage_report(
    report_id: ReportId,
    body: commands.TriageReport,
    principal: Annotated[Principal, Depends(may_configure)],
    uow: UnitOfWork,
) -> Report:
    """Turn a report into an initiative, forward it, or close it; the reporter is told why."""
    return await run(
        uow,
        handlers.triage_report(
            body,
            municipality=principal.municipality,
            report_id=report_id,
            by=principal.subject,
            uow=uow,
        ),
    )


@router.get("/reports")
async def list_reports(
    principal: Annotated[Principal, Depends(may_read)],
    uow: UnitOfWork,
    status: Filter = None,
    neighbourhood: Filter = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Report]:
    async with uow:
        return await uow.reports.list(
            principal.municipality,
            status=status,
            neighbourhood=neighbourhood,
            limit=limit,
            offset=offset,
        )


@router.get("/reports/{report_id}")
async def get_report(
    report_id: ReportId, principal: Annotated[Principal, Depends(may_read)], uow: UnitOfWork
) -> Report:
    async with uow:
        report = await uow.reports.get(principal.municipality, report_id)
    if report is None:
        raise Problem(404, "Report not found", f"No report {report_id}.")
    return report
