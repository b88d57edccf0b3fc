"""Allocating money to approved initiatives, at the handler and unit-of-work level, on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from services.budgets import handlers
from services.budgets.bootstrap import bootstrap
from services.budgets.domain import commands
from services.budgets.domain.model import AllocationOutcome, Budget, BudgetKind
from services.budgets.persistence.tables import messaging
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from services.budgets.settings import BudgetsSettings
from shared.contracts import budgets as contract
from shared.contracts import initiatives
from shared.contracts.envelope import Envelope, parse_record
from shared.messaging.outbox import decode_headers
from shared.migrations import upgrade_to_head
from shared.runtime import Runtime
from shared.testing.helpers import settings_for

DECIDED_AT = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
NEIGHBOURHOOD = "BU03620001"


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    url = f"sqlite+aiosqlite:///{tmp_path}/budgets.sqlite3"
    await asyncio.to_thread(upgrade_to_head, "budgets", url)
    runtime = bootstrap(
        settings_for(BudgetsSettings, kafka="127.0.0.1:9", namespace="unused.", database_url=url)
    )
    yield runtime
    await runtime.engine.dispose()


def unit_of_work(runtime: Runtime) -> BudgetsUnitOfWork:
    return BudgetsUnitOfWork(runtime.sessions, messaging, runtime.settings)


async def open_neighbourhood_budget(runtime: Runtime, amount: int, year: int = 2026) -> Budget:
    command = commands.OpenNeighbourhoodBudget(
        kind=BudgetKind.NEIGHBOURHOOD_BUDGET,
        neighbourhood=NEIGHBOURHOOD,
        year=year,
        opening_amount_cents=amount,
    )
    async with unit_of_work(runtime) as uow:
        budget, _ = await handlers.open_budget(
            command, municipality="GM0362", opened_by="holder-1", uow=uow
        )
    return budget


async def open_fund(runtime: Runtime, amount: int, ceiling: int) -> Budget:
    command = commands.OpenInitiativesFund(
        kind=BudgetKind.INITIATIVES_FUND,
        opening_amount_cents=amount,
        max_per_initiative_cents=ceiling,
    )
    async with unit_of_work(runtime) as uow:
        budget, _ = await handlers.open_budget(
            command, municipality="GM0362", opened_by="holder-1", uow=uow
        )
    return budget


def request(initiative_id: str, amount: int, **changes: Any) -> commands.AllocateFunds:
    values: dict[str, Any] = {
        "municipality": "GM0362",
        "initiative_id": initiative_id,
        "funding_source": BudgetKind.NEIGHBOURHOOD_BUDGET,
        "neighbourhood": NEIGHBOURHOOD,
        "requested_cents": amount,
        "decided_at": DECIDED_AT,
        **changes,
    }
    return commands.AllocateFunds(**values)


async def allocate(
    runtime: Runtime, command: commands.AllocateFunds, cause: Envelope | None = None
) -> None:
    async with unit_of_work(runtime) as uow:
        await handlers.allocate_funds(command, cause=cause, uow=uow)
        await uow.commit()


async def available(runtime: Runtime, budget: Budget) -> int:
    async with unit_of_work(runtime) as uow:
        return (await uow.ledger.balances(budget.id)).available_cents


async def published(runtime: Runtime, *, with_openings: bool = False) -> list[Envelope]:
    """What the unit of work left in the outbox for the relay, oldest first.

    Budgets announce their opening too; most tests here look only at what follows.
    """
    outbox = runtime.tables.outbox
    async with runtime.engine.connect() as connection:
        rows = (await connection.execute(select(outbox).order_by(outbox.c.id))).all()
    envelopes = [parse_record(decode_headers(row.headers), row.value) for row in rows]
    return [
        envelope
        for envelope in envelopes
        if envelope is not None
        and (with_openings or not isinstance(envelope.data, contract.BudgetOpened))
    ]


async def test_opening_a_budget_announces_it_keyed_by_the_budget(runtime: Runtime) -> None:
    budget = await open_neighbourhood_budget(runtime, 100_000)
    fund = await open_fund(runtime, 500_000, ceiling=50_000)

    first, second = await published(runtime, with_openings=True)

    assert isinstance(first.data, contract.BudgetOpened)
    assert isinstance(second.data, contract.BudgetOpened)
    assert first.partitionkey == first.subject == budget.id
    assert (first.data.kind, first.data.neighbourhood, first.data.year) == (
        "neighbourhood_budget",
        NEIGHBOURHOOD,
        2026,
    )
    assert first.data.opening_amount_cents == 100_000
    assert second.data.budget_id == fund.id
    assert (second.data.neighbourhood, second.data.max_per_initiative_cents) == (None, 50_000)


async def test_an_initiative_is_reserved_once_however_many_events_approve_it(
    runtime: Runtime,
) -> None:
    budget = await open_neighbourhood_budget(runtime, 100_000)

    await allocate(runtime, request("i-1", 30_000))
    await allocate(runtime, request("i-1", 30_000))
    await allocate(runtime, request("i-1", 50_000))

    assert await available(runtime, budget) == 70_000
    async with unit_of_work(runtime) as uow:
        entries = await uow.ledger.entries(budget.id, limit=10, offset=0)
    assert [(e.kind, e.initiative_id, e.amount_cents) for e in entries][1:] == [
        ("reserved", "i-1", 30_000)
    ]
    events = await published(runtime)
    assert [type(e.data) for e in events] == [contract.BudgetAllocated]
    allocated = events[0].data
    assert isinstance(allocated, contract.BudgetAllocated)
    assert (allocated.budget_id, allocated.amount_cents, allocated.available_after_cents) == (
        budget.id,
        30_000,
        70_000,
    )
    assert events[0].subject == events[0].partitionkey == "i-1"


async def test_an_approval_without_a_budget_is_refused_and_succeeds_once_there_is_one(
    runtime: Runtime,
) -> None:
    await allocate(runtime, request("i-1", 40_000))
    budget = await open_neighbourhood_budget(runtime, 100_000)
    await allocate(runtime, request("i-1", 40_000))

    rejected, allocated = [e.data for e in await published(runtime)]
    assert isinstance(rejected, contract.AllocationRejected)
    assert rejected.budget_id is None
    assert (rejected.requested_cents, rejected.available_cents, rejected.shortfall_cents) == (
        40_000,
        0,
        40_000,
    )
    assert "no neighbourhood budget for BU03620001 in 2026" in rejected.reason
    assert isinstance(allocated, contract.BudgetAllocated)
    assert await available(runtime, budget) == 60_000
    async with unit_of_work(runtime) as uow:
        allocation = await uow.allocations.get("GM0362", "i-1")
    assert allocation is not None and allocation.outcome is AllocationOutcome.ALLOCATED


async def test_the_neighbourhood_budget_is_that_of_the_decision_year_in_amsterdam(
    runtime: Runtime,
) -> None:
    old_year = await open_neighbourhood_budget(runtime, 100_000, year=2025)
    new_year = await open_neighbourhood_budget(runtime, 100_000, year=2026)

    # 23:30 UTC on New Year's Eve is already 2026 in Amsterdam.
    await allocate(
        runtime, request("i-1", 10_000, decided_at=datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    )

    assert await available(runtime, old_year) == 100_000
    assert await available(runtime, new_year) == 90_000


async def test_a_refused_neighbourhood_request_says_the_fund_could_cover_it(
    runtime: Runtime,
) -> None:
    await open_neighbourhood_budget(runtime, 10_000)
    await open_fund(runtime, 1_000_000, ceiling=300_000)

    await allocate(runtime, request("i-1", 250_000))
    await allocate(runtime, request("i-2", 400_000))

    coverable, above_ceiling = [e.data for e in await published(runtime)]
    assert isinstance(coverable, contract.AllocationRejected)
    assert isinstance(above_ceiling, contract.AllocationRejected)
    assert (coverable.available_cents, coverable.shortfall_cents) == (10_000, 240_000)
    assert coverable.fund_could_cover is True
    assert above_ceiling.fund_could_cover is False


async def test_the_fund_respects_its_ceiling_per_initiative(runtime: Runtime) -> None:
    fund = await open_fund(runtime, 1_000_000, ceiling=300_000)

    await allocate(runtime, request("i-1", 300_000, funding_source=BudgetKind.INITIATIVES_FUND))
    await allocate(runtime, request("i-2", 300_001, funding_source=BudgetKind.INITIATIVES_FUND))

    allocated, refused = [e.data for e in await published(runtime)]
    assert isinstance(allocated, contract.BudgetAllocated)
    assert allocated.neighbourhood is None and allocated.budget_id == fund.id
    assert isinstance(refused, contract.AllocationRejected)
    assert refused.budget_id == fund.id
    assert (refused.available_cents, refused.shortfall_cents) == (300_000, 1)
    assert refused.fund_could_cover is False
    assert "at most €3,000.00 per initiative" in refused.reason
    assert await available(runtime, fund) == 700_000


async def test_the_events_follow_the_decision_that_caused_them(runtime: Runtime) -> None:
    await open_neighbourhood_budget(runtime, 100_000)
    decided = initiatives.InitiativeDecided(
        municipality="GM0362",
        initiative_id="i-1",
        title="Bankjes",
        neighbourhood=NEIGHBOURHOOD,
        theme="groen",
        initiative_type="buurt",
        requested_amount_cents=5_000,
        funding_source=initiatives.FundingSource.NEIGHBOURHOOD_BUDGET,
        initiator_id="r-1",
        decision=initiatives.Decision.APPROVED,
        reasons="",
        decided_by="holder-1",
        decided_at=DECIDED_AT,
    )
    cause = Envelope.wrap(decided, source="urn:nld:gemeente-GM0362:systeem:inspraak-initiatives")

    await allocate(runtime, request("i-1", 5_000), cause=cause)

    (event,) = await published(runtime)
    assert event.causationid == cause.id
    assert event.correlationid == cause.correlationid
    assert event.source == "urn:nld:gemeente-GM0362:systeem:inspraak-budgets"
    assert event.municipality == "GM0362"


@pytest.mark.parametrize(
    "statement",
    ["UPDATE ledger_entry SET amount_cents = 1", "DELETE FROM ledger_entry"],
)
async def test_ledger_entries_can_be_neither_changed_nor_removed(
    runtime: Runtime, statement: str
) -> None:
    budget = await open_neighbourhood_budget(runtime, 100_000)

    with pytest.raises(DBAPIError, match="append-only"):
        async with runtime.engine.begin() as connection:
            await connection.execute(text(statement))

    assert await available(runtime, budget) == 100_000


async def test_within_one_batch_transaction_each_reservation_sees_the_ones_before_it(
    runtime: Runtime,
) -> None:
    budget = await open_neighbourhood_budget(runtime, 100_000)

    # The batch consumer applies a whole batch of events in one unit of work.
    async with unit_of_work(runtime) as uow:
        for command in [
            request("i-1", 60_000),
            request("i-1", 60_000),
            request("i-2", 40_000),
            request("i-3", 1),
        ]:
            await handlers.allocate_funds(command, cause=None, uow=uow)
        await uow.commit()

    assert await available(runtime, budget) == 0
    outcomes = [(e.subject, type(e.data)) for e in await published(runtime)]
    assert outcomes == [
        ("i-1", contract.BudgetAllocated),
        ("i-2", contract.BudgetAllocated),
        ("i-3", contract.AllocationRejected),
    ]
