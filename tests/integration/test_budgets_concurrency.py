"""Never overspent: many reservations at once on real PostgreSQL, each in its own transaction."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.budgets import handlers
from services.budgets.bootstrap import bootstrap
from services.budgets.domain import commands
from services.budgets.domain.model import Allocation, AllocationOutcome, Budget, BudgetKind
from services.budgets.domain.payments import InvalidPayment
from services.budgets.persistence.tables import messaging
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from services.budgets.settings import BudgetsSettings
from shared.migrations import upgrade_to_head
from shared.runtime import Runtime
from shared.testing.helpers import settings_for

OPENING = 1_000_000
NEIGHBOURHOOD = "BU03620001"


@pytest.fixture
async def runtime(postgres_url: str) -> AsyncIterator[Runtime]:
    await asyncio.to_thread(upgrade_to_head, "budgets", postgres_url)
    runtime = bootstrap(
        settings_for(
            BudgetsSettings, kafka="127.0.0.1:9", namespace="unused.", database_url=postgres_url
        )
    )
    assert runtime.engine.dialect.name == "postgresql"
    yield runtime
    await runtime.engine.dispose()


def unit_of_work(runtime: Runtime) -> BudgetsUnitOfWork:
    return BudgetsUnitOfWork(runtime.sessions, messaging, runtime.settings)


async def open_budget(runtime: Runtime) -> Budget:
    command = commands.OpenNeighbourhoodBudget(
        kind=BudgetKind.NEIGHBOURHOOD_BUDGET,
        neighbourhood=NEIGHBOURHOOD,
        year=2026,
        opening_amount_cents=OPENING,
    )
    async with unit_of_work(runtime) as uow:
        budget, _ = await handlers.open_budget(
            command, municipality="GM0362", opened_by="holder-1", uow=uow
        )
    return budget


async def allocate(runtime: Runtime, initiative_id: str, amount: int) -> Allocation:
    command = commands.AllocateFunds(
        municipality="GM0362",
        initiative_id=initiative_id,
        funding_source=BudgetKind.NEIGHBOURHOOD_BUDGET,
        neighbourhood=NEIGHBOURHOOD,
        requested_cents=amount,
        decided_at=datetime(2026, 4, 1, tzinfo=UTC),
    )
    async with unit_of_work(runtime) as uow:
        allocation = await handlers.allocate_funds(command, cause=None, uow=uow)
        await uow.commit()
    return allocation


async def allocate_all_at_once(
    runtime: Runtime, requests: list[tuple[str, int]]
) -> list[Allocation]:
    return list(await asyncio.gather(*(allocate(runtime, i, amount) for i, amount in requests)))


async def reserved_in_database(runtime: Runtime, budget: Budget) -> int:
    async with runtime.engine.connect() as connection:
        total = await connection.scalar(
            text(
                "SELECT coalesce(sum(amount_cents), 0) FROM ledger_entry "
                "WHERE budget_id = :budget AND kind = 'reserved'"
            ),
            {"budget": budget.id},
        )
    return int(total)


async def test_fifty_concurrent_reservations_reserve_exactly_the_ones_that_fit(
    runtime: Runtime,
) -> None:
    budget = await open_budget(runtime)
    amount = 30_000  # 33 of these fit in the opening amount, with 10_000 left over

    allocations = await allocate_all_at_once(
        runtime, [(f"initiative-{n}", amount) for n in range(50)]
    )

    allocated = [a for a in allocations if a.outcome is AllocationOutcome.ALLOCATED]
    refused = [a for a in allocations if a.outcome is AllocationOutcome.REFUSED]
    assert len(allocated) == OPENING // amount == 33
    assert len(refused) == 17
    # Every refusal saw the true remainder, not a stale balance.
    assert {a.shortfall_cents for a in refused} == {amount - OPENING % amount}
    assert await reserved_in_database(runtime, budget) == 33 * amount
    async with unit_of_work(runtime) as uow:
        balances = await uow.ledger.balances(budget.id)
    assert balances.available_cents == OPENING - 33 * amount
    assert balances.committed_cents == 33 * amount


async def test_concurrent_reservations_of_different_sizes_never_overspend(
    runtime: Runtime,
) -> None:
    budget = await open_budget(runtime)
    amounts = [random.Random(2026 + n).randrange(5_000, 80_000) for n in range(50)]
    assert sum(amounts) > 1.5 * OPENING  # far more asked than there is

    allocations = await allocate_all_at_once(
        runtime, [(f"initiative-{n}", amount) for n, amount in enumerate(amounts)]
    )

    reserved = sum(a.amount_cents for a in allocations if a.outcome is AllocationOutcome.ALLOCATED)
    refused = [a for a in allocations if a.outcome is AllocationOutcome.REFUSED]
    assert 0 < reserved <= OPENING
    assert refused
    assert await reserved_in_database(runtime, budget) == reserved
    async with unit_of_work(runtime) as uow:
        left = (await uow.ledger.balances(budget.id)).available_cents
    assert left == OPENING - reserved
    # What is available only shrinks, so a refused request must not fit even now.
    assert all(a.requested_cents > left for a in refused)


async def test_concurrent_approvals_of_one_initiative_reserve_it_once(runtime: Runtime) -> None:
    budget = await open_budget(runtime)

    allocations = await allocate_all_at_once(runtime, [("initiative-1", 100_000)] * 10)

    assert all(a.outcome is AllocationOutcome.ALLOCATED for a in allocations)
    assert await reserved_in_database(runtime, budget) == 100_000
    async with runtime.engine.connect() as connection:
        outbox_rows = await connection.scalar(text("SELECT count(*) FROM outbox"))
    assert outbox_rows == 2  # BudgetOpened, then one BudgetAllocated, not ten


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET amount_cents = 1",
        "DELETE FROM ledger_entry",
        "TRUNCATE ledger_entry",
    ],
)
async def test_postgresql_refuses_to_change_or_remove_ledger_entries(
    runtime: Runtime, statement: str
) -> None:
    budget = await open_budget(runtime)

    with pytest.raises(DBAPIError, match="append-only"):
        async with runtime.engine.begin() as connection:
            await connection.execute(text(statement))

    async with unit_of_work(runtime) as uow:
        assert (await uow.ledger.balances(budget.id)).available_cents == OPENING


async def disburse(runtime: Runtime, initiative_id: str, amount: int) -> bool:
    async with unit_of_work(runtime) as uow:
        try:
            await handlers.disburse_funds(
                commands.DisburseFunds(amount_cents=amount),
                municipality="GM0362",
                initiative_id=initiative_id,
                recorded_by="holder-1",
                uow=uow,
            )
        except InvalidPayment:
            return False
        await uow.commit()
    return True


async def test_concurrent_disbursements_never_pay_more_than_the_reservation(
    runtime: Runtime,
) -> None:
    budget = await open_budget(runtime)
    await allocate(runtime, "initiative-1", 100_000)

    paid = await asyncio.gather(*(disburse(runtime, "initiative-1", 15_000) for _ in range(20)))

    assert paid.count(True) == 100_000 // 15_000 == 6
    async with unit_of_work(runtime) as uow:
        balances = await uow.ledger.balances(budget.id)
        position = await uow.ledger.position(budget.id, "initiative-1")
    assert balances.disbursed_cents == position.disbursed_cents == 90_000
    assert position.committed_cents == 10_000
