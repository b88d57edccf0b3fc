"""Who is told what: the recipient rules of the first workflow, free of I/O.

Each rule takes the command built from an event plus the view the service built from earlier
events, and returns the notices to compose. An empty list means nobody needs telling.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.notifications.domain import commands
from services.notifications.domain.model import CouncilMember, InitiativeView, Notice, NoticeKind

REJECTED = "rejected"


def advice_requested(
    command: commands.NotifyAdviceRequested, members: Iterable[CouncilMember]
) -> list[Notice]:
    """Every current member of the council asked for advice, each once."""
    notices: dict[str, Notice] = {}
    for member in members:
        if member.council_id != command.council_id or member.member_id in notices:
            continue
        notices[member.member_id] = Notice(
            kind=NoticeKind.ADVICE_REQUESTED,
            recipient_id=member.member_id,
            facts={
                "request_id": command.request_id,
                "round_id": command.round_id,
                "council_kind": command.council_kind,
                "member_role": member.role,
                "subject_kind": command.subject_kind,
                "subject_id": command.subject_id,
                "title": command.title,
                "deadline": command.deadline,
            },
        )
    return sorted(notices.values(), key=lambda notice: notice.recipient_id)


def needs_decision_first(initiative: InitiativeView | None) -> bool:
    """A budget event can only be told once the decision it follows is known here.

    Budgets' events and initiatives' events travel on different topics, so this service may
    see the allocation before the decision; such a notice waits until the decision arrives.
    """
    return initiative is None or not initiative.decided


def budget_allocated(
    command: commands.NotifyBudgetAllocated, initiative: InitiativeView
) -> list[Notice]:
    """The initiator: approved, on which reasons and conditions, and the amount reserved."""
    return [
        Notice(
            kind=NoticeKind.BUDGET_ALLOCATED,
            recipient_id=initiative.initiator_id,
            facts={
                "initiative_id": initiative.initiative_id,
                "title": initiative.title,
                "reasons": initiative.reasons or "",
                "conditions": list(initiative.conditions),
                "amount_cents": command.amount_cents,
            },
        )
    ]


def allocation_rejected(
    command: commands.NotifyAllocationRejected, initiative: InitiativeView
) -> list[Notice]:
    """The initiator: approved, but the budget falls short, and by how much."""
    return [
        Notice(
            kind=NoticeKind.ALLOCATION_REJECTED,
            recipient_id=initiative.initiator_id,
            facts={
                "initiative_id": initiative.initiative_id,
                "title": initiative.title,
                "requested_cents": command.requested_cents,
                "available_cents": command.available_cents,
                "shortfall_cents": command.shortfall_cents,
                "fund_could_cover": command.fund_could_cover,
            },
        )
    ]


def initiative_decided(command: commands.NotifyInitiativeDecided) -> list[Notice]:
    """A rejection goes to the initiator with its reasons.

    An approval is told once budgets has reserved the money (or could not): one message with
    the whole outcome instead of two within seconds.
    """
    if command.decision != REJECTED:
        return []
    return [
        Notice(
            kind=NoticeKind.INITIATIVE_REJECTED,
            recipient_id=command.initiator_id,
            facts={
                "initiative_id": command.initiative_id,
                "title": command.title,
                "reasons": command.reasons,
            },
        )
    ]
