"""The initiatives API on SQLite: types, drafts, support, the lifecycle, timers and read side.

These requests touch only the database, so the app runs without its Kafka lifespan; the
events a request causes are read back from the outbox it wrote in the same transaction.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select

from services.initiatives.app import create_app
from services.initiatives.entrypoints.consumers import routes
from services.initiatives.handlers import TIMER_HANDLERS
from services.initiatives.settings import InitiativesSettings
from shared.auth import Role
from shared.contracts import advisory, budgets
from shared.contracts import initiatives as contract
from shared.contracts.base import EventData
from shared.contracts.envelope import Envelope, parse_record
from shared.http import PROBLEM_JSON
from shared.messaging.outbox import decode_headers
from shared.messaging.timers import TimerWheel
from shared.migrations import upgrade_to_head
from shared.testing.helpers import settings_for, token

BASE = "/v1/municipalities/GM0362"
OFFICIAL = token(Role.CIVIL_SERVANT, subject="official-1")
HOLDER = token(Role.BUDGET_HOLDER, subject="holder-1")
INITIATOR = token(Role.RESIDENT, subject="resident-7")
SUPPORT_TYPE = {
    "code": "buurt-steun",
    "name": "Buurtinitiatief met steun",
    "support_threshold": 3,
    "support_window_days": 10,
    "min_co_initiators": 1,
    "max_amount_cents": 500_000,
    "funding_source": "neighbourhood_budget",
    "decision_deadline_days": 20,
    "working_days": True,
}
DEMO_TYPE = {
    "code": "buurt-demo",
    "name": "Demo",
    "support_threshold": 0,
    "max_amount_cents": 500_000,
    "funding_source": "neighbourhood_budget",
}
DRAFT = {
    "initiative_type": "buurt-steun",
    "title": "Bankjes in het park",
    "description": "Drie bankjes bij de speeltuin zodat ouderen kunnen rusten.",
    "neighbourhood": "BU03620001",
    "theme": "groen",
    "draft": True,
    "problem": "Ouderen kunnen nergens rusten.",
    "desired_improvement": "Drie bankjes langs de route.",
    "milestones": [{"id": "m1", "description": "Bankjes geplaatst", "due_date": "2027-03-01"}],
    "cost_lines": [
        {"description": "Bankjes", "amount_cents": 90_000},
        {"description": "Plaatsing", "amount_cents": 30_000},
    ],
    "indicators": [{"id": "i1", "description": "Bankjes", "target": 3, "unit": "stuks"}],
}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    url = f"sqlite+aiosqlite:///{tmp_path}/initiatives.sqlite3"
    await asyncio.to_thread(upgrade_to_head, "initiatives", url)
    # Nothing here talks to Kafka: the app is used without its lifespan.
    application = create_app(
        settings_for(
            InitiativesSettings, kafka="127.0.0.1:9", namespace="unused.", database_url=url
        )
    )
    yield application
    await application.state.runtime.engine.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        for kind in (SUPPORT_TYPE, DEMO_TYPE):
            response = await http.put(
                f"{BASE}/initiative-types/{kind['code']}", json=kind, headers=OFFICIAL
            )
            assert response.status_code == 200, response.text
        yield http


async def published(app: FastAPI) -> list[EventData]:
    async with app.state.unit_of_work() as uow:
        outbox = uow.tables.outbox
        connection = await uow.session.connection()
        rows = (await connection.execute(select(outbox).order_by(outbox.c.id))).all()
    envelopes = [parse_record(decode_headers(row.headers), row.value) for row in rows]
    return [envelope.data for envelope in envelopes if envelope is not None]


async def deliver(app: FastAPI, data: EventData) -> None:
    """What the consumer does with one event from another service (inbox aside)."""
    envelope = Envelope.wrap(data, source="urn:nld:gemeente-GM0362:systeem:test")
    async with app.state.unit_of_work() as uow:
        await routes.handlers[envelope.type](envelope, uow)
        await uow.commit()


async def fire_timers(app: FastAPI, at: datetime) -> int:
    wheel = TimerWheel(
        unit_of_work=app.state.unit_of_work,
        handlers=TIMER_HANDLERS,
        service="initiatives",
        clock=lambda: at,
    )
    return await wheel.fire_due()


async def submitted_with_support(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post(
        f"{BASE}/initiatives", json={**DRAFT, "co_initiators": ["resident-8"]}, headers=INITIATOR
    )
    assert response.status_code == 201, response.text
    initiative = response.json()
    response = await client.post(f"{BASE}/initiatives/{initiative['id']}/submit", headers=INITIATOR)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_civil_servant_defines_types_with_all_their_rules(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{BASE}/initiative-types", headers=INITIATOR)
    [demo, steun] = response.json()
    assert steun == {"municipality": "GM0362", **SUPPORT_TYPE}
    assert demo["support_threshold"] == 0 and demo["working_days"] is False
    response = await client.put(
        f"{BASE}/initiative-types/buurt-demo", json=DEMO_TYPE, headers=INITIATOR
    )
    assert response.status_code == 403


async def test_only_initiators_edit_their_draft_and_the_type_rules_apply_at_submission(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await client.post(f"{BASE}/initiatives", json=DRAFT, headers=INITIATOR)
    assert response.status_code == 201, response.text
    draft = response.json()
    assert draft["status"] == "draft" and draft["requested_amount_cents"] == 120_000
    url = f"{BASE}/initiatives/{draft['id']}"

    response = await client.patch(
        url, json={"problem": "x"}, headers=token(Role.RESIDENT, subject="someone-else")
    )
    assert response.status_code == 403, response.text
    response = await client.post(f"{url}/submit", headers=INITIATOR)
    assert response.status_code == 422
    assert "co-initiators" in response.json()["detail"]
    response = await client.patch(url, json={"co_initiators": ["resident-8"]}, headers=INITIATOR)
    assert response.status_code == 200, response.text
    assert await published(app) == [], "a draft is nobody else's business yet"

    response = await client.post(
        f"{url}/submit", headers=token(Role.RESIDENT, "GM0362", "resident-8")
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "collecting_support"
    response = await client.patch(url, json={"problem": "y"}, headers=INITIATOR)
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["current_state"] == "collecting_support"
    assert set(problem["allowed_actions"]) == {"support", "withdraw_support", "withdraw", "expire"}


async def test_residents_support_once_with_progress_and_review_at_the_threshold(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    initiative = await submitted_with_support(client)
    supports = f"{BASE}/initiatives/{initiative['id']}/supports"
    first = token(Role.RESIDENT, subject="r-1")
    assert (await client.post(supports, headers=first)).status_code == 201
    again = await client.post(supports, headers=first)
    assert again.status_code == 409 and "already supports" in again.json()["detail"]
    response = await client.post(
        supports, headers=token(Role.RESIDENT, municipality="GM0363", subject="r-9")
    )
    assert response.status_code == 403, "a resident supports only in their own municipality"
    response = await client.post(
        f"/v1/municipalities/GM0363/initiatives/{initiative['id']}/supports",
        headers=token(Role.RESIDENT, municipality="GM0363", subject="r-9"),
    )
    assert response.status_code == 404
    assert (await client.delete(f"{supports}/me", headers=first)).status_code == 200
    assert (await client.post(supports, headers=first)).status_code == 201

    response = await client.post(
        f"{BASE}/initiatives/{initiative['id']}/paper-supports",
        json={"supporter_ids": ["r-1", "paper-1", "paper-2"]},
        headers=OFFICIAL,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["added"], body["skipped"]) == (2, ["r-1"])
    assert body["initiative"]["status"] == "in_review"
    assert body["initiative"]["support_count"] == 3

    events = await published(app)
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "InitiativeSubmitted",
        "SupportRegistered",
        "SupportProgress",
        "SupportWithdrawn",
        "SupportRegistered",
        "SupportRegistered",
        "SupportProgress",
        "SupportRegistered",
        "InitiativeReadyForReview",
    ]
    registered = [e for e in events if isinstance(e, contract.SupportRegistered)]
    assert [e.channel for e in registered] == ["digital", "digital", "paper", "paper"]
    assert [e.percentage for e in events if isinstance(e, contract.SupportProgress)] == [33, 66]


async def test_the_support_window_expires_an_initiative_through_a_durable_timer(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    initiative = await submitted_with_support(client)
    deadline = datetime.fromisoformat(initiative["support_deadline"])
    assert await fire_timers(app, deadline - timedelta(minutes=1)) == 0
    assert await fire_timers(app, deadline + timedelta(seconds=1)) == 1
    assert await fire_timers(app, deadline + timedelta(days=400)) == 0, "fires once"

    response = await client.get(f"{BASE}/initiatives/{initiative['id']}", headers=INITIATOR)
    assert response.json()["status"] == "expired"
    [expired] = [e for e in await published(app) if isinstance(e, contract.InitiativeExpired)]
    assert expired.support_deadline == deadline


async def test_reaching_the_threshold_cancels_the_window_and_sets_the_decision_deadline(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    initiative = await submitted_with_support(client)
    response = await client.post(
        f"{BASE}/initiatives/{initiative['id']}/paper-supports",
        json={"supporter_ids": ["a", "b", "c"]},
        headers=OFFICIAL,
    )
    reviewed = response.json()["initiative"]
    decision_deadline = datetime.fromisoformat(reviewed["decision_deadline"])
    assert await fire_timers(app, decision_deadline - timedelta(seconds=1)) == 0
    assert await fire_timers(app, decision_deadline + timedelta(seconds=1)) == 1
    events = await published(app)
    assert not any(isinstance(e, contract.InitiativeExpired) for e in events)
    [overdue] = [e for e in events if isinstance(e, contract.InitiativeDecisionOverdue)]
    assert overdue.status == "in_review" and overdue.decision_deadline == decision_deadline


async def test_an_illegal_transition_answers_409_with_the_state_and_the_actions_allowed(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"{BASE}/initiatives", json={**DRAFT, "initiative_type": "buurt-demo"}, headers=INITIATOR
    )
    initiative = response.json()
    assert initiative["status"] == "draft"
    response = await client.post(
        f"{BASE}/initiatives/{initiative['id']}/decision",
        json={"approve": True, "reasons": ""},
        headers=HOLDER,
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["current_state"] == "draft"
    assert response.json()["allowed_actions"] == ["edit", "submit", "withdraw"]
    response = await client.post(
        f"{BASE}/initiatives/{initiative['id']}/decision",
        json={"approve": True, "reasons": ""},
        headers=INITIATOR,
    )
    assert response.status_code == 403, "residents do not decide"


async def test_the_whole_lifecycle_through_the_api_and_the_events_it_reacts_to(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await client.post(
        f"{BASE}/initiatives",
        json={**DRAFT, "initiative_type": "buurt-demo", "draft": False},
        headers=INITIATOR,
    )
    initiative = response.json()
    assert initiative["status"] == "in_review"
    key = {"municipality": "GM0362", "initiative_id": initiative["id"]}
    url = f"{BASE}/initiatives/{initiative['id']}"
    round_facts = {
        "municipality": "GM0362",
        "round_id": "round-1",
        "subject_kind": "initiative",
        "subject_id": initiative["id"],
    }
    await deliver(
        app,
        advisory.AdviceGiven(
            **round_facts,
            request_id="req-1",
            council_id="council-1",
            position=advisory.AdvicePosition.CONDITIONAL,
            motivation="Goed, als de buren meedoen.",
            conditions=["Overleg met de buren"],
            given_by="member-anna",
        ),
    )
    await deliver(
        app,
        advisory.AdviceRoundCompleted(
            **round_facts,
            advice=[
                advisory.GivenAdvice(
                    council_id="council-1",
                    position=advisory.AdvicePosition.CONDITIONAL,
                    motivation="Goed, als de buren meedoen.",
                    conditions=["Overleg met de buren"],
                )
            ],
            closed_after_escalation=False,
            completed_at=datetime.now(UTC),
        ),
    )
    response = await client.post(
        f"{url}/decision", json={"approve": False, "reasons": "Te duur."}, headers=OFFICIAL
    )
    assert response.status_code == 422 and "council-1" in response.json()["detail"]
    response = await client.post(
        f"{url}/decision",
        json={"approve": True, "reasons": "Ja, tenzij.", "conditions": ["Overleg met de buren"]},
        headers=OFFICIAL,
    )
    assert response.status_code == 200, response.text
    await deliver(
        app,
        budgets.BudgetAllocated(
            **key, budget_id="b-1", amount_cents=120_000, available_after_cents=1_000
        ),
    )
    await deliver(app, budgets.FundsDisbursed(**key, budget_id="b-1", amount_cents=120_000))
    response = await client.post(f"{url}/start", headers=INITIATOR)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "in_progress"

    # The milestone's timer fires at the end of its due day unless it is reported done.
    assert await fire_timers(app, datetime(2027, 3, 2, tzinfo=UTC)) == 1
    response = await client.post(
        f"{url}/progress",
        json={"text": "Bankjes staan er", "milestone_id": "m1"},
        headers=INITIATOR,
    )
    assert response.status_code == 200, response.text
    await deliver(
        app,
        budgets.SpendingReported(
            **key, budget_id="b-1", amount_cents=118_000, description="Bankjes"
        ),
    )
    response = await client.post(
        f"{url}/results",
        json={"summary": "Drie bankjes.", "measured": {"i1": 3}},
        headers=INITIATOR,
    )
    assert response.status_code == 200, response.text
    response = await client.post(
        f"{url}/account",
        json={"spent_cents": 118_000, "account": "Iets goedkoper."},
        headers=INITIATOR,
    )
    assert response.status_code == 200, response.text
    response = await client.post(f"{url}/close", json={"reason": "Verantwoord."}, headers=OFFICIAL)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "closed"

    response = await client.post(
        f"{BASE}/initiatives",
        json={**DRAFT, "follows": initiative["id"], "title": "Meer bankjes"},
        headers=INITIATOR,
    )
    assert response.status_code == 201, response.text
    follow_up = response.json()
    assert follow_up["predecessor_id"] == initiative["id"]

    timeline = (await client.get(f"{url}/timeline", headers=INITIATOR)).json()
    assert timeline["successor_ids"] == [follow_up["id"]]
    assert timeline["allowed_actions"] == ["follow_up"]
    transitions = [e["status"] for e in timeline["entries"] if e["kind"] == "transition"]
    assert transitions == [
        "submitted",
        "in_review",
        "ready_for_decision",
        "approved",
        "funded",
        "in_progress",
        "results_reported",
        "accounted",
        "closed",
    ]
    kinds = {e["kind"] for e in timeline["entries"]}
    assert {"advice", "money", "progress", "deadline", "link"} <= kinds
    decided = next(e for e in timeline["entries"] if e["status"] == "approved")
    assert (decided["actor"], decided["note"]) == ("official-1", "Ja, tenzij.")

    names = [type(e).__name__ for e in await published(app)]
    for expected in (
        "InitiativeReadyForDecision",
        "InitiativeDecided",
        "MilestoneOverdue",
        "InitiativeResultsReported",
        "InitiativeAccounted",
        "InitiativeClosed",
    ):
        assert expected in names
    [accounted] = [e for e in await published(app) if isinstance(e, contract.InitiativeAccounted)]
    assert (accounted.budgeted_cents, accounted.spent_cents, accounted.disbursed_cents) == (
        120_000,
        118_000,
        120_000,
    )


async def test_withdrawing_cancels_the_deadlines(client: httpx.AsyncClient, app: FastAPI) -> None:
    initiative = await submitted_with_support(client)
    response = await client.post(
        f"{BASE}/initiatives/{initiative['id']}/withdraw",
        json={"reason": "We doen het anders."},
        headers=INITIATOR,
    )
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert await fire_timers(app, datetime.now(UTC) + timedelta(days=400)) == 0
    assert isinstance((await published(app))[-1], contract.InitiativeWithdrawn)


async def test_lists_filter_and_open_data_carries_no_personal_data(
    client: httpx.AsyncClient,
) -> None:
    await submitted_with_support(client)
    await client.post(
        f"{BASE}/initiatives",
        json={
            **DRAFT,
            "initiative_type": "buurt-demo",
            "draft": False,
            "neighbourhood": "BU03620002",
        },
        headers=INITIATOR,
    )
    await client.post(f"{BASE}/initiatives", json=DRAFT, headers=INITIATOR)  # a draft

    async def ids(**filters: str) -> int:
        response = await client.get(f"{BASE}/initiatives", params=filters, headers=INITIATOR)
        return len(response.json())

    assert await ids() == 3
    assert await ids(neighbourhood="BU03620002") == 1
    assert await ids(initiative_type="buurt-steun") == 2
    assert await ids(status="collecting_support") == 1
    assert await ids(status="in_review", neighbourhood="BU03620001") == 0

    response = await client.get(f"{BASE}/open-data/initiatives.json")
    assert response.status_code == 200
    records = response.json()
    assert len(records) == 2, "drafts are not published"
    text = json.dumps(records) + (await client.get(f"{BASE}/open-data/initiatives.csv")).text
    for person in ("resident-7", "resident-8", "official-1"):
        assert person not in text
    rows = list(
        csv.DictReader(io.StringIO((await client.get(f"{BASE}/open-data/initiatives.csv")).text))
    )
    assert {row["neighbourhood"] for row in rows} == {"BU03620001", "BU03620002"}
    assert "initiator_id" not in rows[0]


async def test_a_neighbourhood_report_is_triaged_and_the_reporter_is_told(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    report = {
        "neighbourhood": "BU03620001",
        "category": "groen",
        "description": "De bosjes bij de speeltuin zijn overwoekerd.",
        "latitude": 52.30,
        "longitude": 4.86,
        "location_description": "Speeltuin Oranjebaan",
    }
    reporter = token(Role.RESIDENT, subject="reporter-1")
    first = (await client.post(f"{BASE}/reports", json=report, headers=reporter)).json()
    second = (await client.post(f"{BASE}/reports", json=report, headers=reporter)).json()
    bad = await client.post(f"{BASE}/reports", json={**report, "latitude": 10}, headers=reporter)
    assert bad.status_code == 422

    response = await client.post(
        f"{BASE}/reports/{first['id']}/triage",
        json={
            "outcome": "initiative",
            "reason": "Mooi idee voor de buurt.",
            "initiative_type": "buurt-demo",
        },
        headers=OFFICIAL,
    )
    assert response.status_code == 200, response.text
    draft_id = response.json()["initiative_id"]
    draft = (await client.get(f"{BASE}/initiatives/{draft_id}", headers=reporter)).json()
    assert (draft["status"], draft["initiator_id"]) == ("draft", "reporter-1")

    response = await client.post(
        f"{BASE}/reports/{second['id']}/triage",
        json={
            "outcome": "forwarded",
            "reason": "Groenbeheer gaat erover.",
            "forwarded_to": "Groenbeheer",
        },
        headers=OFFICIAL,
    )
    assert response.status_code == 200, response.text
    again = await client.post(
        f"{BASE}/reports/{second['id']}/triage",
        json={"outcome": "closed", "reason": "Dubbel."},
        headers=OFFICIAL,
    )
    assert again.status_code == 409 and again.json()["current_state"] == "forwarded"
    listed = await client.get(f"{BASE}/reports", params={"status": "received"}, headers=OFFICIAL)
    assert listed.json() == []

    events = await published(app)
    handled = [e for e in events if isinstance(e, contract.ReportHandled)]
    assert [(e.outcome, e.reporter_id) for e in handled] == [
        ("initiative", "reporter-1"),
        ("forwarded", "reporter-1"),
    ]
    assert handled[0].initiative_id == draft_id and handled[1].forwarded_to == "Groenbeheer"
    assert sum(isinstance(e, contract.ReportReceived) for e in events) == 2


# A support looks up only the resident it is about: the thousandth support costs what the first
# did, instead of reading every supporter before it.
MANY = {**SUPPORT_TYPE, "code": "buurt-veel-steun", "support_threshold": 10_000}
PAPER = [f"paper-{n:04d}" for n in range(1_500)]


def resident(subject: str) -> dict[str, str]:
    return token(Role.RESIDENT, subject=subject)


async def test_a_support_reads_only_its_own_resident_however_many_support_already(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    kind = await client.put(f"{BASE}/initiative-types/{MANY['code']}", json=MANY, headers=OFFICIAL)
    assert kind.status_code == 200, kind.text
    submitted = await client.post(
        f"{BASE}/initiatives",
        json={**DRAFT, "initiative_type": MANY["code"], "draft": False, "co_initiators": ["r-8"]},
        headers=INITIATOR,
    )
    assert submitted.status_code == 201, submitted.text
    initiative = f"{BASE}/initiatives/{submitted.json()['id']}"
    paper = await client.post(
        f"{initiative}/paper-supports", json={"supporter_ids": PAPER}, headers=OFFICIAL
    )
    assert paper.status_code < 300, paper.text

    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    engine = app.state.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        new = await client.post(f"{initiative}/supports", headers=resident("r-new"))
        again = await client.post(f"{initiative}/supports", headers=resident(PAPER[7]))
    finally:
        event.remove(engine, "before_cursor_execute", remember)

    assert new.status_code == 201, new.text
    assert new.json()["support_count"] == len(PAPER) + 1
    assert again.status_code == 409, "one support per resident, also against paper ones"
    reads = [s for s in statements if s.startswith("SELECT") and "initiative_supporter" in s]
    assert len(reads) == 2, reads
    assert all("initiative_supporter.supporter_id IN" in s for s in reads), reads
