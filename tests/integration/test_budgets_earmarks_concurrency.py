"""Earmarks under concurrency on real PostgreSQL: many reservations of several themes and
earmark changes at once, each in its own transaction, never overdraw an earmark or the budget
and never let another theme use earmarked money."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from services.budgets import handlers
from services.budgets.bootstrap import bootstrap
from services.budgets.domain import commands
from services.budgets.domain.exceptions import BudgetError
from services.budgets.domain.model import Account, Allocation, Budget, BudgetKind
from services.budgets.persistence.tables import messaging
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from services.budgets.settings import BudgetsSettings
from shared.migrations import upgrade_to_head
from shared.runtime import Runtime
from shared.testing.helpers import settings_for

OPENING = 1_000_000


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
    async with unit_of_work(runtime) as uow:
        budget, _ = await handlers.open_budget(
            commands.OpenNeighbourhoodBudget(
                kind=BudgetKind.NEIGHBOURHOOD_BUDGET,
                neighbourhood="BU03620001",
                year=2026,
                opening_amount_cents=OPENING,
            ),
            municipality="GM0362",
            opened_by="holder-1",
            uow=uow,
        )
    return budget


async def earmark(runtime: Runtime, budget: Budget, theme: str, amount: int) -> bool:
    try:
        async with unit_of_work(runtime) as uow:
            await handlers.set_earmark(
                commands.SetEarmark(amount_cents=amount),
                municipality="GM0362",
                budget_id=budget.id,
                theme=theme,
                recorded_by="holder-1",
                uow=uow,
            )
            await uow.commit()
    except BudgetError:
        return False
    return True


async def allocate(runtime: Runtime, initiative_id: str, theme: str, amount: int) -> Allocation:
    async with unit_of_work(runtime) as uow:
        allocation = await handlers.allocate_funds(
            commands.AllocateFunds(
                municipality="GM0362",
                initiative_id=initiative_id,
                funding_source=BudgetKind.NEIGHBOURHOOD_BUDGET,
                neighbourhood="BU03620001",
                requested_cents=amount,
                decided_at=datetime(2026, 4, 1, tzinfo=UTC),
                theme=theme,
            ),
            cause=None,
            uow=uow,
        )
        await uow.commit()
    return allocation


async def test_concurrent_reservations_and_earmark_changes_never_overdraw_anything(
    runtime: Runtime,
) -> None:
    budget = await open_budget(runtime)
    assert await earmark(runtime, budget, "groen", 400_000)
    requests = [(f"groen-{n}", "groen", 50_000) for n in range(20)]
    requests += [(f"jeugd-{n}", "jeugd", 60_000) for n in range(10)]
    work = [allocate(runtime, *request) for request in requests]
    # Meanwhile the budget holder changes the earmarks: some of these are refused, in turn.
    work += [earmark(runtime, budget, "groen", amount) for amount in (300_000, 500_000)]
    work += [earmark(runtime, budget, "sport", 150_000)]
    random.Random(7).shuffle(work)

    await asyncio.gather(*work)

    async with unit_of_work(runtime) as uow:
        balances = await uow.ledger.balances(budget.id)
        earmarks = await uow.ledger.earmarks(budget.id)
        entries = await uow.ledger.entries(budget.id, limit=1000, offset=0)
        allocations = await uow.allocations.reserved_from("GM0362", [budget.id])
    reserved = {a.initiative_id: a.amount_cents for a in allocations}
    in_earmarks = sum(e.remaining_cents for e in earmarks.values())

    assert balances.available_cents >= 0
    assert all(e.remaining_cents >= 0 for e in earmarks.values())
    assert balances.funded_cents == OPENING
    assert balances.available_cents + in_earmarks + balances.committed_cents == OPENING
    assert sum(reserved.values()) == balances.committed_cents <= OPENING
    # Money earmarked for groen or sport never paid for jeugd.
    jeugd = [e for e in entries if e.initiative_id and e.initiative_id.startswith("jeugd")]
    assert all(e.debit_account is Account.AVAILABLE and e.earmark is None for e in jeugd)
    # Each groen initiative drew on the groen earmark, up to what it held.
    groen = earmarks["groen"]
    assert groen.committed_cents == sum(v for k, v in reserved.items() if k.startswith("groen"))
    assert groen.remaining_cents == 0 or len([k for k in reserved if k.startswith("groen")]) == 20
