"""A council that lets its deadline pass, across the four services as separate processes on the
real broker: a reminder before the deadline, `advice overdue` with escalation, the round closed
by a civil servant after escalation, and the initiative ready for decision with the advice that
did come.

The stack runs with a development clock file (``INSPRAAK_CLOCK_FILE``): the test lets days pass
by writing a larger offset, and from there on everything is the services' own work -- their
timer wheels find the reminder and the deadline due, Kafka carries the events. Nothing reaches
into a service's database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from kafka import KafkaConsumer

from shared.contracts import advisory, initiatives
from shared.contracts.envelope import Envelope, parse_record
from shared.contracts.registry import TOPICS
from stack.demo_lifecycle import LifecycleDriver
from stack.local import LocalStack
from stack.seed import DEMO_TYPE, seed_demo

SLOW_COUNCIL = {
    "name": "Bewonerscommissie Centrum-Oost",
    "kind": "neighbourhood_council",
    "neighbourhoods": ["BU03620001"],
    "advice_days": 3,
    "working_days": False,
    "reminder_days": [1],  # 09:00 Amsterdam time, the day before the deadline's day
}
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SLOW_OFFICERS = {"member-fleur": "chair", "member-gijs": "secretary", "member-hanna": "member"}


@pytest.fixture
def stack(kafka: str, namespace: str, tmp_path: Path) -> Iterator[LocalStack]:
    local = LocalStack(
        tmp_path,
        namespace=namespace,
        preferred_ports=False,
        bootstrap=kafka,
        partitions=3,
        clock_file=tmp_path / "clock",
    )
    try:
        local.start()
        yield local
    finally:
        local.stop()


def advisory_events(
    stack: LocalStack, round_id: str, done: Callable[[list[Envelope]], bool]
) -> list[Envelope]:
    """The round's events on the advisory topic, read until ``done`` holds (ten seconds)."""
    consumer = KafkaConsumer(
        f"{stack.namespace}{TOPICS['advisory']}",
        bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=500,
    )
    deadline = time.monotonic() + 10
    found: list[Envelope] = []
    try:
        while time.monotonic() < deadline:
            for record in consumer:
                envelope = parse_record(record.headers, record.value)
                if envelope is not None and getattr(envelope.data, "round_id", None) == round_id:
                    found.append(envelope)
            if done(found):
                break
    finally:
        consumer.close()
    return found


def let_time_pass(stack: LocalStack, until: datetime) -> None:
    """Move every service's clock to just past ``until``: as if the days had gone by."""
    stack.move_clock(until - datetime.now(UTC) + timedelta(seconds=2))


def reminder_moment(deadline: datetime, days_before: int) -> datetime:
    """09:00 Amsterdam time, ``days_before`` calendar days before the deadline's day."""
    day: date = deadline.astimezone(AMSTERDAM).date() - timedelta(days=days_before)
    return datetime(day.year, day.month, day.day, 9, tzinfo=AMSTERDAM)


def mails_to(stack: LocalStack, person: str) -> list[str]:
    assert stack.mail is not None
    return [
        f"{m['Subject']}\n{body.get_content()}"
        for m in stack.mail.messages()
        if m["To"] and person in m["To"] and (body := m.get_body(("plain",))) is not None
    ]


