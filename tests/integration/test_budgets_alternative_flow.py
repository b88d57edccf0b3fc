"""The alternative budget on real PostgreSQL and a real Kafka broker: drafted, co-signed,
submitted, partly adopted by the municipal council, its lines made earmarks, an approved
initiative of an adopted theme reserved from its earmark, paid and accounted for, and the
monitoring report showing it, with every event out through the outbox relay."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from aiokafka import AIOKafkaProducer

from services.budgets.app import create_app
from services.budgets.settings import BudgetsSettings
from shared.auth import Role
from shared.contracts import budgets as contract
from shared.contracts import initiatives
from shared.contracts.envelope import Envelope
from shared.migrations import upgrade_to_head
from shared.testing.helpers import create_test_topics, read_envelopes, running, settings_for, token

ROOT = "/v1/municipalities/GM0362"
INITIATIVES_SOURCE = "urn:nld:gemeente-GM0362:systeem:inspraak-initiatives"
HOLDER = token(Role.BUDGET_HOLDER, subject="holder-1")
DRAFTER = token(Role.RESIDENT, subject="resident-1")
NEIGHBOUR = token(Role.RESIDENT, subject="resident-2")
CIVIL_SERVANT = token(Role.CIVIL_SERVANT, subject="civil-1")


def approved_bomen() -> Envelope:
    data = initiatives.InitiativeDecided(
        municipality="GM0362",
        initiative_id="bomen-in-de-straat",
        title="Bomen in de straat",
        neighbourhood="BU03620001",
        theme="Groen",
        initiative_type="buurt-klein",
        requested_amount_cents=600_000,
        funding_source=initiatives.FundingSource.NEIGHBOURHOOD_BUDGET,
        initiator_id="resident-7",
        decision=initiatives.Decision.APPROVED,
        reasons="Past binnen de groene begroting.",
        decided_by="holder-1",
        decided_at=datetime(2026, 4, 2, 9, 30, tzinfo=UTC),
    )
    return Envelope.wrap(data, source=INITIATIVES_SOURCE)


async def publish(kafka: str, topic: str, envelope: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            envelope.kafka_value(),
            key=envelope.partitionkey.encode(),
            headers=envelope.kafka_headers(),
        )
    finally:
        await producer.stop()


async def test_an_alternative_budget_from_draft_to_partly_adopted_to_monitored_spending(
    kafka: str, namespace: str, postgres_url: str
) -> None:
    await asyncio.to_thread(create_test_topics, kafka, namespace, 1)
    await asyncio.to_thread(upgrade_to_head, "budgets", postgres_url)
    app = create_app(
        settings_for(BudgetsSettings, kafka=kafka, namespace=namespace, database_url=postgres_url)
    )
    assert app.state.runtime.engine.dialect.name == "postgresql"
    topic = f"{namespace}budgets.events.v1"
    money = f"{ROOT}/allocations/bomen-in-de-straat"

    async with running(app) as client:
        opened = await client.post(
            f"{ROOT}/budgets",
            headers=HOLDER,
            json={
                "kind": "neighbourhood_budget",
                "neighbourhood": "BU03620001",
                "year": 2026,
                "opening_amount_cents": 5_000_000,
            },
        )
        budget_id = opened.json()["id"]
        drafted = await client.post(
            f"{ROOT}/alternative-budgets",
            headers=DRAFTER,
            json={
                "budget_id": budget_id,
                "title": "Een groenere buurt",
                "lines": [
                    {"theme": "groen", "amount_cents": 2_000_000, "motivation": "Meer bomen."},
                    {"theme": "jeugd", "amount_cents": 2_000_000, "motivation": "Trapveldje."},
                    {"theme": "ontmoeten", "amount_cents": 1_000_000, "motivation": "Buurtfeest."},
                ],
            },
        )
        url = f"{ROOT}/alternative-budgets/{drafted.json()['id']}"
        await client.post(f"{url}/co-signatures", headers=NEIGHBOUR)
        submitted = await client.post(f"{url}/submission", headers=DRAFTER)
        adopted = await client.post(
            f"{url}/council-decision",
            headers=CIVIL_SERVANT,
            json={
                "adoption": "partly",
                "reasons": "Ontmoeten loopt via het initiatievenfonds.",
                "decided_on": "2026-03-12",
                "lines": [
                    {"theme": "groen", "adopted_cents": 1_500_000, "reasons": "Bomen zijn duur."},
                    {"theme": "jeugd", "adopted_cents": 2_000_000},
                ],
            },
        )
        assert [submitted.status_code, adopted.status_code] == [200, 200], adopted.text

        await publish(kafka, f"{namespace}initiatives.events.v1", approved_bomen())
        await asyncio.to_thread(
            read_envelopes,
            kafka,
            topic,
            until=lambda seen: any(isinstance(e.data, contract.BudgetAllocated) for e in seen),
        )
        paid = await client.post(
            f"{money}/disbursements", headers=HOLDER, json={"amount_cents": 400_000}
        )
        spent = await client.post(
            f"{money}/spending",
            headers=HOLDER,
            json={"cost_line": "bomen", "amount_cents": 350_000, "note": "factuur 2026-31"},
        )
        assert [paid.status_code, spent.status_code] == [201, 201], spent.text
        envelopes = await asyncio.to_thread(
            read_envelopes,
            kafka,
            topic,
            until=lambda seen: any(isinstance(e.data, contract.SpendingReported) for e in seen),
        )
        monitoring = (await client.get(f"{url}/monitoring", headers=token(Role.RESIDENT))).json()

    assert [type(e.data) for e in envelopes] == [
        contract.BudgetOpened,
        contract.AlternativeBudgetSubmitted,
        contract.AlternativeBudgetAdopted,
        contract.EarmarkSet,
        contract.EarmarkSet,
        contract.BudgetAllocated,
        contract.FundsDisbursed,
        contract.SpendingReported,
    ]
    submitted_event, adopted_event, *earmarks = (e.data for e in envelopes[1:5])
    assert isinstance(submitted_event, contract.AlternativeBudgetSubmitted)
    assert submitted_event.co_signer_ids == ["resident-2"]
    assert submitted_event.total_cents == 5_000_000
    assert envelopes[1].subject == drafted.json()["id"]  # keyed by the alternative budget
    assert isinstance(adopted_event, contract.AlternativeBudgetAdopted)
    assert adopted_event.adoption is contract.AdoptionExtent.PARTLY
    assert [
        (line.theme, line.proposed_cents, line.adopted_cents) for line in adopted_event.lines
    ] == [
        ("groen", 2_000_000, 1_500_000),
        ("jeugd", 2_000_000, 2_000_000),
    ]
    assert adopted_event.decided_on == date(2026, 3, 12)
    assert adopted_event.recorded_by == "civil-1"
    assert all(isinstance(e, contract.EarmarkSet) for e in earmarks)
    assert sorted(
        (e.theme, e.amount_cents, e.alternative_budget_id)
        for e in earmarks
        if isinstance(e, contract.EarmarkSet)
    ) == [
        ("groen", 1_500_000, drafted.json()["id"]),
        ("jeugd", 2_000_000, drafted.json()["id"]),
    ]
    allocated = envelopes[5].data
    assert isinstance(allocated, contract.BudgetAllocated)
    # The groen earmark paid the whole 6,000: the money nobody earmarked stayed where it was.
    assert allocated.available_after_cents == 1_500_000

    assert monitoring["adoption"] == "partly"
    assert [
        (
            line["theme"],
            line["adopted_cents"],
            line["reserved_cents"],
            line["disbursed_cents"],
            line["spent_cents"],
            line["remaining_cents"],
        )
        for line in monitoring["lines"]
    ] == [
        ("groen", 1_500_000, 200_000, 400_000, 350_000, 900_000),
        ("jeugd", 2_000_000, 0, 0, 0, 2_000_000),
    ]
    assert monitoring["totals"]["spent_cents"] == 350_000
