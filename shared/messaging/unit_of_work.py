"""A unit of work: one database transaction holding state changes and the events they cause."""

from __future__ import annotations

import asyncio
from types import TracebackType

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.contracts.base import EventData
from shared.contracts.envelope import Envelope
from shared.messaging.new_rows import NewRows
from shared.messaging.outbox import OutgoingRecord, write_outbox
from shared.messaging.read_cache import ReadCache
from shared.messaging.tables import MessagingTables
from shared.messaging.timer_changes import PendingTimers
from shared.settings import ServiceSettings

# Where a session carries its unit of work's pending timers, so ``timers.schedule(session,
# ...)`` collects instead of writing when called inside a unit of work.
PENDING_TIMERS = "inspraak.pending_timers"


class UnitOfWork:
    """Collects events, timer changes and new rows while a use case runs; writes them on commit.

    Services subclass it to add their repositories on top of ``self.session``. ``timers``
    collects timer changes (written at commit in one statement per kind, not one per timer);
    ``new_rows`` collects rows of new aggregates a repository inserts at commit in one
    statement per table instead of adding ORM objects; ``cache`` holds reference data read
    once per unit of work, i.e. once per consumed batch.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        settings: ServiceSettings,
        outbox_signal: asyncio.Event | None = None,
    ) -> None:
        self._sessions = sessions
        self.tables = tables
        self.settings = settings
        self._outbox_signal = outbox_signal
        self._pending: list[OutgoingRecord] = []
        self.timers = PendingTimers()
        self.new_rows = NewRows()
        self.cache = ReadCache()
        self.session: AsyncSession

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self._pending = []
        self.timers = PendingTimers()
        self.new_rows = NewRows()
        self.cache = ReadCache()
        self.session.info[PENDING_TIMERS] = self.timers
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()
        await self.session.close()

    def publish(self, envelope: Envelope) -> None:
        """Record an event to publish once (and only if) this unit of work commits."""
        topic = self.settings.topic(envelope.data.topic())
        self._pending.append(OutgoingRecord.from_envelope(envelope, topic))

    def wrap(self, data: EventData, cause: Envelope | None = None) -> Envelope:
        """An envelope from this service, following ``cause`` when an event caused it."""
        source = self.settings.source_urn(data.municipality)
        if cause is not None:
            return cause.follow_up(data, source=source)
        return Envelope.wrap(data, source=source)

    async def commit(self) -> None:
        # State first, then the outbox rows: the flush takes the aggregates' row locks, so
        # outbox ids for one aggregate are handed out in the order its transactions commit.
        await self.session.flush()
        if len(self.new_rows):
            await self.new_rows.write(await self.session.connection())
        if len(self.timers):
            await self.timers.write(await self.session.connection(), self.tables)
        await write_outbox(self.session, self.tables, self._pending)
        await self.session.commit()
        had_events = bool(self._pending)
        self._pending = []
        # The next transaction may see other transactions' changes to the reference data.
        self.cache.clear()
        if had_events and self._outbox_signal is not None:
            self._outbox_signal.set()

    async def rollback(self) -> None:
        self._pending = []
        self.timers.clear()
        self.new_rows.clear()
        self.cache.clear()
        await self.session.rollback()
