"""Advice deadlines fire from durable timers: reminders, overdue with escalation, extension,
closing after escalation, lapsing optional councils and term ends -- with a moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from services.advisory.domain.deadlines import term_ends_at
from shared.contracts import advisory as contract
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
