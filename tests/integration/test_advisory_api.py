"""The advisory API: routing rules and manual routing, votes by quorum, policy consultations
with their participation paragraph, youth agenda items and council meetings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.auth import Role
from shared.contracts import advisory as contract
from shared.testing.helpers import token
from tests.integration.advisory_support import Advisory, member

WIJKRAAD = {
    "name": "Wijkraad Centrum",
    "kind": "neighbourhood_council",
    "districts": ["WK036200"],
    "advice_days": 5,
}


@pytest.fixture
async def advisory(tmp_path: Path) -> AsyncIterator[Advisory]:
    service = await Advisory(tmp_path).start()
    yield service
    await service.close()


async def test_routing_rules_pick_councils_by_theme_and_amount(advisory: Advisory) -> None:
    wijkraad = await advisory.council({}, **WIJKRAAD)
    youth = await advisory.council({}, name="Jongerenraad", kind="youth_council")
    broad = await advisory.council({}, name="Brede commissie", kind="broad_advisory_committee")
    for rule in (
        {"council_id": wijkraad["id"], "neighbourhoods": ["BU03620001"]},
        {"council_id": youth["id"], "themes": ["jeugd", "sport"]},
        {"council_id": broad["id"], "min_amount_cents": 2_500_000},
        {"council_id": broad["id"], "obligation": "may", "initiative_types": ["groot"]},
    ):
        await advisory.call("POST", "/routing-rules", json=rule)
    assert len(await advisory.call("GET", "/routing-rules")) == 4

    small_green = await advisory.initiative_ready(theme="groen", amount_cents=50_000)
    assert [r["council_id"] for r in small_green["requests"]] == [wijkraad["id"]]
    large_youth = await advisory.initiative_ready(theme="jeugd", amount_cents=3_000_000)
    assert {r["council_id"] for r in large_youth["requests"]} == {
        wijkraad["id"],
        youth["id"],
        broad["id"],
    }
    elsewhere = await advisory.initiative_ready(neighbourhood="BU03629999", theme="sport")
    assert [r["council_id"] for r in elsewhere["requests"]] == [youth["id"]]


async def test_an_unrouted_initiative_is_announced_listed_and_routed_by_hand(
    advisory: Advisory,
) -> None:
    wijkraad = await advisory.council({"anna": "chair"}, **WIJKRAAD)
    unrouted = await advisory.initiative_ready(neighbourhood="BU03629999")
    assert unrouted["status"] == "unrouted" and unrouted["requests"] == []
    [announced] = await advisory.events("advice-round-unrouted")
    assert isinstance(announced, contract.AdviceRoundUnrouted)
    assert announced.neighbourhood == "BU03629999"
    listed = await advisory.call("GET", "/advice-rounds", params={"status": "unrouted"})
    assert [r["id"] for r in listed] == [unrouted["id"]]

    routed = await advisory.call(
        "POST",
        f"/advice-rounds/{unrouted['id']}/route",
        json={"councils": [{"council_id": wijkraad["id"]}]},
    )
    assert routed["status"] == "open" and routed["requests"][0]["council_id"] == wijkraad["id"]
    assert len(await advisory.events("advice-requested")) == 1
    again = await advisory.call(
        "POST",
        f"/advice-rounds/{unrouted['id']}/route",
        expect=409,
        json={"councils": [{"council_id": wijkraad["id"]}]},
    )
    assert "only an unrouted round" in again["detail"]


async def test_a_council_adopts_by_vote_of_its_serving_members_and_keeps_the_minority(
    advisory: Advisory,
) -> None:
    council = await advisory.council(
        {
            "anna": "chair",
            "bram": "secretary",
            "chris": "member",
            "dirk": {"role": "member", "term_start": "2030-01-01"},
        },
        **WIJKRAAD,
        adoption="vote",
        quorum_percent=60,
    )
    # dirk's term has not started: he cannot vote and does not count towards the quorum.
    advice_round = await advisory.initiative_ready()
    request = advice_round["requests"][0]
    votes = f"/advice-rounds/{advice_round['id']}/requests/{request['id']}/votes"

    refused = await advisory.call(
        "POST",
        votes,
        headers=member("dirk"),
        expect=403,
        json={"position": "negative", "motivation": "Nee."},
    )
    assert "term" in refused["detail"]
    recorded = await advisory.call(
        "POST",
        votes.replace("/votes", "/advice"),
        headers=member("anna"),
        expect=409,
        json={"position": "positive", "motivation": "Namens de raad."},
    )
    assert "vote" in recorded["detail"]
    await advisory.call(
        "POST",
        votes,
        headers=member("anna"),
        json={"position": "positive", "motivation": "Goed voor de buurt."},
    )
    await advisory.call(
        "POST",
        votes,
        headers=member("chris"),
        json={"position": "negative", "motivation": "Te duur."},
    )
    assert await advisory.events("advice-given") == [], "1-1 with one vote to come"
    decided = await advisory.call(
        "POST",
        votes,
        headers=member("bram"),
        json={"position": "positive", "motivation": "Eens.", "conditions": ["Onderhoud geregeld"]},
    )
    assert decided["status"] == "completed"
    [given] = await advisory.events("advice-given")
    assert isinstance(given, contract.AdviceGiven)
    assert given.position == "positive" and given.adopted_by == "vote"
    assert (given.votes_for, given.votes_cast) == (2, 3)
    assert given.conditions == ["Onderhoud geregeld"]
    assert [(m.position, m.motivation, m.supporters) for m in given.minority_positions] == [
        ("negative", "Te duur.", 1)
    ]
    assert council["quorum_percent"] == 60


async def test_closing_a_vote_needs_the_quorum_and_the_chair_breaks_a_tie(
    advisory: Advisory,
) -> None:
    await advisory.council(
        {"anna": "chair", "bram": "secretary", "chris": "member", "dewi": "member"},
        **WIJKRAAD,
        adoption="vote",
        quorum_percent=50,
    )
    advice_round = await advisory.initiative_ready()
    request = advice_round["requests"][0]
    votes = f"/advice-rounds/{advice_round['id']}/requests/{request['id']}/votes"
    await advisory.call(
        "POST",
        votes,
        headers=member("chris"),
        json={"position": "negative", "motivation": "Te duur."},
    )
    no_quorum = await advisory.call(
        "POST", votes + "/close", headers=member("bram"), expect=409, json={}
    )
    assert "quorum" in no_quorum["detail"]
    await advisory.call(
        "POST",
        votes,
        headers=member("anna"),
        json={"position": "positive", "motivation": "Goed plan."},
    )
    not_officer = await advisory.call(
        "POST", votes + "/close", headers=member("chris"), expect=403, json={}
    )
    assert "chair or secretary" in not_officer["detail"]
    closed = await advisory.call("POST", votes + "/close", headers=member("bram"), json={})
    assert closed["requests"][0]["advice"]["position"] == "positive"


async def test_recorded_advice_keeps_minority_positions_and_links_the_meeting(
    advisory: Advisory,
) -> None:
    council = await advisory.council(
        {"anna": "chair", "bram": "secretary", "chris": "member"}, **WIJKRAAD
    )
    past = datetime(2026, 1, 15, 19, 30, tzinfo=UTC)
    meetings = [
        await advisory.call(
            "POST",
            f"/councils/{council['id']}/meetings",
            json={
                "starts_at": (past + timedelta(days=90 * n)).isoformat(),
                "location": "Buurthuis",
                "agenda": [{"title": f"Overleg {n + 1} met de gemeente"}],
            },
        )
        for n in range(4)
    ]
    await advisory.call(
        "POST",
        f"/councils/{council['id']}/meetings",
        headers=member("bram"),
        json={"starts_at": "2026-12-01T19:00:00+01:00", "with_municipality": False},
    )
    outsider = await advisory.call(
        "POST",
        f"/councils/{council['id']}/meetings",
        headers=member("chris"),
        expect=403,
        json={"starts_at": "2026-12-02T19:00:00+01:00"},
    )
    assert "chair or secretary" in outsider["detail"]
    advice_round = await advisory.initiative_ready()
    request = advice_round["requests"][0]
    member_only = await advisory.call(
        "POST",
        f"/advice-rounds/{advice_round['id']}/requests/{request['id']}/advice",
        headers=member("chris"),
        expect=403,
        json={"position": "positive", "motivation": "Ja."},
    )
    assert "chair or secretary" in member_only["detail"]
    await advisory.call(
        "POST",
        f"/advice-rounds/{advice_round['id']}/requests/{request['id']}/advice",
        headers=member("bram"),
        json={
            "position": "positive",
            "motivation": "De raad steunt het plan.",
            "minority_positions": [
                {"position": "negative", "motivation": "Te duur.", "supporters": 1}
            ],
            "meeting_id": meetings[0]["id"],
        },
    )
    [given] = await advisory.events("advice-given")
    assert isinstance(given, contract.AdviceGiven)
    assert given.minority_positions[0].motivation == "Te duur."
    assert given.meeting_id == meetings[0]["id"]
    minutes = await advisory.call(
        "POST",
        f"/meetings/{meetings[0]['id']}/minutes",
        headers=member("bram"),
        json={"minutes": "Advies vastgesteld."},
    )
    assert minutes["advice"][0]["round_id"] == advice_round["id"]
    assert len(await advisory.events("meeting-minutes-published")) == 1
    year = await advisory.call("GET", f"/councils/{council['id']}/meetings", params={"year": 2026})
    assert len(year["meetings"]) == 5
    assert year["held_with_municipality"] == 4 and year["meets_minimum"]


async def test_youth_agenda_items_are_followed_to_their_outcome(advisory: Advisory) -> None:
    youth = await advisory.council(
        {"dewi": "chair", "emre": "member"}, name="Jongerenraad", kind="youth_council"
    )
    wijkraad = await advisory.council({"anna": "chair"}, **WIJKRAAD)
    item = await advisory.call(
        "POST",
        f"/councils/{youth['id']}/agenda-items",
        headers=member("emre"),
        json={"title": "Meer plekken om te sporten", "description": "Een pannaveld in elke wijk."},
    )
    not_youth = await advisory.call(
        "POST",
        f"/councils/{wijkraad['id']}/agenda-items",
        headers=member("anna"),
        expect=409,
        json={"title": "Bankjes"},
    )
    assert "not a youth council" in not_youth["detail"]
    early = await advisory.call(
        "POST",
        f"/agenda-items/{item['id']}/outcome",
        expect=409,
        json={"outcome": "adopted", "summary": "Aangenomen."},
    )
    assert "scheduled" in early["detail"]
    await advisory.call(
        "POST", f"/agenda-items/{item['id']}/schedule", json={"meeting_date": "2027-02-11"}
    )
    done = await advisory.call(
        "POST",
        f"/agenda-items/{item['id']}/outcome",
        json={"outcome": "adopted", "summary": "De raad nam een motie aan voor twee pannavelden."},
    )
    assert done["status"] == "concluded"
    listed = await advisory.call(
        "GET", "/agenda-items", params={"council_id": youth["id"]}, headers=token(Role.RESIDENT)
    )
    assert [i["status"] for i in listed] == ["concluded"]
    names = [e.name for e in await advisory.events() if e.name.startswith("agenda-item")]
    assert names == ["agenda-item-proposed", "agenda-item-scheduled", "agenda-item-concluded"]
    [concluded] = await advisory.events("agenda-item-concluded")
    assert concluded.outcome == "adopted"  # type: ignore[attr-defined]
