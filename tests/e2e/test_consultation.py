"""A policy consultation across the four services as processes on the real broker: the
neighbourhood council is asked (and e-mailed), it advises with a condition and a minority, a
resident gives input, the municipality answers every point, the participation paragraph holds
every point with its answer, and the resident hears what was done with their input."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kafka import KafkaConsumer

from shared.contracts import advisory
from shared.contracts.envelope import Envelope, parse_record
from shared.contracts.registry import TOPICS
from stack.demo_lifecycle import LifecycleDriver
from stack.local import LocalStack
from stack.seed import COUNCIL_MEMBERS, DEMO_PEOPLE, seed_demo

RESIDENT = DEMO_PEOPLE["resident"]
INPUT = "Graag schaduw bij de speelplaatsen"
ADVICE = ("mits de bewoners meebeslissen", "Laat bewoners per straat kiezen")
MINORITY = "Parkeerplaatsen mogen niet verdwijnen"


@pytest.fixture
def stack(kafka: str, namespace: str, tmp_path: Path) -> Iterator[LocalStack]:
    local = LocalStack(
        tmp_path, namespace=namespace, preferred_ports=False, bootstrap=kafka, partitions=3
    )
    try:
        local.start()
        yield local
    finally:
        local.stop()


def consultation_events(stack: LocalStack, consultation_id: str) -> list[Envelope]:
    """The consultation's events on the advisory topic, read until it was answered (ten s)."""
    consumer = KafkaConsumer(
        f"{stack.namespace}{TOPICS['advisory']}",
        bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=500,
    )
    found: list[Envelope] = []
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            for record in consumer:
                envelope = parse_record(record.headers, record.value)
                if envelope is not None and envelope.subject == consultation_id:
                    found.append(envelope)
            if any(isinstance(e.data, advisory.ConsultationAnswered) for e in found):
                break
    finally:
        consumer.close()
    return found


def subjects_to(stack: LocalStack, person: str) -> list[str]:
    assert stack.mail is not None
    return [str(m["Subject"]) for m in stack.mail.messages() if person in (m["To"] or "")]


async def test_a_consultation_ends_in_a_paragraph_with_every_point_and_its_answer(
    stack: LocalStack,
) -> None:
    tokens = await asyncio.to_thread(seed_demo, stack.urls())
    async with httpx.AsyncClient(timeout=10) as client:
        driver = LifecycleDriver(client, stack.urls(), tokens, timeout_s=30)
        result = await driver.consultation()
        consultation = await driver.call(
            "GET", "advisory", f"/consultations/{result.consultation_id}", tokens["civil_servant"]
        )

    paragraph = result.paragraph
    assert result.title in paragraph
    assert "Wijkraad" in paragraph, "who was involved"
    for said in (*ADVICE, MINORITY, INPUT):
        assert said in paragraph, f"what they said: {said!r}"
    points = consultation["points"]
    assert len(points) == result.points >= 2, "the council's advice and the resident's input"
    for n, point in enumerate(points, start=1):
        assert point["answer"] is not None, "every point is answered"
        assert f"zie paragraaf {n} van de nota" in paragraph, "and the answer is in the paragraph"

    events = await asyncio.to_thread(consultation_events, stack, result.consultation_id)
    kinds = [type(e.data) for e in events]
    assert kinds.count(advisory.ConsultationOpened) == 1
    assert kinds.count(advisory.ConsultationClosed) == 1
    [answered] = [e.data for e in events if isinstance(e.data, advisory.ConsultationAnswered)]
    assert answered.contributor_ids == [RESIDENT], "pseudonymous ids only, each once"

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        council_mail = [s for p in COUNCIL_MEMBERS for s in subjects_to(stack, p)]
        resident_mail = subjects_to(stack, RESIDENT)
        if any(result.title in s for s in council_mail) and any(
            result.title in s for s in resident_mail
        ):
            break
        await asyncio.sleep(0.5)
    assert any(result.title in s for s in council_mail), "the council was asked by e-mail"
    assert any(result.title in s for s in resident_mail), "the resident heard the answer"
