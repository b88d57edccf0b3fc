"""The first workflow across the four services, each a separate process, on the real broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from stack.flow import FlowDriver
from stack.local import SERVICES, LocalStack
from stack.seed import seed_demo

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def stack(kafka: str, namespace: str, tmp_path: Path) -> Iterator[LocalStack]:
    local = LocalStack(
        tmp_path,
        namespace=namespace,
        preferred_ports=False,
        bootstrap=kafka,
        partitions=3,
        extra_env={"OTEL_TRACES_FILE": str(tmp_path / "spans-{service}.jsonl")},
    )
    try:
        local.start()
        yield local
    finally:
        local.stop()


def _mails_to(stack: LocalStack, person: str) -> list[str]:
    assert stack.mail is not None
    return [
        m.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for m in stack.mail.messages()
        if m["To"] and person in m["To"]
    ]


async def test_an_initiative_goes_from_submission_to_the_initiators_email(
    stack: LocalStack, tmp_path: Path
) -> None:
    tokens = await asyncio.to_thread(seed_demo, stack.urls())

    async def initiator_mail(title: str) -> bool:
        return any(title in body for body in _mails_to(stack, "resident-demo"))

    async with httpx.AsyncClient(timeout=10) as client:
        driver = FlowDriver(client, stack.urls(), tokens, initiator_mail, traceparent=TRACEPARENT)
        approved = await driver.run(amount_cents=120_000)
        short = await driver.run(amount_cents=2_450_000)

    assert approved.status == "funded"
    assert short.status == "awaiting_funds"
    council_mails = _mails_to(stack, "member-anna")
    assert any(approved.title in body for body in council_mails), "the council was asked"
    [funded_mail] = [b for b in _mails_to(stack, "resident-demo") if approved.title in b]
    assert "1.200,00" in funded_mail
    [short_mail] = [b for b in _mails_to(stack, "resident-demo") if short.title in b]
    assert "700,00" in short_mail, "the e-mail says by how much the budget is short"

    spans = {service: _spans(tmp_path / f"spans-{service}.jsonl") for service in SERVICES}
    for service, found in spans.items():
        assert any(s["context"]["trace_id"] == f"0x{TRACE_ID}" for s in found), service
    names = [
        s["name"]
        for found in spans.values()
        for s in found
        if s["context"]["trace_id"] == f"0x{TRACE_ID}"
    ]
    assert any(name.startswith("publish ") for name in names), "relay hops are in the trace"
    assert any(name.startswith("process ") for name in names)

    await asyncio.to_thread(_dead_letter_one, stack)
    await _assert_metrics(stack)


def _spans(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _dead_letter_one(stack: LocalStack) -> None:
    """A record no consumer can parse, so the dead-letter series has something to count."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"])
    producer.send(
        f"{stack.namespace}initiatives.events.v1",
        key=b"x",
        value=b"{}",
        headers=[("ce_type", b"nl.inspraak.initiatives.initiative-submitted")],
    ).get(30)
    producer.close()


NAMED_SERIES = {
    "inspraak_events_consumed_total",
    "inspraak_events_published_total",
    "inspraak_http_requests_total",
    "inspraak_outbox_backlog",
    "inspraak_consumer_lag",
}


async def _assert_metrics(stack: LocalStack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(100):
            values = {}
            for name, url in stack.urls().items():
                text = (await client.get(f"{url}/metrics")).text
                values[name] = {
                    sample.name: sample.value
                    for family in text_string_to_metric_families(text)
                    for sample in family.samples
                }
            dead = sum(v.get("inspraak_events_dead_lettered_total", 0) for v in values.values())
            if dead:
                break
            await asyncio.sleep(0.1)
    for service, samples in values.items():
        for series in NAMED_SERIES - {"inspraak_outbox_backlog", "inspraak_consumer_lag"}:
            assert samples.get(series, 0) > 0, f"{service} {series}"
        assert "inspraak_outbox_backlog" in samples, service
        assert "inspraak_consumer_lag" in samples, service
    assert dead > 0
    assert values["notifications"].get("inspraak_messages_dispatched_total", 0) > 0
