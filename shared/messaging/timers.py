"""Durable timers: deadlines that fire as events, once, surviving restarts and replicas.

A use case schedules a timer in its own transaction (so a rolled-back change schedules
nothing): inside a unit of work the change is collected and written at commit, with the
unit of work's other timer changes in one statement. :class:`TimerWheel` wakes for the
earliest due timer, claims due ones (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
replicas never fire the same timer), runs the handler registered for the timer's name inside
a unit of work and marks the timer fired in that same transaction: the handler's events and
the firing commit together.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.messaging.tables import MessagingTables
from shared.messaging.timer_changes import (
    CancelledTimer,
    PendingTimers,
    scheduled,
    write_timer_changes,
)
from shared.messaging.unit_of_work import PENDING_TIMERS, UnitOfWork
from shared.metrics import EVENTS_FAILED

log = logging.getLogger(__name__)
U = TypeVar("U", bound=UnitOfWork)
RETRY_INITIAL_S = 5.0
RETRY_MAX_S = 900.0


@dataclass(frozen=True)
class Timer:
    """A due timer handed to its handler."""

    name: str
    key: str
    due_at: datetime
    payload: dict[str, Any]


TimerHandler = Callable[[Timer, U], Awaitable[None]]


async def schedule(
    session: AsyncSession,
    tables: MessagingTables,
    *,
    name: str,
    key: str,
    due_at: datetime,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Set timer (name, key) to fire at ``due_at``; scheduling it again moves and re-arms it.

    Inside a unit of work the change is collected and written when it commits (see
    ``UnitOfWork.timers``); on a bare session it is written at once.
    """
    change = scheduled(name, key, due_at, payload)
    pending = _pending_timers(session)
    if pending is not None:
        pending.add(change)
        return
    await write_timer_changes(await session.connection(), tables, [change])


async def cancel(session: AsyncSession, tables: MessagingTables, *, name: str, key: str) -> None:
    """Remove a timer that has not fired, e.g. when the advice arrived in time."""
    change = CancelledTimer(name, key)
    pending = _pending_timers(session)
    if pending is not None:
        pending.add(change)
        return
    await write_timer_changes(await session.connection(), tables, [change])


def _pending_timers(session: AsyncSession) -> PendingTimers | None:
    pending = session.info.get(PENDING_TIMERS)
    return pending if isinstance(pending, PendingTimers) else None


class TimerWheel(Generic[U]):
    """Fires due timers of one service; run one per replica."""

    def __init__(
        self,
        *,
        unit_of_work: Callable[[], U],
        handlers: Mapping[str, TimerHandler[U]],
        service: str,
        batch_size: int = 100,
        max_sleep_s: float = 1.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._unit_of_work = unit_of_work
        self._handlers = handlers
        self._service = service
        self._batch_size = batch_size
        self._max_sleep_s = max_sleep_s
        self._clock = clock
        self._stopping = asyncio.Event()
        self.fired = 0

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                fired = await self.fire_due()
            except Exception:  # the database is away: wait, then try again
                EVENTS_FAILED.labels(self._service, "timer").inc()
                log.exception("firing timers failed; trying again shortly")
                fired = 0
            if fired < self._batch_size:
                await self._sleep_until_next()

    async def stop(self) -> None:
        self._stopping.set()

    async def _sleep_until_next(self) -> None:
        async with self._unit_of_work() as uow:
            timer = uow.tables.timer
            connection = await uow.session.connection()
            next_due = await connection.scalar(
                select(func.min(timer.c.due_at)).where(timer.c.fired_at.is_(None))
            )
        delay = self._max_sleep_s
        if next_due is not None:
            next_due = next_due if next_due.tzinfo else next_due.replace(tzinfo=UTC)
            delay = max(0.0, min(delay, (next_due - self._clock()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    async def fire_due(self) -> int:
        """Fire what is due now, each timer in its own transaction; return how many fired."""
        fired = 0
        while fired < self._batch_size and await self._fire_one():
            fired += 1
        self.fired += fired
        return fired

    async def _fire_one(self) -> bool:
        unit_of_work = self._unit_of_work()
        async with unit_of_work:
            uow = unit_of_work
            timer = uow.tables.timer
            connection = await uow.session.connection()
            query = (
                select(timer)
                .where(and_(timer.c.fired_at.is_(None), timer.c.due_at <= self._clock()))
                .order_by(timer.c.due_at)
                .limit(1)
            )
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            row = (await connection.execute(query)).first()
            if row is None:
                return False
            due_at = row.due_at if row.due_at.tzinfo else row.due_at.replace(tzinfo=UTC)
            due = Timer(row.name, row.key, due_at, json.loads(row.payload))
            try:
                handler = self._handlers[due.name]
                await handler(due, uow)
            except Exception as error:
                await uow.rollback()
                await self._postpone(row.id, row.attempts + 1, f"{type(error).__name__}: {error}")
                return True
            await connection.execute(
                update(timer).where(timer.c.id == row.id).values(fired_at=self._clock())
            )
            await uow.commit()
        return True

    async def _postpone(self, timer_id: int, attempts: int, error: str) -> None:
        """A failing timer is tried again later, so it never blocks the timers behind it."""
        EVENTS_FAILED.labels(self._service, "timer").inc()
        delay = min(RETRY_MAX_S, RETRY_INITIAL_S * 2 ** (attempts - 1))
        log.error(
            "timer %s failed (attempt %d), retrying in %.0fs: %s", timer_id, attempts, delay, error
        )
        async with self._unit_of_work() as uow:
            connection = await uow.session.connection()
            await connection.execute(
                update(uow.tables.timer)
                .where(uow.tables.timer.c.id == timer_id)
                .values(
                    attempts=attempts,
                    last_error=error[:2000],
                    due_at=self._clock() + timedelta(seconds=delay),
                )
            )
            await uow.commit()
