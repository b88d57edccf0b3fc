"""A batch of `initiative ready for review` events in one unit of work reads the councils and
routing rules once, adds new rounds without looking them up, still refuses a second round on
the same initiative, and sees reference data the same unit of work changed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from services.advisory import handlers
from services.advisory.domain import commands
from services.advisory.domain.exceptions import AlreadyRequested
from services.advisory.domain.model import CouncilKind
from services.advisory.persistence.unit_of_work import AdvisoryUnitOfWork
from shared.contracts.envelope import Envelope
from shared.testing.events import TEST_SOURCE, ready_for_review
from tests.integration.advisory_support import Advisory

NEIGHBOURHOOD = "BU03620001"


@pytest.fixture
async def advisory(tmp_path: Path) -> AsyncIterator[Advisory]:
    service = await Advisory(tmp_path).start()
    await service.council(
        {}, name="Wijkraad Noord", kind="neighbourhood_council", neighbourhoods=[NEIGHBOURHOOD]
    )
    yield service
    await service.close()


@contextmanager
def selects_from(advisory: Advisory) -> Iterator[list[str]]:
    """The FROM table of every SELECT the service's engine runs meanwhile."""
    tables: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split()
        if words and words[0].upper() == "SELECT" and "FROM" in words:
            tables.append(words[words.index("FROM") + 1])

    engine = advisory.app.state.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield tables
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def request_advice(uow: AdvisoryUnitOfWork, initiative_id: str | None = None) -> Any:
    data = ready_for_review(NEIGHBOURHOOD)
    if initiative_id is not None:
        data = data.model_copy(update={"initiative_id": initiative_id})
    return await handlers.request_advice(
        commands.RequestAdvice(
            subject_id=data.initiative_id,
            title=data.title,
            neighbourhood=data.neighbourhood,
            theme=data.theme,
            initiative_type=data.initiative_type,
            amount_cents=data.requested_amount_cents,
        ),
        municipality="GM0362",
        cause=Envelope.wrap(data, source=TEST_SOURCE),
        uow=uow,
    )


async def test_a_batch_reads_councils_and_rules_once_and_never_looks_up_a_new_round(
    advisory: Advisory,
) -> None:
    with selects_from(advisory) as selects:
        async with advisory.uow() as uow:
            rounds = [await request_advice(uow) for _ in range(40)]
            await uow.commit()
    assert all(len(r.requests) == 1 for r in rounds)
    assert selects.count("council") == 1
    assert selects.count("routing_rule") == 1
    # One existence check per event, and none of them reads a round by its new id.
    assert selects.count("advice_round") == 40
    assert len(await advisory.events("advice-requested")) == 40


async def test_a_second_round_on_one_initiative_is_refused_within_a_batch_and_after_it(
    advisory: Advisory,
) -> None:
    with selects_from(advisory) as selects:
        async with advisory.uow() as uow:
            first = await request_advice(uow)
            with pytest.raises(AlreadyRequested):
                await request_advice(uow, first.subject_id)
            await uow.commit()
    # The round added in this unit of work is known without a query (or an autoflush).
    assert selects.count("advice_round") == 1
    async with advisory.uow() as uow:
        with pytest.raises(AlreadyRequested):
            await request_advice(uow, first.subject_id)


async def test_reference_data_changed_in_the_unit_of_work_is_read_again(
    advisory: Advisory,
) -> None:
    with selects_from(advisory) as selects:
        async with advisory.uow() as uow:
            before = [await request_advice(uow) for _ in range(3)]
            await handlers.create_council(
                commands.CreateCouncil(
                    name="Jongerenraad", kind=CouncilKind.YOUTH_COUNCIL, themes=["groen"]
                ),
                municipality="GM0362",
                default_days=20,
                uow=uow,
            )
            after = [await request_advice(uow) for _ in range(3)]
            await uow.commit()
    assert [len(r.requests) for r in before] == [1, 1, 1]
    assert [len(r.requests) for r in after] == [2, 2, 2]
    # Listed once before the change and once after it; the third is saving the new council.
    assert selects.count("council") == 3
