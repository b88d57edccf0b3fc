"""CloudEvents envelope (NL GOV profile) and its Kafka binary-mode binding."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from shared import clock
from shared.contracts.base import EventData
from shared.contracts.registry import EVENT_TYPES

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type", "time", "subject")
Headers = Sequence[tuple[str, bytes]]


class InvalidEvent(ValueError):
    """A record that is not a valid event of our contract; it belongs on a dead-letter topic."""


@dataclass(frozen=True)
class Envelope:
    """CloudEvents context attributes around one event's data."""

    id: str
    source: str
    type: str
    time: datetime
    subject: str
    dataschema: str
    partitionkey: str
    municipality: str
    correlationid: str
    causationid: str | None
    data: EventData

    @classmethod
    def wrap(
        cls,
        data: EventData,
        *,
        source: str,
        correlationid: str | None = None,
        causationid: str | None = None,
        time: datetime | None = None,
    ) -> Envelope:
        event_id = str(uuid.uuid4())
        key = data.aggregate_id()
        return cls(
            id=event_id,
            source=source,
            type=data.event_type(),
            time=time or clock.now(),
            subject=key,
            dataschema=data.schema_uri(),
            partitionkey=key,
            municipality=data.municipality,
            correlationid=correlationid or event_id,
            causationid=causationid,
            data=data,
        )

    def follow_up(self, data: EventData, *, source: str) -> Envelope:
        """An event caused by this one: same correlation, causation pointing here."""
        return Envelope.wrap(
            data, source=source, correlationid=self.correlationid, causationid=self.id
        )

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        attributes = {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "subject": self.subject,
            "dataschema": self.dataschema,
            "partitionkey": self.partitionkey,
            "municipality": self.municipality,
            "correlationid": self.correlationid,
        }
        if self.causationid:
            attributes["causationid"] = self.causationid
        headers = [(f"ce_{name}", value.encode()) for name, value in attributes.items()]
        headers.append(("content-type", CONTENT_TYPE.encode()))
        return headers

    def kafka_value(self) -> bytes:
        return self.data.model_dump_json().encode()


def ce_attributes(headers: Headers) -> dict[str, str]:
    return {
        name[3:]: value.decode("utf-8", "replace")
        for name, value in headers
        if name.startswith("ce_") and value is not None
    }


def parse_record(headers: Headers, value: bytes | None) -> Envelope | None:
    """Decode one Kafka record; ``None`` for an event type this reader does not know.

    Raises :class:`InvalidEvent` with a reason that names the problem.
    """
    attributes = ce_attributes(headers)
    missing = [name for name in REQUIRED_ATTRIBUTES if not attributes.get(name)]
    if missing:
        raise InvalidEvent(f"missing CloudEvents attributes: {', '.join(missing)}")
    if attributes["specversion"] != SPEC_VERSION:
        raise InvalidEvent(f"unsupported specversion {attributes['specversion']!r}")
    model = EVENT_TYPES.get(attributes["type"])
    if model is None:
        return None
    try:
        payload: Any = json.loads(value or b"")
    except ValueError as error:
        raise InvalidEvent(f"data is not JSON: {error}") from error
    try:
        data = model.model_validate(payload)
        time = datetime.fromisoformat(attributes["time"].replace("Z", "+00:00"))
    except (ValidationError, ValueError) as error:
        raise InvalidEvent(f"invalid {attributes['type']}: {error}") from error
    return Envelope(
        id=attributes["id"],
        source=attributes["source"],
        type=attributes["type"],
        time=time,
        subject=attributes["subject"],
        dataschema=attributes.get("dataschema", model.schema_uri()),
        partitionkey=attributes.get("partitionkey", attributes["subject"]),
        municipality=attributes.get("municipality", data.municipality),
        correlationid=attributes.get("correlationid", attributes["id"]),
        causationid=attributes.get("causationid"),
        data=data,
    )
