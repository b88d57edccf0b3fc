"""The budgets service on a real broker: approved initiatives in, allocations out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer

from services.budgets.app import create_app
from services.budgets.settings import BudgetsSettings
from shared.auth import Role
from shared.contracts import budgets as contract
from shared.contracts import initiatives
from shared.contracts.envelope import Envelope
from shared.migrations import upgrade_to_head
from shared.testing.helpers import create_test_topics, read_envelopes, running, settings_for, token

INITIATIVES_SOURCE = "urn:nld:gemeente-GM0362:systeem:inspraak-initiatives"
BUDGETS = "/v1/municipalities/GM0362/budgets"


def decided(
    initiative_id: str, amount: int, decision: initiatives.Decision = initiatives.Decision.APPROVED
) -> Envelope:
    data = initiatives.InitiativeDecided(
        municipality="GM0362",
        initiative_id=initiative_id,
        title="Bankjes in het park",
        neighbourhood="BU03620001",
        theme="groen",
        initiative_type="buurt-klein",
        requested_amount_cents=amount,
        funding_source=initiatives.FundingSource.NEIGHBOURHOOD_BUDGET,
        initiator_id="resident-7",
        decision=decision,
        reasons="Past binnen het buurtbudget." if decision == "approved" else "Geen draagvlak.",
        decided_by="holder-1",
        decided_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
    )
    return Envelope.wrap(data, source=INITIATIVES_SOURCE)


async def publish(kafka: str, topic: str, envelopes: list[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_and_wait(
                topic,
                envelope.kafka_value(),
                key=envelope.partitionkey.encode(),
                headers=envelope.kafka_headers(),
            )
    finally:
        await producer.stop()


async def test_approved_initiatives_are_allocated_or_rejected_with_the_shortfall(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/budgets.sqlite3"
    # One partition: the events below are applied in the order they are published.
    await asyncio.to_thread(create_test_topics, kafka, namespace, 1)
    await asyncio.to_thread(upgrade_to_head, "budgets", url)
    app = create_app(
        settings_for(BudgetsSettings, kafka=kafka, namespace=namespace, database_url=url)
    )
    fits = decided("initiative-a", 60_000)
    same_approval_again = decided("initiative-a", 60_000)  # another event id, same initiative
    refused_by_holder = decided("initiative-c", 10_000, initiatives.Decision.REJECTED)
    too_much = decided("initiative-b", 50_000)

    async with running(app) as client:
        response = await client.post(
            BUDGETS,
            headers=token(Role.BUDGET_HOLDER),
            json={
                "kind": "neighbourhood_budget",
                "neighbourhood": "BU03620001",
                "year": 2026,
                "opening_amount_cents": 100_000,
            },
        )
        assert response.status_code == 201, response.text
        budget_id = response.json()["id"]

        await publish(
            kafka,
            f"{namespace}initiatives.events.v1",
            [fits, fits, same_approval_again, refused_by_holder, too_much],
        )
        envelopes = await asyncio.to_thread(
            read_envelopes,
            kafka,
            f"{namespace}budgets.events.v1",
            until=lambda seen: any(e.subject == "initiative-b" for e in seen),
        )

        budget = (await client.get(f"{BUDGETS}/{budget_id}", headers=token(Role.RESIDENT))).json()
        allocation_c = await client.get(
            "/v1/municipalities/GM0362/allocations/initiative-c", headers=token(Role.RESIDENT)
        )

    opened, *envelopes = envelopes
    assert isinstance(opened.data, contract.BudgetOpened) and opened.subject == budget_id
    assert [e.subject for e in envelopes] == ["initiative-a", "initiative-b"]
    allocated, rejected = (e.data for e in envelopes)
    assert isinstance(allocated, contract.BudgetAllocated)
    assert (allocated.budget_id, allocated.neighbourhood) == (budget_id, "BU03620001")
    assert (allocated.amount_cents, allocated.available_after_cents) == (60_000, 40_000)
    assert envelopes[0].causationid == fits.id
    assert envelopes[0].correlationid == fits.correlationid

    assert isinstance(rejected, contract.AllocationRejected)
    assert rejected.budget_id == budget_id
    assert (rejected.requested_cents, rejected.available_cents, rejected.shortfall_cents) == (
        50_000,
        40_000,
        10_000,
    )
    assert rejected.fund_could_cover is False  # the municipality has no fund
    assert "€100.00 short" in rejected.reason
    assert envelopes[1].causationid == too_much.id

    assert budget["balances"]["reserved_cents"] == 60_000
    assert budget["balances"]["available_cents"] == 40_000
    assert allocation_c.status_code == 404  # a rejected initiative asks for no money


def closed(initiative_id: str) -> Envelope:
    data = initiatives.InitiativeClosed(
        municipality="GM0362", initiative_id=initiative_id, reason="Klaar: de bankjes staan er."
    )
    return Envelope.wrap(data, source=INITIATIVES_SOURCE)


async def test_from_approval_to_payment_to_spending_report_to_release_on_close(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/budgets.sqlite3"
    await asyncio.to_thread(create_test_topics, kafka, namespace, 1)
    await asyncio.to_thread(upgrade_to_head, "budgets", url)
    app = create_app(
        settings_for(BudgetsSettings, kafka=kafka, namespace=namespace, database_url=url)
    )
    holder = token(Role.BUDGET_HOLDER, subject="holder-1")
    money = "/v1/municipalities/GM0362/allocations/initiative-a"
    topic = f"{namespace}budgets.events.v1"

    async with running(app) as client:
        response = await client.post(
            BUDGETS,
            headers=holder,
            json={
                "kind": "neighbourhood_budget",
                "neighbourhood": "BU03620001",
                "year": 2026,
                "opening_amount_cents": 100_000,
            },
        )
        budget_id = response.json()["id"]
        await publish(kafka, f"{namespace}initiatives.events.v1", [decided("initiative-a", 60_000)])
        await asyncio.to_thread(read_envelopes, kafka, topic, until=lambda seen: len(seen) == 2)

        plan = await client.put(
            f"{money}/cost-plan",
            headers=holder,
            json={
                "lines": [
                    {"cost_line": "bankjes", "planned_cents": 45_000},
                    {"cost_line": "plaatsing", "planned_cents": 15_000},
                ]
            },
        )
        paid = await client.post(
            f"{money}/disbursements", headers=holder, json={"amount_cents": 50_000}
        )
        spent = await client.post(
            f"{money}/spending",
            headers=holder,
            json={"cost_line": "bankjes", "amount_cents": 47_500, "note": "factuur 2026-114"},
        )
        await publish(kafka, f"{namespace}initiatives.events.v1", [closed("initiative-a")])
        envelopes = await asyncio.to_thread(
            read_envelopes, kafka, topic, until=lambda seen: len(seen) == 5
        )
        budget = (await client.get(f"{BUDGETS}/{budget_id}", headers=holder)).json()

    assert [plan.status_code, paid.status_code, spent.status_code] == [200, 201, 201], spent.text
    assert [type(e.data) for e in envelopes] == [
        contract.BudgetOpened,
        contract.BudgetAllocated,
        contract.FundsDisbursed,
        contract.SpendingReported,
        contract.FundsReleased,
    ]
    disbursed, reported, released = (e.data for e in envelopes[2:])
    assert isinstance(disbursed, contract.FundsDisbursed)
    assert (disbursed.amount_cents, disbursed.still_reserved_cents) == (50_000, 10_000)
    assert disbursed.recorded_by == "holder-1"
    assert isinstance(reported, contract.SpendingReported)
    assert (reported.cost_line, reported.amount_cents, reported.planned_cents) == (
        "bankjes",
        47_500,
        45_000,
    )
    assert isinstance(released, contract.FundsReleased)
    assert (released.amount_cents, released.reason) == (10_000, "underspend")
    assert released.available_after_cents == 50_000
    assert envelopes[4].causationid != envelopes[3].id  # caused by the closing event
    assert budget["balances"]["available_cents"] == 50_000
    assert budget["balances"]["disbursed_cents"] == 50_000
    assert budget["balances"]["spent_cents"] == 47_500
