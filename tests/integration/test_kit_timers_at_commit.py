"""A unit of work collects its timer changes and writes them at commit, in one statement per
kind, on SQLite and PostgreSQL, with the same meaning as writing them one by one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.messaging.tables import MessagingTables
from shared.messaging.timers import Timer, TimerWheel, cancel, schedule
from shared.messaging.unit_of_work import UnitOfWork
from shared.persistence import create_engine, session_factory
from shared.settings import ServiceSettings

SETTINGS = ServiceSettings(environment="development")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@dataclass
class Kit:
    tables: MessagingTables
    engine: AsyncEngine
    unit_of_work: partial[UnitOfWork]

    async def timers(self) -> list[Any]:
        """Every timer row, in id order (the order the rows were written)."""
        timer = self.tables.timer
        async with self.engine.connect() as connection:
            return list((await connection.execute(select(timer).order_by(timer.c.id))).all())

    @contextmanager
    def statements_on_timer_table(self) -> Iterator[list[str]]:
        seen: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if "timer" in statement:
                seen.append(statement.split()[0].upper())

        event.listen(self.engine.sync_engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(self.engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture(params=["sqlite", "postgresql"])
async def kit(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Kit]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/timers.sqlite3"
    else:
        url = request.getfixturevalue("postgres_url")
    metadata = MetaData()
    tables = MessagingTables(metadata, timers=True)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield Kit(tables, engine, partial(UnitOfWork, session_factory(engine), tables, SETTINGS))
    await engine.dispose()


async def test_timers_are_written_at_commit_in_one_statement_in_the_order_scheduled(
    kit: Kit,
) -> None:
    keys = [f"request-{n:03}" for n in range(300)]
    with kit.statements_on_timer_table() as statements:
        async with kit.unit_of_work() as uow:
            for n, key in enumerate(keys):
                await schedule(
                    uow.session,
                    uow.tables,
                    name="deadline",
                    key=key,
                    due_at=NOW + timedelta(minutes=n),
                    payload={"n": n},
                )
            assert statements == [], "scheduling inside a unit of work writes nothing yet"
            await uow.commit()
    assert statements == ["INSERT"]
    rows = await kit.timers()
    assert [row.key for row in rows] == keys
    assert [row.payload for row in rows] == [f'{{"n": {n}}}' for n in range(300)]
    assert all(row.fired_at is None and row.attempts == 0 for row in rows)


async def test_a_rolled_back_unit_of_work_writes_no_timer(kit: Kit) -> None:
    async with kit.unit_of_work() as uow:
        await schedule(uow.session, uow.tables, name="deadline", key="abandoned", due_at=NOW)
        await uow.rollback()
        with kit.statements_on_timer_table() as statements:
            await schedule(uow.session, uow.tables, name="deadline", key="kept", due_at=NOW)
            assert statements == []
            await uow.commit()
    async with kit.unit_of_work() as uow:
        await schedule(uow.session, uow.tables, name="deadline", key="never-committed", due_at=NOW)
    assert [row.key for row in await kit.timers()] == ["kept"]


async def test_the_last_change_to_a_timer_in_a_unit_of_work_wins(kit: Kit) -> None:
    async with kit.unit_of_work() as uow:
        for key in ("fired", "cancelled-before", "moved"):
            await schedule(uow.session, uow.tables, name="deadline", key=key, due_at=NOW)
        await uow.commit()
    timer = kit.tables.timer
    async with kit.engine.begin() as connection:
        await connection.execute(
            update(timer).where(timer.c.key == "fired").values(fired_at=NOW, attempts=2)
        )

    with kit.statements_on_timer_table() as statements:
        async with kit.unit_of_work() as uow:
            session, tables = uow.session, uow.tables
            # scheduled, then cancelled: no timer
            await schedule(session, tables, name="deadline", key="new-then-cancelled", due_at=NOW)
            await cancel(session, tables, name="deadline", key="new-then-cancelled")
            # an existing timer cancelled, then scheduled again: it fires at the new moment
            await cancel(session, tables, name="deadline", key="cancelled-before")
            later = NOW + timedelta(days=3)
            await schedule(session, tables, name="deadline", key="cancelled-before", due_at=later)
            # moved twice: the last moment counts
            await schedule(session, tables, name="deadline", key="moved", due_at=later)
            await schedule(
                session, tables, name="deadline", key="moved", due_at=later + timedelta(hours=1)
            )
            # a fired timer scheduled again is re-armed
            await schedule(session, tables, name="deadline", key="fired", due_at=later)
            # another name with the same key is another timer
            await schedule(session, tables, name="reminder", key="moved", due_at=NOW)
            await uow.commit()
    assert statements == ["DELETE", "INSERT"]
    rows = {(row.name, row.key): row for row in await kit.timers()}
    assert set(rows) == {
        ("deadline", "fired"),
        ("deadline", "cancelled-before"),
        ("deadline", "moved"),
        ("reminder", "moved"),
    }

    def due(name: str, key: str) -> datetime:
        moment: datetime = rows[(name, key)].due_at
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    assert due("deadline", "cancelled-before") == later
    assert due("deadline", "moved") == later + timedelta(hours=1)
    assert due("deadline", "fired") == later
    assert rows[("deadline", "fired")].fired_at is None
    assert rows[("deadline", "fired")].attempts == 0


async def test_cancel_at_commit_leaves_a_fired_timer_alone(kit: Kit) -> None:
    async with kit.unit_of_work() as uow:
        await schedule(uow.session, uow.tables, name="deadline", key="due", due_at=NOW)
        await schedule(uow.session, uow.tables, name="deadline", key="open", due_at=NOW)
        await uow.commit()
    fired: list[str] = []

    async def on_deadline(timer: Timer, uow: UnitOfWork) -> None:
        fired.append(timer.key)
        # The handler of the firing timer cancels both: the fired one stays as fired.
        await cancel(uow.session, uow.tables, name="deadline", key="due")
        await cancel(uow.session, uow.tables, name="deadline", key="open")

    wheel = TimerWheel(
        unit_of_work=kit.unit_of_work,
        handlers={"deadline": on_deadline},
        service="test",
        batch_size=1,
        clock=lambda: NOW,
    )
    assert await wheel.fire_due() == 1
    rows = await kit.timers()
    assert len(fired) == 1 and [row.key for row in rows] == [fired[0]]
    assert rows[0].fired_at is not None
