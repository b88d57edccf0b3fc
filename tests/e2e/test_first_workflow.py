"""The first workflow across the four services, each a separate process, on the real broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from stack.flow import FlowDriver, tells_outcome
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


def _mails_to(stack: LocalStack, person: str, *, outcome_only: bool = False) -> list[str]:
    assert stack.mail is not None
    return [
        m.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for m in stack.mail.messages()
        if m["To"] and person in m["To"] and (tells_outcome(m) or not outcome_only)
    ]


async def test_an_initiative_goes_from_submission_to_the_initiators_email(
    stack: LocalStack, tmp_path: Path
) -> None:
    tokens = await asyncio.to_thread(seed_demo, stack.urls())

    async def initiator_mail(title: str) -> bool:
        return any(title in body for body in _mails_to(stack, "resident-demo", outcome_only=True))

    async with httpx.AsyncClient(timeout=10) as client:
        driver = FlowDriver(client, stack.urls(), tokens, initiator_mail, traceparent=TRACEPARENT)
        approved = await driver.run(amount_cents=120_000)
        short = await driver.run(amount_cents=2_450_000)

    assert approved.status == "funded"
    assert short.status == "awaiting_funds"
    council_mails = _mails_to(stack, "member-anna")
    assert any(approved.title in body for body in council_mails), "the council was asked"
    outcomes = _mails_to(stack, "resident-demo", outcome_only=True)
    [funded_mail] = [b for b in outcomes if approved.title in b]
    assert "1.200,00" in funded_mail
    [short_mail] = [b for b in outcomes if short.title in b]
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
    assert "send email" in names, "the trace reaches the e-mails"

    await asyncio.to_thread(_trouble, stack)
    await _assert_metrics(stack)


def _spans(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _trouble(stack: LocalStack) -> None:
    """A redelivered event and a record nobody can parse, for the series that count those."""
    from kafka import KafkaConsumer, KafkaProducer

    topic = f"{stack.namespace}initiatives.events.v1"
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"],
        auto_offset_reset="earliest",
        consumer_timeout_ms=2000,
    )
    again = {}
    for record in consumer:  # one event each consumer applies: advisory, budgets, notifications
        kind = dict(record.headers)["ce_type"].rsplit(b".", 1)[-1]
        if kind in (b"initiative-ready-for-review", b"initiative-decided"):
            again.setdefault(kind, record)
    consumer.close()
    producer = KafkaProducer(bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"])
    for record in again.values():
        producer.send(topic, key=record.key, value=record.value, headers=record.headers).get(30)
    producer.send(
        topic,
        key=b"x",
        value=b"{}",
        headers=[("ce_type", b"nl.inspraak.initiatives.initiative-submitted")],
    ).get(30)
    producer.close()


# Every series the README names; `inspraak_events_failed_total` counts trouble and stays at
# zero while nothing fails, the gauges read zero once everything is caught up.
COUNTERS = {
    "inspraak_events_consumed_total",
    "inspraak_events_published_total",
    "inspraak_http_requests_total",
    "inspraak_consume_batch_seconds_count",
}
GAUGES = {"inspraak_outbox_backlog", "inspraak_consumer_lag"}


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
            consumers = [values[s] for s in ("advisory", "budgets", "notifications")]
            if all(v.get("inspraak_events_dead_lettered_total", 0) for v in consumers) and all(
                v.get("inspraak_events_duplicate_total", 0) for v in consumers
            ):
                break
            await asyncio.sleep(0.1)
    for service, samples in values.items():
        for series in COUNTERS:
            assert samples.get(series, 0) > 0, f"{service} {series}"
        for series in GAUGES:
            assert series in samples, f"{service} {series}"
    for service in ("advisory", "budgets", "notifications"):
        assert values[service].get("inspraak_events_dead_lettered_total", 0) > 0, service
        assert values[service].get("inspraak_events_duplicate_total", 0) > 0, service
    assert values["notifications"].get("inspraak_messages_dispatched_total", 0) > 0
