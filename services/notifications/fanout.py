"""The fan-out worker: tells a large audience (e.g. every supporter) batch by batch.

A consumer only records a fan-out job in its own transaction. This worker then composes one
batch of recipients per transaction, moving the job's cursor in that same transaction: a
decision that concerns tens of thousands of residents never becomes one giant transaction,
and a crash resumes after the last committed batch. On PostgreSQL the job row is locked with
``FOR UPDATE SKIP LOCKED`` while a batch is composed, so replicas never compose one batch twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from services.notifications import handlers
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork

log = logging.getLogger(__name__)


class Bell:
    """Wakes every waiter at once (an ``asyncio.Event`` that re-arms itself)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout_s: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout_s)


class FanoutWorker:
    def __init__(
        self,
        *,
        unit_of_work: Callable[[], NotificationsUnitOfWork],
        batch_size: int,
        idle_seconds: float,
        signal: Bell | None = None,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._batch_size = batch_size
        self._idle_seconds = idle_seconds
        self.signal = signal or Bell()

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                told = await self.step()
                failures = 0
            except Exception:
                failures += 1
                log.exception("fan-out batch failed")
                await asyncio.sleep(min(30.0, 0.5 * 2**failures))
                continue
            if not told:
                await self.signal.wait(self._idle_seconds)

    async def step(self) -> int:
        """Compose one batch of one job; 0 when there is nothing to do."""
        async with self._unit_of_work() as uow:
            told = await handlers.fanout_batch(uow, batch_size=self._batch_size)
            await uow.commit()
        return told

    async def drain(self) -> None:
        while await self.step():
            pass
