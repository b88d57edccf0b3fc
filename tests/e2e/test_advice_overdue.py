"""A council that lets its deadline pass, across the four services as separate processes on the
real broker: `advice overdue` with escalation, the round closed by a civil servant after
escalation, and the initiative ready for decision with the advice that did come.

The shortest advice period a council can have is one day (the API's lower bound) and an
extension only moves a deadline later, and no service takes a clock setting. So after checking
that the round cannot be closed while the council is within its period, the test moves the
council's deadline into the past where the advisory service keeps it (its own SQLite file): the
advice request's deadline and its durable timer, exactly as if the day had passed. From there
on everything is the services' own work: the timer wheel fires, Kafka carries the events.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
    "advice_days": 1,  # the smallest period the API accepts
    "working_days": False,
    "reminder_days": [],
}
SLOW_OFFICERS = {"member-fleur": "chair", "member-gijs": "secretary", "member-hanna": "member"}


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


def pass_the_deadline(database: Path, round_id: str, request_id: str) -> datetime:
    """Move one advice request's deadline, and its timer, to a moment just past."""
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=2)
    with sqlite3.connect(database, timeout=10) as db:
        [(requests_json,)] = db.execute(
            "SELECT requests FROM advice_round WHERE id = ?", (round_id,)
        ).fetchall()
        requests = json.loads(requests_json)
        [request] = [r for r in requests if r["id"] == request_id]
        request["deadline"] = moment.isoformat().replace("+00:00", "Z")
        [(stored,)] = db.execute(
            "SELECT due_at FROM timer WHERE name = 'advice-deadline' AND key = ?", (request_id,)
        ).fetchall()
        # The same text form SQLAlchemy wrote (UTC, without offset), so comparisons hold.
        due_at = moment.replace(tzinfo=None)
        due_text = due_at.isoformat(" ", "microseconds") if " " in stored else due_at.isoformat()
        db.execute(
            "UPDATE advice_round SET requests = ? WHERE id = ?", (json.dumps(requests), round_id)
        )
        db.execute(
            "UPDATE timer SET due_at = ? WHERE name = 'advice-deadline' AND key = ?",
            (due_text, request_id),
        )
    return moment


def mails_to(stack: LocalStack, person: str) -> list[str]:
    assert stack.mail is not None
    return [
        f"{m['Subject']}\n{body.get_content()}"
        for m in stack.mail.messages()
        if m["To"] and person in m["To"] and (body := m.get_body(("plain",))) is not None
    ]


async def test_a_council_past_its_deadline_is_escalated_and_the_round_closed_after_escalation(
    stack: LocalStack, tmp_path: Path
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
        assert datetime.fromisoformat(slow_request["deadline"]) > datetime.now(UTC)

        await driver.advise(advice_round, wijkraad_request, "Goed idee, mits de buren meedoen.")
        refused = await client.post(
            f"{stack.urls()['advisory']}/v1/municipalities/GM0362/advice-rounds/{round_id}/close",
            headers={"Authorization": f"Bearer {official}"},
            json={"reason": "Te vroeg."},
        )
        assert refused.status_code == 409, "a council within its period keeps its chance"
        assert slow["id"] in refused.json()["detail"]

        deadline = await asyncio.to_thread(
            pass_the_deadline, tmp_path / "data" / "advisory.sqlite3", round_id, slow_request["id"]
        )

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
    [late] = [e.data for e in events if isinstance(e.data, advisory.AdviceOverdue)]
    assert late.council_id == slow["id"]
    assert late.deadline == deadline
    assert sorted(late.escalate_to) == ["member-fleur", "member-gijs"], "chair and secretary"
    [completed] = [e.data for e in events if isinstance(e.data, advisory.AdviceRoundCompleted)]
    assert completed.closed_after_escalation
    assert completed.closed_by == "civil-servant-demo"
    positions = {a.council_id: a.position for a in completed.advice}
    assert positions == {wijkraad_request["council_id"]: "conditional", slow["id"]: None}
    assert ready["status"] == "ready_for_decision"
    assert any(e["status"] == "ready_for_decision" for e in timeline["entries"])

    ready_events = await asyncio.to_thread(_ready_for_decision, stack, initiative_id)
    # Once, with the advice that came and "none" for the council that stayed silent.
    assert [sorted(e.advice_positions) for e in ready_events] == [["conditional", "none"]]

    # The overdue reminder reaches every member of the late council; its chair and secretary
    # also hear that the round was closed without their advice.
    late_subject = f'het advies over "{title}" is te laat'
    closed_subject = f'Advies over "{title}" afgesloten zonder uw advies'
    waited = time.monotonic() + 20
    while time.monotonic() < waited:
        mails = {person: mails_to(stack, person) for person in SLOW_OFFICERS}
        if all(any(closed_subject in m for m in mails[p]) for p in ("member-fleur", "member-gijs")):
            break
        await asyncio.sleep(0.1)
    for person, mail in mails.items():
        assert any(late_subject in m for m in mail), f"{person} was reminded"
        officer = SLOW_OFFICERS[person] != "member"
        assert any(closed_subject in m for m in mail) is officer, person
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
