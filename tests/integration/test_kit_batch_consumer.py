"""The batch consumer on the real broker: a batch's lookups are prepared in one query, and on
SQLite a large batch is applied in several short transactions, each event exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from services.advisory.app import create_app
from services.advisory.persistence.tables import AdviceRoundRow
from services.advisory.settings import AdvisorySettings
from shared.auth import Role
from shared.contracts.envelope import Envelope
from shared.messaging import consumer as consumer_module
from shared.messaging.dead_letter_tool import read_dead_letters
from shared.messaging.topology import consumer_group
from shared.migrations import upgrade_to_head
from shared.testing.events import TEST_SOURCE, publish, ready_for_review
from shared.testing.helpers import create_test_topics, eventually, running, settings_for, token

COUNCIL = {"name": "Wijkraad Centrum", "kind": "neighbourhood_council", "neighbourhoods": []}


async def _advisory(kafka: str, namespace: str, tmp_path: Path) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path}/advisory.sqlite3"
    await asyncio.to_thread(create_test_topics, kafka, namespace)
    await asyncio.to_thread(upgrade_to_head, "advisory", url)
    return create_app(
        settings_for(AdvisorySettings, kafka=kafka, namespace=namespace, database_url=url)
    )


async def _rounds(app: Any) -> int:
    async with app.state.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AdviceRoundRow)) or 0)


@contextmanager
def _selects_from(app: Any, table: str) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split()
        if words[:1] == ["SELECT"] and "FROM" in words and words[words.index("FROM") + 1] == table:
            seen.append(statement)

    engine = app.state.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_batch_looks_up_existing_rounds_in_one_query_and_still_refuses_a_second_one(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    app = await _advisory(kafka, namespace, tmp_path)
    topic = f"{namespace}initiatives.events.v1"
    dlq = f"{topic}.{consumer_group('advisory', namespace)}.dlq"
    events = [ready_for_review() for _ in range(60)]
    first = Envelope.wrap(events[0], source=TEST_SOURCE)
    # Another event asking review of the same initiative (a fault upstream), and a redelivery.
    second = Envelope.wrap(events[0], source=TEST_SOURCE)
    council = {**COUNCIL, "neighbourhoods": [events[0].neighbourhood]}
    with _selects_from(app, "advice_round") as selects:
        async with running(app) as client:
            response = await client.post(
                "/v1/municipalities/GM0362/councils",
                json=council,
                headers=token(Role.CIVIL_SERVANT),
            )
            assert response.status_code == 201
            await asyncio.to_thread(publish, kafka, topic, [first, *events[1:], first, second])
            await eventually(lambda: _equal(_rounds(app), 60))
            letters = await eventually(lambda: list(read_dead_letters(kafka, dlq)))
            await asyncio.sleep(0.5)
            assert await _rounds(app) == 60
    assert len(letters) == 1 and "AlreadyRequested" in letters[0].info("reason")
    assert letters[0].summary()["id"] == second.id
    # One query per transaction at most (the events arrive in one or a few batches), where a
    # lookup per event made 60 or more.
    assert 1 <= len(selects) <= 10, len(selects)


async def test_on_sqlite_a_batch_commits_in_time_bounded_transactions_applying_each_event_once(
    kafka: str, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A zero bound ends every transaction after its first step of CLAIM_STEP events.
    monkeypatch.setattr("shared.runtime.SQLITE_MAX_TRANSACTION_S", 0.0)
    claimed: list[int] = []
    real_claim = consumer_module.claim_unseen

    async def counting_claim(session: Any, tables: Any, group: str, envs: Sequence[Any]) -> Any:
        claimed.append(len(envs))
        return await real_claim(session, tables, group, envs)

    monkeypatch.setattr(consumer_module, "claim_unseen", counting_claim)
    app = await _advisory(kafka, namespace, tmp_path)
    topic = f"{namespace}initiatives.events.v1"
    events = [ready_for_review() for _ in range(3 * consumer_module.CLAIM_STEP)]
    sent = await asyncio.to_thread(publish, kafka, topic, events)
    async with running(app):
        # (No council: the rounds are kept unrouted, which is enough to count them.)
        # Redelivered events (a second copy of each) are skipped by the inbox.
        await asyncio.to_thread(publish, kafka, topic, sent[:10])
        await eventually(lambda: _equal(_rounds(app), len(events)))
        await asyncio.sleep(0.5)
        assert await _rounds(app) == len(events)
    assert sum(claimed) == len(events) + 10
    assert max(claimed) <= consumer_module.CLAIM_STEP
    assert len(claimed) >= 3


async def _equal(value: Any, expected: int) -> bool:
    return await value == expected
