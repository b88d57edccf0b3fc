"""The inbox claims a batch's events in one statement, on SQLite and PostgreSQL: an event seen
before is skipped, a rolled-back claim is forgotten, and two transactions claiming the same
event at once apply it once without either failing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.contracts.envelope import Envelope
from shared.messaging.inbox import claim_unseen
from shared.messaging.tables import MessagingTables
from shared.persistence import create_engine, session_factory
from shared.testing.events import TEST_SOURCE, ready_for_review

GROUP = "advisory.initiatives"


@dataclass
class Inbox:
    tables: MessagingTables
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    async def claim(self, envelopes: list[Envelope], *, commit: bool = True) -> list[Envelope]:
        async with self.sessions() as session:
            claimed = await claim_unseen(session, self.tables, GROUP, envelopes)
            if commit:
                await session.commit()
            return claimed

    @contextmanager
    def statements_on_inbox(self) -> Iterator[list[str]]:
        seen: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if "inbox" in statement:
                seen.append(statement.split()[0].upper())

        event.listen(self.engine.sync_engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(self.engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture(params=["sqlite", "postgresql"])
async def inbox(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Inbox]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/inbox.sqlite3"
    else:
        url = request.getfixturevalue("postgres_url")
    metadata = MetaData()
    tables = MessagingTables(metadata)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield Inbox(tables, engine, session_factory(engine))
    await engine.dispose()


def _events(count: int) -> list[Envelope]:
    return [Envelope.wrap(ready_for_review(), source=TEST_SOURCE) for _ in range(count)]


async def test_a_batch_is_claimed_in_one_statement_skipping_events_seen_before(
    inbox: Inbox,
) -> None:
    first, second = _events(300), _events(200)
    with inbox.statements_on_inbox() as statements:
        assert await inbox.claim(first) == first
    assert statements == ["INSERT"]

    # A redelivery of part of the first batch with new events, a repeat inside the batch, and
    # the same id from another source (ids are unique only per source).
    other_source = replace(first[0], source="urn:nld:gemeente-GM0363:systeem:x")
    batch = [*first[:50], *second, second[0], other_source]
    with inbox.statements_on_inbox() as statements:
        claimed = await inbox.claim(batch)
    assert statements == ["INSERT"]
    assert claimed == [*second, other_source]
    assert await inbox.claim([*first, *second, other_source]) == []

    # A claim that rolls back with its transaction is forgotten.
    third = _events(20)
    with inbox.statements_on_inbox() as statements:
        assert await inbox.claim(third, commit=False) == third
    assert statements == ["INSERT"]
    assert await inbox.claim(third[:5]) == third[:5]
    assert await inbox.claim(third) == third[5:]


async def test_concurrent_claims_of_one_event_apply_it_once_without_failing(
    postgres_url: str,
) -> None:
    # Two consumers of one group during a rebalance can hold the same records for a moment.
    # The second claim waits for the first transaction and then skips what it claimed; a
    # select-then-insert saw nothing, inserted, and failed on the primary key instead.
    metadata = MetaData()
    tables = MessagingTables(metadata)
    engine = create_engine(postgres_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    sessions = session_factory(engine)
    shared_event, only_first, only_second = _events(3)
    try:
        async with sessions() as first, sessions() as second:
            claimed_first = await claim_unseen(first, tables, GROUP, [shared_event, only_first])
            racing = asyncio.create_task(
                claim_unseen(second, tables, GROUP, [shared_event, only_second])
            )
            await asyncio.sleep(0.5)
            assert not racing.done()  # waiting for the first transaction's claim
            await first.commit()
            claimed_second = await asyncio.wait_for(racing, 10)
            await second.commit()
    finally:
        await engine.dispose()
    assert claimed_first == [shared_event, only_first]
    assert claimed_second == [only_second]
