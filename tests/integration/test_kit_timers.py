"""Durable timers fire once, after restarts and with two wheels racing on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.messaging.tables import MessagingTables
from shared.messaging.timers import Timer, TimerWheel, cancel, schedule
from shared.messaging.unit_of_work import UnitOfWork
from shared.persistence import create_engine, session_factory
from shared.settings import ServiceSettings

SETTINGS = ServiceSettings(environment="development")


async def _setup(url: str) -> tuple[MessagingTables, partial[UnitOfWork], AsyncEngine]:
    metadata = MetaData()
    tables = MessagingTables(metadata, timers=True)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return tables, partial(UnitOfWork, session_factory(engine), tables, SETTINGS), engine


async def _schedule(
    uow_factory: partial[UnitOfWork], tables: MessagingTables, timers: list[tuple[str, datetime]]
) -> None:
    async with uow_factory() as uow:
        for key, due in timers:
            await schedule(
                uow.session, tables, name="deadline", key=key, due_at=due, payload={"key": key}
            )
        await uow.commit()


async def test_due_timers_fire_once_and_not_again_after_a_restart(tmp_path: Path) -> None:
    tables, uow_factory, engine = await _setup(f"sqlite+aiosqlite:///{tmp_path}/t.sqlite3")
    now = datetime.now(UTC)
    await _schedule(
        uow_factory,
        tables,
        [
            ("past", now - timedelta(hours=1)),
            ("soon", now + timedelta(milliseconds=300)),
            ("cancelled", now),
            ("later", now + timedelta(days=1)),
        ],
    )
    async with uow_factory() as uow:
        await cancel(uow.session, tables, name="deadline", key="cancelled")
        await uow.commit()
    fired: list[str] = []

    async def on_deadline(timer: Timer, uow: UnitOfWork) -> None:
        fired.append(timer.payload["key"])

    wheel = TimerWheel(
        unit_of_work=uow_factory,
        handlers={"deadline": on_deadline},
        service="test",
        max_sleep_s=0.1,
    )
    task = asyncio.create_task(wheel.run())
    for _ in range(50):
        if len(fired) == 2:
            break
        await asyncio.sleep(0.05)
    await wheel.stop()
    await task
    assert fired == ["past", "soon"]

    restarted = TimerWheel(
        unit_of_work=uow_factory, handlers={"deadline": on_deadline}, service="test"
    )
    assert await restarted.fire_due() == 0
    assert fired == ["past", "soon"]
    await engine.dispose()


async def test_a_failing_timer_is_postponed_and_does_not_block_the_others(tmp_path: Path) -> None:
    tables, uow_factory, engine = await _setup(f"sqlite+aiosqlite:///{tmp_path}/t.sqlite3")
    now = datetime.now(UTC)
    await _schedule(
        uow_factory,
        tables,
        [("broken", now - timedelta(minutes=2)), ("fine", now - timedelta(minutes=1))],
    )
    fired: list[str] = []

    async def on_deadline(timer: Timer, uow: UnitOfWork) -> None:
        if timer.key == "broken":
            raise RuntimeError("council not found")
        fired.append(timer.key)

    wheel = TimerWheel(unit_of_work=uow_factory, handlers={"deadline": on_deadline}, service="test")
    await wheel.fire_due()
    assert fired == ["fine"]
    async with uow_factory() as uow:
        row = (
            await (await uow.session.connection()).execute(
                select(tables.timer).where(tables.timer.c.key == "broken")
            )
        ).one()
    assert row.fired_at is None and row.attempts == 1 and "council not found" in row.last_error
    assert row.due_at.replace(tzinfo=UTC) > now
    await engine.dispose()


async def test_two_wheels_on_postgresql_fire_every_timer_exactly_once(postgres_url: str) -> None:
    tables, uow_factory, engine = await _setup(postgres_url)
    past = datetime.now(UTC) - timedelta(seconds=1)
    await _schedule(uow_factory, tables, [(f"t{n}", past) for n in range(200)])
    fired: list[str] = []

    async def on_deadline(timer: Timer, uow: UnitOfWork) -> None:
        fired.append(timer.key)
        await asyncio.sleep(0)  # let the other wheel run in between

    wheels = [
        TimerWheel(
            unit_of_work=uow_factory,
            handlers={"deadline": on_deadline},
            service="test",
            batch_size=1000,
        )
        for _ in range(2)
    ]
    counts = await asyncio.gather(*(wheel.fire_due() for wheel in wheels))
    assert sorted(fired) == sorted(f"t{n}" for n in range(200))
    assert all(count > 0 for count in counts), counts
    await engine.dispose()
