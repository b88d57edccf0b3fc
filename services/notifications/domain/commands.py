"""What callers and other services' events ask of the notifications service."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.notifications.domain.model import PERSON_ID, Cause, Language

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


class RecordInitiative(Command):
    initiative_id: str
    initiator_id: str
    title: str


class RecordDecision(Command):
    initiative_id: str
    initiator_id: str
    title: str
    decision: str
    reasons: str
    conditions: list[str] = Field(default_factory=list)
    decided_at: datetime


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
