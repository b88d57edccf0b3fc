"""The whole life of an initiative that needs support, across the four services as separate
processes on the real broker: support until review, advice, decision, reservation, payment,
carrying out, results, account and closing -- and budgets giving back what was not paid."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from kafka import KafkaConsumer

from shared.contracts import budgets, initiatives
from shared.contracts.envelope import Envelope, parse_record
from shared.contracts.registry import TOPICS
from stack.demo_lifecycle import COST_LINES, LifecycleDriver
from stack.local import LocalStack
from stack.seed import seed_demo

PREFIX = "nl.inspraak."


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


def events_on_kafka(
    stack: LocalStack, initiative_id: str, done: Callable[[list[Envelope]], bool]
) -> list[Envelope]:
    """Every event about the initiative on the initiatives and budgets topics (both keyed by
    the initiative), read until ``done`` holds or ten seconds passed."""
    consumer = KafkaConsumer(
        *(f"{stack.namespace}{TOPICS[name]}" for name in ("initiatives", "budgets")),
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
                if record.key != initiative_id.encode():
                    continue
                envelope = parse_record(record.headers, record.value)
                if envelope is not None:
                    found.append(envelope)
            if done(found):
                break
    finally:
        consumer.close()
    return found


def mails_to(stack: LocalStack, person: str, title: str) -> list[str]:
    assert stack.mail is not None
    bodies = []
    for message in stack.mail.messages():
        body = message.get_body(("plain",))
        if message["To"] and person in message["To"] and body is not None:
            text = body.get_content()
            if title in text or title in (message["Subject"] or ""):
                bodies.append(text)
    return bodies


async def test_an_initiative_collects_support_and_goes_all_the_way_to_closed(
    stack: LocalStack,
) -> None:
    started = time.monotonic()
    tokens = await asyncio.to_thread(seed_demo, stack.urls())
    async with httpx.AsyncClient(timeout=10) as client:
        driver = LifecycleDriver(client, stack.urls(), tokens, timeout_s=30)
        life = await driver.run(disburse_cents=80_000, supporter_contacts=3)
        timeline = await driver.call(
            "GET", "initiatives", f"/initiatives/{life.initiative_id}/timeline", tokens["resident"]
        )
        initiative = await driver.initiative(life.initiative_id)

    budgeted = sum(cents for _, cents in COST_LINES)
    assert life.status == "closed"
    assert initiative["support_count"] == len(life.supporters) == 25
    assert initiative["disbursed_cents"] == 80_000
    assert initiative["allowed_actions"] == ["follow_up"]
    statuses = [e["status"] for e in timeline["entries"] if e["kind"] == "transition"]
    assert statuses == [
        "submitted",
        "collecting_support",
        "in_review",
        "ready_for_decision",
        "approved",
        "funded",
        "in_progress",
        "results_reported",
        "accounted",
        "closed",
    ]
    # Budgets' answer to `initiative closed`: what was reserved and not paid goes back.
    assert life.money == {
        "allocated_cents": 80_000,
        "reserved_cents": 0,
        "disbursed_cents": 80_000,
        "spent_cents": life.money["spent_cents"],
        "remaining_cents": 0,
    }

    def complete(events: list[Envelope]) -> bool:
        return any(isinstance(e.data, budgets.FundsReleased) for e in events)

    events = await asyncio.to_thread(events_on_kafka, stack, life.initiative_id, complete)
    kinds = [e.type.removeprefix(PREFIX) for e in events]
    counted = Counter(kinds)
    assert counted["initiatives.support-registered"] == 25, "one event per supporter, once"
    registered = [e.data for e in events if isinstance(e.data, initiatives.SupportRegistered)]
    assert sorted(r.supporter_id for r in registered) == sorted(life.supporters)
    assert [r.support_count for r in registered] == list(range(1, 26)), "in order, per key"
    progress = [e.data for e in events if isinstance(e.data, initiatives.SupportProgress)]
    assert [p.percentage for p in progress] == [33, 66]
    for kind in (
        "initiatives.initiative-submitted",
        "initiatives.initiative-ready-for-review",
        "initiatives.initiative-ready-for-decision",
        "initiatives.initiative-decided",
        "budgets.budget-allocated",
        "budgets.funds-disbursed",
        "initiatives.initiative-results-reported",
        "initiatives.initiative-accounted",
        "initiatives.initiative-closed",
        "budgets.funds-released",
    ):
        assert counted[kind] == 1, f"{kind}: {counted[kind]}"
    order = [k for k in kinds if k.startswith("initiatives.") and "support" not in k]
    assert order == [
        "initiatives.initiative-submitted",
        "initiatives.initiative-ready-for-review",
        "initiatives.initiative-ready-for-decision",
        "initiatives.initiative-decided",
        "initiatives.initiative-results-reported",
        "initiatives.initiative-accounted",
        "initiatives.initiative-closed",
    ]
    [released] = [e for e in events if isinstance(e.data, budgets.FundsReleased)]
    [closed] = [e for e in events if isinstance(e.data, initiatives.InitiativeClosed)]
    assert isinstance(released.data, budgets.FundsReleased)
    assert released.data.amount_cents == budgeted - 80_000
    assert released.data.reason is budgets.ReleaseReason.UNDERSPEND
    assert released.data.still_reserved_cents == 0
    assert released.causationid == closed.id, "budgets released because it closed"

    # Notifications told the council, the budget holder, the initiator and the supporters
    # who left an address (there is no e-mail for starting, results, account or closing).
    assert mails_to(stack, "member-anna", life.title), "the council was asked for advice"
    assert mails_to(stack, "budget-holder-demo", life.title), "ready for decision"
    assert mails_to(stack, "initiator-demo", life.title), "the money was reserved"
    for supporter in life.supporters[:3]:
        assert mails_to(stack, supporter, life.title), f"{supporter} heard of the decision"
    assert not mails_to(stack, life.supporters[3], life.title), "no address, no e-mail"
    assert time.monotonic() - started < 60
