"""Generates the published contract: JSON Schemas and AsyncAPI 3.0 documents in ``contracts/``,
and the README's event catalogue and settings table.

    python -m stack.contracts          # write contracts/
    python -m stack.contracts --check  # exit 1 when contracts/ differs from the code

Each service's AsyncAPI document starts from FastStream's (its subscribers and their
descriptions) and is completed with what FastStream cannot know: the CloudEvents ``ce_*``
headers, the events the outbox relay publishes, the payload of every event type a subscriber
handles, the Kafka key, and the dead-letter topics.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from shared.contracts.base import EventData
from shared.contracts.registry import EVENT_TYPES, EVENTS_BY_PRODUCER, TOPICS
from shared.messaging.dead_letters import dead_letter_topic
from shared.messaging.topology import CONSUMES, consumer_group
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[1] / "contracts"
SERVICES = tuple(CONSUMES)
CE_HEADERS: dict[str, Any] = {
    "type": "object",
    "required": [
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "ce_subject",
        "ce_dataschema",
        "ce_partitionkey",
        "ce_municipality",
        "ce_correlationid",
        "content-type",
    ],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "format": "uuid", "description": "Unique per source."},
        "ce_source": {
            "type": "string",
            "description": "URN of the producing system, e.g. "
            "urn:nld:oin:<OIN>:systeem:inspraak-initiatives or "
            "urn:nld:gemeente-GM0362:systeem:inspraak-initiatives.",
        },
        "ce_type": {"type": "string", "description": "nl.inspraak.<service>.<event>"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "Id of the aggregate (= Kafka key)."},
        "ce_dataschema": {"type": "string", "format": "uri"},
        "ce_partitionkey": {"type": "string", "description": "The Kafka key."},
        "ce_municipality": {"type": "string", "pattern": r"^GM\d{4}$"},
        "ce_correlationid": {"type": "string", "description": "Id of the flow's first event."},
        "ce_causationid": {"type": "string", "description": "Id of the event that caused it."},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {"type": "string", "description": "W3C trace context."},
    },
}
DLQ_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "The original record's headers, plus these.",
    "properties": {
        f"dlq_{name}": {"type": "string"}
        for name in (
            "reason",
            "original_topic",
            "original_partition",
            "original_offset",
            "consumer_group",
            "failed_at",
        )
    },
}


def schema_file(model: type[EventData]) -> Path:
    return ROOT / "schemas" / model.producer / f"{model.name}.v{model.version}.schema.json"


def json_schema(model: type[EventData]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": model.schema_uri(),
        "title": model.event_type(),
        **{k: v for k, v in schema.items() if k != "title"},
    }


def _message_name(model: type[EventData]) -> str:
    return f"{model.producer}.{model.name}.v{model.version}"


def _message(model: type[EventData]) -> dict[str, Any]:
    return {
        "name": model.event_type(),
        "title": model.__name__,
        "summary": (model.__doc__ or model.__name__).strip().splitlines()[0],
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/CloudEventsHeaders"},
        "payload": {"$ref": f"../{schema_file(model).relative_to(ROOT)}"},
        "correlationId": {"location": "$message.header#/ce_correlationid"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"The {model.aggregate_field}."},
                "bindingVersion": "0.5.0",
            }
        },
    }


def asyncapi(service: str) -> dict[str, Any]:
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    settings_module = importlib.import_module(f"services.{service}.settings")
    settings_class = next(
        v
        for k, v in vars(settings_module).items()
        if k.endswith("Settings") and k != "ServiceSettings"
    )
    settings: ServiceSettings = settings_class(environment="development")
    runtime = bootstrap.bootstrap(settings)
    base = (
        AsyncAPI(
            runtime.broker, schema_version="3.0.0", title=f"Inspraak {service}", version="1.0.0"
        )
        .to_specification()
        .to_jsonable()
    )
    routes = importlib.import_module(f"services.{service}.entrypoints.consumers").routes
    handled = [EVENT_TYPES[t] for t in routes.handlers]
    published = EVENTS_BY_PRODUCER[service]
    subscriber_channels: list[dict[str, Any]] = list(base["channels"].values())
    receive_description = (
        subscriber_channels[0].get("description", "") if subscriber_channels else ""
    )
    group = consumer_group(service)
    own_topic = TOPICS[service]

    messages = {_message_name(m): _message(m) for m in (*published, *handled)}
    channels: dict[str, Any] = {
        own_topic: {
            "address": own_topic,
            "description": f"Every event the {service} service publishes (through its outbox).",
            "messages": {
                _message_name(m): {"$ref": f"#/components/messages/{_message_name(m)}"}
                for m in published
            },
            "bindings": {"kafka": {"topic": own_topic, "bindingVersion": "0.5.0"}},
        },
    }
    operations: dict[str, Any] = {
        f"publish-{service}-events": {
            "action": "send",
            "channel": {"$ref": f"#/channels/{own_topic}"},
            "summary": "Published by the outbox relay, at least once, in order per key.",
        },
    }
    for producer in CONSUMES[service]:
        topic = TOPICS[producer]
        mine = [m for m in handled if m.producer == producer]
        channels[topic] = {
            "address": topic,
            "description": receive_description,
            "messages": {
                _message_name(m): {"$ref": f"#/components/messages/{_message_name(m)}"}
                for m in mine
            },
            "bindings": {"kafka": {"topic": topic, "bindingVersion": "0.5.0"}},
        }
        operations[f"consume-{producer}-events"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{topic}"},
            "summary": f"Consumer group {group}; other event types on the topic are ignored.",
            "bindings": {
                "kafka": {"groupId": {"type": "string", "const": group}, "bindingVersion": "0.5.0"}
            },
        }
        dlq = dead_letter_topic(topic, group)
        channels[dlq] = {
            "address": dlq,
            "description": "Events this service could never apply, with the reason.",
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
        }
        operations[f"dead-letter-{producer}-events"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{dlq}"},
        }
    messages["DeadLetter"] = {
        "name": "dead-letter",
        "contentType": "application/json",
        "summary": "The original record, unchanged, with dlq_* headers.",
        "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            **base["info"],
            "description": (
                f"Kafka interface of the Inspraak {service} service. Events are CloudEvents 1.0 "
                "(NL GOV profile) in Kafka binary mode: attributes in ce_* headers, JSON data as "
                "the value, the aggregate id as the key."
            ),
        },
        "defaultContentType": "application/json",
        "servers": base["servers"],
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": {"CloudEventsHeaders": CE_HEADERS, "DeadLetterHeaders": DLQ_HEADERS},
        },
    }


def generate() -> dict[Path, str]:
    files: dict[Path, str] = {}
    for model in EVENT_TYPES.values():
        files[schema_file(model)] = json.dumps(json_schema(model), indent=2, sort_keys=True) + "\n"
    for service in SERVICES:
        document = asyncapi(service)
        files[ROOT / "asyncapi" / f"{service}.json"] = json.dumps(document, indent=2) + "\n"
    files[README] = readme_with_generated_sections(README.read_text())
    return files


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.contracts")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    files = generate()
    drift = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    if args.check:
        for path in drift:
            print(f"out of date: {path.relative_to(ROOT.parent)} (run `make contracts`)")
        return 1 if drift else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"wrote {len(files)} files, {len(drift)} changed")
    return 0


CATALOGUE_MARKERS = ("<!-- event-catalogue:start -->", "<!-- event-catalogue:end -->")
SETTINGS_MARKERS = ("<!-- settings:start -->", "<!-- settings:end -->")
README = ROOT.parent / "README.md"


def _consumers_of(event_type: str) -> list[str]:
    return [
        service
        for service in SERVICES
        if event_type
        in importlib.import_module(f"services.{service}.entrypoints.consumers").routes.handlers
    ]


def event_catalogue() -> str:
    lines = [
        "| Event (`ce_type`) | Topic | Key | Consumed by | What it means |",
        "|---|---|---|---|---|",
    ]
    for model in EVENT_TYPES.values():
        summary = " ".join((model.__doc__ or "").split())
        consumers = ", ".join(_consumers_of(model.event_type())) or "—"
        lines.append(
            f"| `{model.event_type()}` | `{model.topic()}` | {model.aggregate_field} "
            f"| {consumers} | {summary} |"
        )
    return "\n".join(lines)


def _settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    return next(
        v for k, v in vars(module).items() if k.endswith("Settings") and k != "ServiceSettings"
    )


def _default(value: Any) -> str:
    if value in (None, "", {}):
        return ""
    return f"`{json.dumps(value) if isinstance(value, dict) else value}`"


def settings_table() -> str:
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for field in ServiceSettings.model_fields.values():
        if field.validation_alias is not None:
            variable = field.validation_alias.choices[0]  # type: ignore[union-attr]
            default = field.default.value if hasattr(field.default, "value") else field.default
            lines.append(f"| `{variable}` | {_default(default)} | {field.description or ''} |")
    for service in SERVICES:
        settings_class = _settings_class(service)
        prefix = settings_class.model_config.get("env_prefix", "")
        for name, field in settings_class.model_fields.items():
            if field.validation_alias is not None or name == "service_name":
                continue
            base = ServiceSettings.model_fields.get(name)
            description = field.description or (base.description if base else "") or ""
            lines.append(
                f"| `{prefix}{name.upper()}` | {_default(field.default)} | {description} |"
            )
    return "\n".join(lines)


def readme_with_generated_sections(text: str) -> str:
    for (start, end), body in (
        (CATALOGUE_MARKERS, event_catalogue()),
        (SETTINGS_MARKERS, settings_table()),
    ):
        head, found, rest = text.partition(start)
        if not found:
            raise ValueError(f"README.md lacks the marker {start}")
        _, found, tail = rest.partition(end)
        text = f"{head}{start}\n{body}\n{end}{tail}"
    return text


if __name__ == "__main__":
    sys.exit(main())