async def test_a_council_is_reminded_then_escalated_when_its_deadline_passes_and_the_round_closed(
    stack: LocalStack,
) -> None:
    tokens = await asyncio.to_thread(seed_demo, stack.urls())
    async with httpx.AsyncClient(timeout=10) as client:
        driver = LifecycleDriver(client, stack.urls(), tokens, timeout_s=30)
        official = tokens["civil_servant"]
        slow = await driver.call("POST", "advisory", "/councils", official, json=SLOW_COUNCIL)
        for person, role in SLOW_OFFICERS.items():
            await driver.call(
                "POST",
                "advisory",
                f"/councils/{slow['id']}/members",
                official,
                json={"person_id": person, "role": role},
            )
            await driver.call(
                "PUT",
                "notifications",
                f"/contacts/{person}",
                official,
                json={"email": f"{person}@example.org", "language": "nl"},
            )

        title = "Moestuin achter het buurthuis"
        initiative = await driver.call(
            "POST",
            "initiatives",
            "/initiatives",
            tokens["resident"],
            json={
                "initiative_type": DEMO_TYPE,
                "title": title,
                "description": "Een moestuin voor de buurt, onderhouden door vrijwilligers.",
                "neighbourhood": "BU03620001",
                "theme": "groen",
                "requested_amount_cents": 150_000,
            },
        )
        initiative_id = initiative["id"]
        advice_round = await driver.advice_round(initiative_id)
        round_id = advice_round["id"]
        by_council = {r["council_id"]: r for r in advice_round["requests"]}
        assert slow["id"] in by_council and len(by_council) == 2, "both councils of the area"
        slow_request = by_council.pop(slow["id"])
        [wijkraad_request] = by_council.values()
        deadline = datetime.fromisoformat(slow_request["deadline"])
        reminder = reminder_moment(deadline, 1)
        assert datetime.now(UTC) < reminder < deadline

        await driver.advise(advice_round, wijkraad_request, "Goed idee, mits de buren meedoen.")
        refused = await client.post(
            f"{stack.urls()['advisory']}/v1/municipalities/GM0362/advice-rounds/{round_id}/close",
            headers={"Authorization": f"Bearer {official}"},
            json={"reason": "Te vroeg."},
        )
        assert refused.status_code == 409, "a council within its period keeps its chance"
        assert slow["id"] in refused.json()["detail"]

        # The day before the deadline's day, 09:00: the silent council is reminded, not more.
        await asyncio.to_thread(let_time_pass, stack, reminder)

        def reminded(events: list[Envelope]) -> bool:
            return any(isinstance(e.data, advisory.AdviceDeadlineApproaching) for e in events)

        events = await asyncio.to_thread(advisory_events, stack, round_id, reminded)
        [approaching] = [
            e for e in events if isinstance(e.data, advisory.AdviceDeadlineApproaching)
        ]
        assert isinstance(approaching.data, advisory.AdviceDeadlineApproaching)
        assert (approaching.data.council_id, approaching.data.days_before) == (slow["id"], 1)
        assert approaching.data.deadline == deadline
        assert reminder <= approaching.time < deadline, "stamped with the services' moved clock"
        assert not any(isinstance(e.data, advisory.AdviceOverdue) for e in events)
        still_open = await driver.call("GET", "advisory", f"/advice-rounds/{round_id}", official)
        assert [r["status"] for r in still_open["requests"] if r["id"] == slow_request["id"]] == [
            "open"
        ]

        # The deadline passes: the council is overdue, escalated to its chair and secretary.
        await asyncio.to_thread(let_time_pass, stack, deadline)

        async def overdue() -> dict[str, Any] | None:
            current = await driver.call("GET", "advisory", f"/advice-rounds/{round_id}", official)
            [request] = [r for r in current["requests"] if r["id"] == slow_request["id"]]
            return current if request["status"] == "overdue" else None

        await driver.until("the timer to find the council overdue", overdue)
        assert (await driver.initiative(initiative_id))["status"] == "in_review"
        closed = await driver.call(
            "POST",
            "advisory",
            f"/advice-rounds/{round_id}/close",
            official,
            json={"reason": "De bewonerscommissie reageert niet, ook niet na escalatie."},
        )
        assert closed["status"] == "completed"
        ready = await driver.status_becomes(initiative_id, "ready_for_decision")
        timeline = await driver.call(
            "GET", "initiatives", f"/initiatives/{initiative_id}/timeline", tokens["resident"]
        )

    def settled(events: list[Envelope]) -> bool:
        return any(isinstance(e.data, advisory.AdviceRoundCompleted) for e in events)

    events = await asyncio.to_thread(advisory_events, stack, round_id, settled)
    [reminder_event] = [e for e in events if isinstance(e.data, advisory.AdviceDeadlineApproaching)]
    assert reminder_event.id == approaching.id, "reminded once"
    [late] = [e.data for e in events if isinstance(e.data, advisory.AdviceOverdue)]
    assert late.council_id == slow["id"]
    assert late.deadline == deadline
    assert sorted(late.escalate_to) == ["member-fleur", "member-gijs"], "chair and secretary"
    [completed] = [e for e in events if isinstance(e.data, advisory.AdviceRoundCompleted)]
    assert isinstance(completed.data, advisory.AdviceRoundCompleted)
    assert completed.data.closed_after_escalation
    assert completed.data.closed_by == "civil-servant-demo"
    assert completed.time > deadline, "closed on the services' clock, after the deadline"
    positions = {a.council_id: a.position for a in completed.data.advice}
    assert positions == {wijkraad_request["council_id"]: "conditional", slow["id"]: None}
    assert ready["status"] == "ready_for_decision"
    assert any(e["status"] == "ready_for_decision" for e in timeline["entries"])

    ready_events = await asyncio.to_thread(_ready_for_decision, stack, initiative_id)
    # Once, with the advice that came and "none" for the council that stayed silent.
    assert [sorted(e.advice_positions) for e in ready_events] == [["conditional", "none"]]

    # The late council hears it: its plain member the overdue reminder, its chair and secretary
    # (who are escalated to) mail about the initiative beyond the request for advice. Which
    # notice the officers get is the notifications service's rules, not this flow's concern.
    late_subject = f'het advies over "{title}" is te laat'
    waited = time.monotonic() + 20
    while time.monotonic() < waited:
        mails = {person: mails_to(stack, person) for person in SLOW_OFFICERS}
        about = {p: [m for m in mails[p] if title in m.splitlines()[0]] for p in SLOW_OFFICERS}
        if any(late_subject in m for m in mails["member-hanna"]) and all(
            len(about[p]) >= 2 for p in ("member-fleur", "member-gijs")
        ):
            break
        await asyncio.sleep(0.1)
    assert any(late_subject in m for m in mails["member-hanna"]), "the member was reminded"
    for officer in ("member-fleur", "member-gijs"):
        assert len(about[officer]) >= 2, f"{officer} heard more than the request: {about[officer]}"
    assert not any(late_subject in m for m in mails_to(stack, "member-anna")), "anna advised"


def _ready_for_decision(
    stack: LocalStack, initiative_id: str
) -> list[initiatives.InitiativeReadyForDecision]:
    consumer = KafkaConsumer(
        f"{stack.namespace}{TOPICS['initiatives']}",
        bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=1000,
    )
    envelopes = [parse_record(record.headers, record.value) for record in consumer]
    found = [
        e.data
        for e in envelopes
        if e is not None
        and isinstance(e.data, initiatives.InitiativeReadyForDecision)
        and e.data.initiative_id == initiative_id
    ]
    consumer.close()
    return found
