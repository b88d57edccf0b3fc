"""What callers and other services' events ask of the notifications service."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.notifications.domain.model import (
    PERSON_ID,
    Audience,
    Category,
    Cause,
    ContentMode,
    FollowTarget,
    Frequency,
    Language,
    NoticeKind,
    QuietHours,
)

# Deliberately loose: the mail server is the judge of an address; this catches typos only.
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE = r"^\+?[0-9][0-9 ()-]{5,30}$"


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SaveContact(Command):
    email: str = Field(pattern=EMAIL, max_length=254, description="E-mail address.")
    phone: str | None = Field(
        default=None, pattern=PHONE, description="Phone number, e.g. +31 6 12345678."
    )
    language: Language = Field(default=Language.DUTCH, description="Language of messages.")


class RecordCouncilMember(Command):
    council_id: str
    member_id: str = Field(pattern=PERSON_ID, max_length=64)
    role: str
    council_kind: str


class RemoveCouncilMember(Command):
    council_id: str
    member_id: str


class SavePreferences(Command):
    """How often a person hears per category, whether by SMS too, and their quiet hours."""

    frequencies: dict[Category, Frequency] = Field(
        default_factory=dict, description="Per category; a category left out is 'immediately'."
    )
    sms: bool = Field(default=False, description="Also send what is immediate by SMS.")
    quiet_hours: QuietHours | None = Field(
        default=None, description="No e-mail or SMS in these local hours; they wait."
    )


class SaveBudgetHolder(Command):
    neighbourhoods: list[str] = Field(
        default_factory=list,
        description="CBS neighbourhood codes this budget holder decides for; empty: all.",
    )


class SaveRule(Command):
    event_type: str = Field(min_length=1, max_length=255, description="CloudEvents type.")
    audience: Audience = Field(description="Who is told.")
    notice: NoticeKind = Field(description="What they are told.")
    condition: dict[str, str] = Field(
        default_factory=dict, description="Facts the event must have, e.g. decision=rejected."
    )
    enabled: bool = Field(default=True, description="False switches the default off.")


class CreateWebhookSubscription(Command):
    callback_url: str = Field(
        pattern=r"^https?://", max_length=1000, description="Where events are POSTed."
    )
    auth: str | None = Field(
        default=None, max_length=1000, description="Sent as the Authorization header."
    )
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="HMAC-SHA256 key of the signature; generated when left out.",
    )
    content_mode: ContentMode = Field(
        default=ContentMode.STRUCTURED, description="CloudEvents HTTP content mode."
    )
    event_types: list[str] = Field(default_factory=list, description="Types; empty: all.")
    neighbourhoods: list[str] = Field(
        default_factory=list, description="CBS neighbourhood codes; empty: all."
    )
    owner_id: str | None = Field(
        default=None,
        pattern=PERSON_ID,
        max_length=64,
        description="Who is told when it is suspended; defaults to the caller.",
    )


class RecordInitiative(Command):
    initiative_id: str
    initiator_id: str
    title: str
    neighbourhood: str | None = None


class RecordSupport(Command):
    initiative_id: str
    supporter_id: str
    supported: bool


class RecordDecision(Command):
    initiative_id: str
    initiator_id: str
    title: str
    decision: str
    reasons: str
    conditions: list[str] = Field(default_factory=list)
    decided_at: datetime
    neighbourhood: str | None = None


class Notify(Command):
    """A command to tell people about an event; ``cause`` identifies that event."""

    cause: Cause


class NotifyAdviceRequested(Notify):
    request_id: str
    round_id: str
    council_id: str
    council_kind: str
    subject_kind: str
    subject_id: str
    title: str
    deadline: datetime


class NotifyBudgetAllocated(Notify):
    initiative_id: str
    budget_id: str
    amount_cents: int
    # Optional: commands parked before these existed must still load.
    neighbourhood: str | None = None
    available_after_cents: int | None = None


class NotifyAllocationRejected(Notify):
    initiative_id: str
    requested_cents: int
    available_cents: int
    shortfall_cents: int
    fund_could_cover: bool
    reason: str


class NotifyInitiativeDecided(Notify):
    initiative_id: str
    initiator_id: str
    title: str
    decision: str
    reasons: str
    conditions: list[str] = Field(default_factory=list)


class NotifyAdviceOverdue(Notify):
    request_id: str
    round_id: str
    council_id: str
    subject_kind: str
    subject_id: str
    deadline: datetime
    escalate_to: list[str] = Field(default_factory=list)


class NotifyAdviceDeadlineApproaching(Notify):
    request_id: str
    round_id: str
    council_id: str
    subject_kind: str
    subject_id: str
    deadline: datetime
    days_before: int


class NotifyAdviceRoundCompleted(Notify):
    round_id: str
    subject_kind: str
    subject_id: str
    closed_after_escalation: bool
    silent_councils: list[str]


class NotifyReadyForDecision(Notify):
    initiative_id: str
    advice_positions: list[str]
    requested_amount_cents: int


class NotifyInitiativeChanged(Notify):
    """An initiative changed state (or passed a milestone): its initiator and supporters hear.

    ``facts`` are the event's own, for the templates; title and initiator come from the view
    this service keeps, for events that do not carry them.
    """

    initiative_id: str
    initiator_id: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)


class NotifyReportHandled(Notify):
    report_id: str
    reporter_id: str
    neighbourhood: str
    outcome: str
    reason: str
    forwarded_to: str | None = None
    initiative_id: str | None = None


class NotifyMoneyMoved(Notify):
    """Money of a budget moved for an initiative: who follows the budget (or area) hears."""

    initiative_id: str
    budget_id: str
    neighbourhood: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)


class NotifyRoundChanged(Notify):
    """A neighbourhood budgeting round moved on or published results."""

    round_id: str
    neighbourhood: str
    facts: dict[str, Any] = Field(default_factory=dict)


class NotifyAlternativeBudget(Notify):
    """An alternative budget was submitted to the municipal council, decided on by it, or
    withdrawn by its drafter.

    ``facts`` are the event's own, for the templates; which step it is, is the cause's type.
    """

    alternative_budget_id: str
    budget_id: str
    neighbourhood: str
    drafter_id: str
    co_signer_ids: list[str] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)


class RecordConsultation(Command):
    """What notifications keeps of a policy consultation: whom to tell when it is answered."""

    consultation_id: str
    title: str
    link: str
    council_ids: list[str] = Field(default_factory=list)


class NotifyConsultationAnswered(Notify):
    consultation_id: str
    answered_at: datetime
    adopted: int
    partly_adopted: int
    not_adopted: int
    # Residents who gave input, as the event names them; empty in events from before it did.
    contributor_ids: list[str] = Field(default_factory=list)


NEIGHBOURHOOD_CODE = r"^BU\d{8}$"


class FollowCommand(Command):
    """Follow (or stop following) a neighbourhood or a budget."""

    target: FollowTarget
    target_id: str = Field(min_length=1, max_length=64, pattern=PERSON_ID)

    @model_validator(mode="after")
    def _neighbourhood_is_a_cbs_code(self) -> FollowCommand:
        # Events name neighbourhoods by CBS code: anything else would never match one.
        if self.target is FollowTarget.NEIGHBOURHOOD and not re.match(
            NEIGHBOURHOOD_CODE, self.target_id
        ):
            raise ValueError(
                f"{self.target_id!r} is not a CBS neighbourhood code (BU followed by 8 digits)."
            )
        return self
