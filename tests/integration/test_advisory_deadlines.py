"""Advice deadlines fire from durable timers: reminders, overdue with escalation, extension,
closing after escalation, lapsing optional councils and term ends -- with a moved clock; and on
PostgreSQL, two replicas' wheels firing the same due timers, each exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.advisory import handlers
from services.advisory.domain.deadlines import term_ends_at
from shared.contracts import advisory as contract
from shared.messaging.timers import TimerWheel
from tests.integration.advisory_support import Advisory, member

WIJKRAAD = {
    "name": "Wijkraad Centrum",
    "kind": "neighbourhood_council",
    "neighbourhoods": ["BU03620001"],
    "advice_days": 5,
    "reminder_days": [3, 1],
}
JONGERENRAAD = {
    "name": "Jongerenraad",
    "kind": "youth_council",
    "themes": ["jeugd"],
    "advice_days": 5,
}


@pytest.fixture
async def advisory(tmp_path: Path) -> AsyncIterator[Advisory]:
    service = await Advisory(tmp_path).start()
    yield service
    await service.close()


def _deadline(advice_round: dict[str, object], council_id: str) -> datetime:
    requests = advice_round["requests"]
    assert isinstance(requests, list)
    [request] = [r for r in requests if r["council_id"] == council_id]
    return datetime.fromisoformat(request["deadline"])


async def test_reminders_then_overdue_with_escalation_fire_once_and_the_round_is_closed(
    advisory: Advisory,
) -> None:
    wijkraad = await advisory.council(
        {
            "anna": "chair",
            "bram": "secretary",
            "chris": "member",
            "oud-lid": {"role": "chair", "term_end": "2020-12-31"},
        },
        **WIJKRAAD,
    )
    youth = await advisory.council({"dewi": "chair"}, **JONGERENRAAD)
    advice_round = await advisory.initiative_ready(theme="jeugd")
    assert len(await advisory.events("advice-requested")) == 2
    deadline = _deadline(advice_round, wijkraad["id"])

    # The former chair's term ended long ago: that timer fires at once, nothing else does.
    assert await advisory.fire_at(datetime.now(deadline.tzinfo)) == 1
    assert [e.member_id for e in await advisory.events("council-member-left")] == ["oud-lid"]  # type: ignore[attr-defined]
    assert await advisory.fire_at(deadline - timedelta(days=2, hours=12)) == 2  # 3 days before
    reminders = await advisory.events("advice-deadline-approaching")
    assert {(e.council_id, e.days_before) for e in reminders} == {  # type: ignore[attr-defined]
        (wijkraad["id"], 3),
        (youth["id"], 3),
    }

    youth_request = next(r for r in advice_round["requests"] if r["council_id"] == youth["id"])
    await advisory.call(
        "POST",
        f"/advice-rounds/{advice_round['id']}/requests/{youth_request['id']}/advice",
        headers=member("dewi"),
        json={"position": "positive", "motivation": "Goed voor jongeren."},
    )

    # At the deadline: the last reminder (to the wijkraad only) and then the overdue.
    assert await advisory.fire_at(deadline + timedelta(seconds=1)) == 2
    assert await advisory.fire_at(deadline + timedelta(days=30)) == 0, "a restart fires nothing"
    reminders = await advisory.events("advice-deadline-approaching")
    assert [(e.council_id, e.days_before) for e in reminders[2:]] == [  # type: ignore[attr-defined]
        (wijkraad["id"], 1)
    ]
    [overdue] = await advisory.events("advice-overdue")
    assert isinstance(overdue, contract.AdviceOverdue)
    assert overdue.council_id == wijkraad["id"] and overdue.deadline == deadline
    assert sorted(overdue.escalate_to) == ["anna", "bram"], "chair and secretary whose term runs"
    assert await advisory.events("advice-round-completed") == []

    closed = await advisory.call(
        "POST",
        f"/advice-rounds/{advice_round['id']}/close",
        json={"reason": "De wijkraad reageert niet na herinnering."},
    )
    assert closed["status"] == "completed"
    [completed] = await advisory.events("advice-round-completed")
    assert isinstance(completed, contract.AdviceRoundCompleted)
    assert completed.closed_after_escalation and completed.closed_by == "civil-servant-1"
    assert [a.position for a in completed.advice if a.council_id == youth["id"]] == ["positive"]

    wijkraad_request = next(r for r in closed["requests"] if r["council_id"] == wijkraad["id"])
    late = await advisory.client.post(
        f"/v1/municipalities/GM0362/advice-rounds/{advice_round['id']}/requests/"
        f"{wijkraad_request['id']}/advice",
        headers=member("anna"),
        json={"position": "positive", "motivation": "Te laat."},
    )
    assert late.status_code == 409 and "no longer" in late.json()["detail"]


async def test_a_round_cannot_be_closed_while_a_council_is_within_its_deadline(
    advisory: Advisory,
) -> None:
    await advisory.council({"anna": "chair"}, **WIJKRAAD)
    advice_round = await advisory.initiative_ready()
    refused = await advisory.call(
        "POST", f"/advice-rounds/{advice_round['id']}/close", expect=409, json={"reason": "Haast."}
    )
    assert "within their deadline" in refused["detail"]


async def test_an_extension_moves_the_timers_and_reopens_an_overdue_request(
    advisory: Advisory,
) -> None:
    wijkraad = await advisory.council({"anna": "chair"}, **WIJKRAAD)
    advice_round = await advisory.initiative_ready()
    old = _deadline(advice_round, wijkraad["id"])
    request_id = advice_round["requests"][0]["id"]
    extended = await advisory.call(
        "POST",
        f"/advice-rounds/{advice_round['id']}/requests/{request_id}/extension",
        json={"days": 5, "reason": "De wijkraad vergadert pas volgende week."},
    )
    new = _deadline(extended, wijkraad["id"])
    assert new > old + timedelta(days=6)
    [event] = await advisory.events("advice-deadline-extended")
    assert isinstance(event, contract.AdviceDeadlineExtended)
    assert (event.previous_deadline, event.deadline) == (old, new)
    assert event.reason.startswith("De wijkraad") and event.extended_by == "civil-servant-1"

    await advisory.fire_at(old + timedelta(seconds=1))
    assert await advisory.events("advice-overdue") == [], "the old deadline no longer fires"
    await advisory.fire_at(new + timedelta(seconds=1))
    assert len(await advisory.events("advice-overdue")) == 1

    # An overdue request can be extended again: it opens, and fires again at its new end.
    until = (new + timedelta(days=10)).date()
    reopened = await advisory.call(
        "POST",
        f"/advice-rounds/{advice_round['id']}/requests/{request_id}/extension",
        json={"until": until.isoformat(), "reason": "Nieuwe voorzitter."},
    )
    assert reopened["requests"][0]["status"] == "open"
    await advisory.fire_at(_deadline(reopened, wijkraad["id"]) + timedelta(seconds=1))
    assert len(await advisory.events("advice-overdue")) == 2


async def test_a_council_that_may_advise_lapses_and_the_round_completes_without_it(
    advisory: Advisory,
) -> None:
    wijkraad = await advisory.council({"anna": "chair"}, **WIJKRAAD)
    broad = await advisory.council(
        {"fatima": "secretary"},
        name="Brede adviescommissie",
        kind="broad_advisory_committee",
        advice_days=10,
    )
    await advisory.call(
        "POST", "/routing-rules", json={"council_id": wijkraad["id"], "districts": ["WK036200"]}
    )
    await advisory.call(
        "POST",
        "/routing-rules",
        json={"council_id": broad["id"], "obligation": "may", "min_amount_cents": 1_000_000},
    )
    advice_round = await advisory.initiative_ready(amount_cents=2_000_000)
    required = {r["council_id"]: r["required"] for r in advice_round["requests"]}
    assert required == {wijkraad["id"]: True, broad["id"]: False}
    request = next(r for r in advice_round["requests"] if r["council_id"] == wijkraad["id"])
    await advisory.call(
        "POST",
        f"/advice-rounds/{advice_round['id']}/requests/{request['id']}/advice",
        headers=member("anna"),
        json={
            "position": "conditional",
            "motivation": "Mits veilig.",
            "conditions": ["Verkeersveilig inrichten"],
        },
    )
    assert await advisory.events("advice-round-completed") == [], "the broad committee may"
    await advisory.fire_at(_deadline(advice_round, broad["id"]) + timedelta(seconds=1))
    assert await advisory.events("advice-overdue") == [], "no escalation for a 'may' council"
    [completed] = await advisory.events("advice-round-completed")
    assert isinstance(completed, contract.AdviceRoundCompleted)
    assert not completed.closed_after_escalation


async def test_a_member_leaves_when_their_term_ends(advisory: Advisory) -> None:
    last_day = date.today() + timedelta(days=30)
    council = await advisory.council(
        {"anna": {"role": "chair", "term_end": last_day.isoformat()}}, **WIJKRAAD
    )
    [appointed] = await advisory.events("council-member-appointed")
    assert appointed.term_end == last_day  # type: ignore[attr-defined]
    assert await advisory.fire_at(term_ends_at(last_day) - timedelta(seconds=1)) == 0
    assert await advisory.fire_at(term_ends_at(last_day)) == 1
    [left] = await advisory.events("council-member-left")
    assert left.member_id == "anna" and left.reason == "term_ended"  # type: ignore[attr-defined]
    found = await advisory.call("GET", f"/councils/{council['id']}")
    assert found["members"] == []


class MovableClock:
    """The replicas' shared "now", moved by the test as the days would pass."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


