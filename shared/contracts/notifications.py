"""Events the notifications service publishes on ``notifications.events.v1``."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.contracts.base import AwareDatetime, EventData, PseudonymousId


class PersonErased(EventData):
    """A person's contact details were erased on request; erase what you hold too."""

    name: ClassVar[str] = "person-erased"
    producer: ClassVar[str] = "notifications"
    aggregate_field: ClassVar[str] = "person_id"

    person_id: PseudonymousId
    erased_at: AwareDatetime = Field(description="When the contact details were erased.")


class MessageDelivered(EventData):
    """A person was told about an event on a channel."""

    name: ClassVar[str] = "message-delivered"
    producer: ClassVar[str] = "notifications"
    aggregate_field: ClassVar[str] = "recipient_id"

    recipient_id: PseudonymousId
    channel: str = Field(description="The channel used: email, sms, feed or webhook.")
    cause_event_id: str = Field(description="The CloudEvents id of the event that was told.")
    cause_event_type: str = Field(description="The CloudEvents type of that event.")
    message_key: str | None = Field(
        default=None,
        description="Idempotency key of the message, derived from (event, recipient, channel); "
        "the e-mail Message-ID carries it.",
    )
    notice: str | None = Field(
        default=None, description="What the person was told, e.g. advice_requested or digest."
    )


class MessageFailed(EventData):
    """A person could not be told about an event on a channel, after every attempt."""

    name: ClassVar[str] = "message-failed"
    producer: ClassVar[str] = "notifications"
    aggregate_field: ClassVar[str] = "recipient_id"

    recipient_id: PseudonymousId
    channel: str = Field(description="The channel that failed: email or sms.")
    cause_event_id: str = Field(description="The CloudEvents id of the event to be told.")
    cause_event_type: str = Field(description="The CloudEvents type of that event.")
    message_key: str = Field(
        description="Idempotency key of the message, derived from (event, recipient, channel)."
    )
    notice: str = Field(description="What the person was to be told, e.g. advice_requested.")
    attempts: int = Field(ge=1, description="Delivery attempts made before giving up.")
    reason: str = Field(
        description="The last error, e.g. an SMTP reply code; never contact details."
    )


EVENTS: tuple[type[EventData], ...] = (PersonErased, MessageDelivered, MessageFailed)
