"""The published contract: stable schemas, old payloads still read, no personal data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.contracts.registry import EVENT_TYPES
from stack.contracts import generate

PAYLOADS = Path(__file__).parent / "payloads"
PERSONAL_FIELD_WORDS = (
    "email",
    "e_mail",
    "phone",
    "telefoon",
    "name",
    "naam",
    "address",
    "adres",
    "birth",
    "bsn",
)


def test_generated_contracts_and_readme_sections_match_what_is_committed() -> None:
    stale = [
        str(path)
        for path, text in generate().items()
        if not path.exists() or path.read_text() != text
    ]
    assert stale == [], "run `make contracts` and review the diff: the contract changed"


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_field_of_every_event_is_described(event_type: str) -> None:
    schema = EVENT_TYPES[event_type].model_json_schema()

    def undocumented(properties: dict[str, Any]) -> list[str]:
        return [name for name, spec in properties.items() if not spec.get("description")]

    missing = undocumented(schema["properties"])
    for definition in schema.get("$defs", {}).values():
        missing += undocumented(definition.get("properties", {}))
    assert missing == []


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_events_carry_no_personal_data_fields(event_type: str) -> None:
    fields = EVENT_TYPES[event_type].model_fields
    for name in fields:
        words = name.split("_")
        assert not any(w in PERSONAL_FIELD_WORDS for w in words) or name in {
            "title",
            "council_kind",
        }, f"{event_type}.{name} looks like personal data"


@pytest.mark.parametrize("payload", sorted(PAYLOADS.glob("*.json")), ids=lambda p: p.stem)
def test_payloads_published_under_v1_still_parse(payload: Path) -> None:
    name = payload.stem.rsplit(".v", 1)[0]
    [model] = [m for m in EVENT_TYPES.values() if m.name == name and m.version == 1]
    event = model.model_validate(json.loads(payload.read_text()))
    assert event.municipality == "GM0362"


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_carries_its_municipality_and_key(event_type: str) -> None:
    model = EVENT_TYPES[event_type]
    assert "municipality" in model.model_fields
    assert model.aggregate_field in model.model_fields
    assert event_type.startswith("nl.inspraak.") and event_type == event_type.lower()