async def _until(what: str, probe: Callable[[], Awaitable[bool]], timeout_s: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"waited {timeout_s}s for {what}")
        await asyncio.sleep(0.05)


async def test_two_replicas_on_postgresql_fire_each_reminder_and_deadline_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    rounds_count = 25
    first = await Advisory(tmp_path, database_url=postgres_url).start()
    second = Advisory(tmp_path, database_url=postgres_url)  # another replica, its own engine
    try:
        wijkraad = await first.council(
            {"anna": "chair", "bram": "secretary", "chris": "member"}, **WIJKRAAD
        )
        rounds = [await first.initiative_ready() for _ in range(rounds_count)]
        deadline = _deadline(rounds[0], wijkraad["id"])
        assert {_deadline(r, wijkraad["id"]) for r in rounds} == {deadline}, "all due together"
        clock = MovableClock(datetime.now(UTC))
        # The advisory service's own timer handlers, run by each replica's wheel loop as in
        # production (short sleeps, so both wake at once and race for the same rows).
        wheels = [
            TimerWheel(
                unit_of_work=replica.uow,
                handlers=handlers.TIMERS,
                service="advisory",
                clock=clock,
                max_sleep_s=0.05,
            )
            for replica in (first, second)
        ]
        running = [asyncio.create_task(wheel.run()) for wheel in wheels]
        try:
            await asyncio.sleep(0.2)
            assert await first.events("advice-deadline-approaching") == [], "nothing due yet"

            # Past both reminders (3 days and 1 day before, at 09:00), before the deadline.
            clock.moment = deadline - timedelta(hours=12)

            async def all_reminded() -> bool:
                found = await first.events("advice-deadline-approaching")
                return len(found) >= 2 * rounds_count

            await _until("every reminder", all_reminded)
            clock.moment = deadline + timedelta(seconds=1)

            async def all_overdue() -> bool:
                return len(await first.events("advice-overdue")) >= rounds_count

            await _until("every deadline", all_overdue)
            await asyncio.sleep(0.5)  # both wheels sweep again: a double firing would show
        finally:
            for wheel in wheels:
                await wheel.stop()
            await asyncio.gather(*running)

        reminders = await first.events("advice-deadline-approaching")
        reminded = Counter((e.request_id, e.days_before) for e in reminders)  # type: ignore[attr-defined]
        request_ids = {r["requests"][0]["id"] for r in rounds}
        assert set(reminded) == {(r, days) for r in request_ids for days in (3, 1)}
        assert set(reminded.values()) == {1}, "each reminder once"
        overdue = await first.events("advice-overdue")
        per_round = Counter(e.round_id for e in overdue)  # type: ignore[attr-defined]
        assert per_round == Counter({r["id"]: 1 for r in rounds}), "one advice-overdue per round"
        assert all(sorted(e.escalate_to) == ["anna", "bram"] for e in overdue)  # type: ignore[attr-defined]
        assert all(wheel.fired > 0 for wheel in wheels), [w.fired for w in wheels]
        assert sum(wheel.fired for wheel in wheels) == 3 * rounds_count, "no timer fired twice"
        async with first.uow() as uow:
            timer = uow.tables.timer
            rows = (
                await (await uow.session.connection()).execute(
                    select(timer.c.name, timer.c.fired_at, timer.c.attempts)
                )
            ).all()
        assert len(rows) == 3 * rounds_count
        assert all(row.fired_at is not None and row.attempts == 0 for row in rows), "none lost"
    finally:
        await second.close()
        await first.close()
