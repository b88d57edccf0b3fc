"""Contacts, the views built from other services' events, messages and their delivery rules."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PERSON_ID = r"^[A-Za-z0-9_.:-]+$"


class Language(StrEnum):
    DUTCH = "nl"
    ENGLISH = "en"


class Channel(StrEnum):
    EMAIL = "email"


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNDELIVERABLE = "undeliverable"


class NoticeKind(StrEnum):
    """What a message tells; each kind has a template per language."""

    ADVICE_REQUESTED = "advice_requested"
    BUDGET_ALLOCATED = "budget_allocated"
    ALLOCATION_REJECTED = "allocation_rejected"
    INITIATIVE_REJECTED = "initiative_rejected"


class Contact(BaseModel):
    """How to reach one pseudonymous person; the only place their contact details live."""

    municipality: str
    person_id: str
    email: str
    phone: str | None = None
    language: Language = Language.DUTCH
    updated_at: datetime


class CouncilMember(BaseModel):
    """A current member of an advisory council, as advisory's events tell it."""

    municipality: str
    council_id: str
    member_id: str
    role: str
    council_kind: str


class InitiativeView(BaseModel):
    """What notifications knows of an initiative, from initiatives' events only."""

    municipality: str
    initiative_id: str
    initiator_id: str
    title: str
    decision: str | None = None
    reasons: str | None = None
    conditions: list[str] = Field(default_factory=list)
    decided_at: datetime | None = None

    @property
    def decided(self) -> bool:
        return self.decision is not None


class Cause(BaseModel):
    """The event a message tells about: its CloudEvents identity and correlation."""

    model_config = ConfigDict(frozen=True)

    source: str
    event_id: str
    event_type: str
    correlation_id: str


class Notice(BaseModel):
    """One person to be told one thing: the output of the recipient rules."""

    model_config = ConfigDict(frozen=True)

    kind: NoticeKind
    recipient_id: str
    facts: dict[str, Any] = Field(default_factory=dict)


def idempotency_key(cause: Cause, recipient_id: str, channel: Channel) -> str:
    """Deterministic key of (event, recipient, channel): equal inputs, equal key, always.

    CloudEvents ids are unique per source only, so the source is part of the key.
    """
    material = "\x1f".join((cause.source, cause.event_id, recipient_id, channel.value))
    return hashlib.sha256(material.encode()).hexdigest()


def message_id(key: str, domain: str) -> str:
    """The RFC 5322 ``Message-ID`` of a message: a resend carries the same one."""
    return f"<{key}@{domain}>"


class Message(BaseModel):
    """One message to one recipient on one channel, from composing until delivery."""

    id: str
    idempotency_key: str
    municipality: str
    recipient_id: str
    channel: Channel
    kind: NoticeKind
    language: Language
    subject: str
    body: str
    cause: Cause
    status: MessageStatus
    attempts: int = 0
    next_attempt_at: datetime | None = None
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime

    @classmethod
    def compose(
        cls,
        *,
        message_uuid: str,
        municipality: str,
        notice: Notice,
        cause: Cause,
        channel: Channel,
        contact: Contact | None,
        subject: str,
        body: str,
        now: datetime,
    ) -> Message:
        """A message ready to send, or kept as undeliverable when there is no way to reach them.

        Keeping the undeliverable row (instead of dropping it) makes the gap visible: an
        operator can see who could not be told what, and why.
        """
        deliverable = contact is not None
        return cls(
            id=message_uuid,
            idempotency_key=idempotency_key(cause, notice.recipient_id, channel),
            municipality=municipality,
            recipient_id=notice.recipient_id,
            channel=channel,
            kind=notice.kind,
            language=contact.language if contact else Language.DUTCH,
            subject=subject,
            body=body,
            cause=cause,
            status=MessageStatus.PENDING if deliverable else MessageStatus.UNDELIVERABLE,
            next_attempt_at=now if deliverable else None,
            last_error=None if deliverable else "no contact details for this person",
            created_at=now,
        )


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff between delivery attempts; give up after ``max_attempts``."""

    max_attempts: int = 6
    initial_s: float = 30.0
    maximum_s: float = 3600.0

    def next_attempt(self, attempts: int, *, permanent: bool, now: datetime) -> datetime | None:
        """When to try again after ``attempts`` failed attempts; ``None`` means give up."""
        if permanent or attempts >= self.max_attempts:
            return None
        delay = min(self.maximum_s, self.initial_s * 2 ** max(0, attempts - 1))
        return now + timedelta(seconds=delay)
