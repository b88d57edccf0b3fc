"""New advice rounds are collected by the unit of work and inserted at its commit in one
statement, not added to the session as ORM objects; reads in the same unit of work still see
them, a change saved before the insert is what gets inserted, and a rollback inserts nothing.
On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from services.advisory import handlers
from services.advisory.domain import commands
from services.advisory.domain.model import AdviceRound, RequestStatus
from services.advisory.persistence.unit_of_work import AdvisoryUnitOfWork
from shared.contracts.envelope import Envelope
from shared.testing.events import TEST_SOURCE, ready_for_review
from tests.integration.advisory_support import Advisory

NEIGHBOURHOOD = "BU03620001"
MUNICIPALITY = "GM0362"
AFTER_DEADLINES = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def advisory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Advisory]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    service = await Advisory(tmp_path, url).start()
    await service.council(
        {}, name="Wijkraad Noord", kind="neighbourhood_council", neighbourhoods=[NEIGHBOURHOOD]
    )
    yield service
    await service.close()


@contextmanager
def statements_on_rounds(advisory: Advisory) -> Iterator[list[str]]:
    """The verb of every statement on ``advice_round``, with its number of parameter sets."""
    seen: list[str] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        if "advice_round" in statement:
            verb = statement.split()[0].upper()
            seen.append(f"{verb} x{len(parameters)}" if many else verb)

    engine = advisory.app.state.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def request_advice(uow: AdvisoryUnitOfWork) -> AdviceRound:
    data = ready_for_review(NEIGHBOURHOOD)
    return await handlers.request_advice(
        commands.RequestAdvice(
            subject_id=data.initiative_id,
            title=data.title,
            neighbourhood=data.neighbourhood,
            theme=data.theme,
            initiative_type=data.initiative_type,
            amount_cents=data.requested_amount_cents,
        ),
        municipality=MUNICIPALITY,
        cause=Envelope.wrap(data, source=TEST_SOURCE),
        uow=uow,
    )


def overdue(advice_round: AdviceRound) -> None:
    for request in advice_round.requests:
        advice_round.pass_deadline(request.id, AFTER_DEADLINES)


async def test_new_rounds_are_inserted_at_commit_in_one_statement_and_read_back_before_it(
    advisory: Advisory,
) -> None:
    with statements_on_rounds(advisory) as statements:
        async with advisory.uow() as uow:
            rounds = [await request_advice(uow) for _ in range(40)]
            # Collected, not ORM objects: the session has nothing to track or flush.
            assert not uow.session.new
            # Changed before it was written: the insert carries the changed round.
            changed = rounds[0]
            overdue(changed)
            await uow.rounds.save(changed)
            await uow.commit()
    assert statements == ["SELECT"] * 40 + ["INSERT x40"]  # existence checks, one insert

    async with advisory.uow() as uow:
        stored = {r.id: r for r in await uow.rounds.list(MUNICIPALITY)}
    assert stored == {r.id: r for r in rounds}
    assert stored[changed.id].requests[0].status is RequestStatus.OVERDUE


async def test_a_read_in_the_unit_of_work_writes_the_collected_rounds_first(
    advisory: Advisory,
) -> None:
    async with advisory.uow() as uow:
        first = await request_advice(uow)
        assert not uow.session.new  # collected, waiting for the commit
        with statements_on_rounds(advisory) as statements:
            assert await uow.rounds.get(MUNICIPALITY, first.id, lock=True) == first
        assert statements[0] == "INSERT"  # one parameter set: a plain execute
        # Now a row in the session like any other, changed like one.
        overdue(first)
        await uow.rounds.save(first)
        second = await request_advice(uow)
        assert await uow.rounds.for_subject(MUNICIPALITY, "initiative", second.subject_id) == (
            second
        )
        await uow.commit()
    async with advisory.uow() as uow:
        assert await uow.rounds.get(MUNICIPALITY, first.id) == first
        assert await uow.rounds.get(MUNICIPALITY, second.id) == second

    async with advisory.uow() as uow:
        dropped = await request_advice(uow)
        await uow.rollback()
        await uow.commit()
    async with advisory.uow() as uow:
        assert await uow.rounds.get(MUNICIPALITY, dropped.id) is None
