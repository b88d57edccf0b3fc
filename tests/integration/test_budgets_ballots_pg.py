"""Ballots of one round commit side by side on real PostgreSQL, and the count misses none.

A ballot share-locks its round's row, a phase change locks it exclusively: ballots run in
parallel with each other, a phase change to counting waits for the ballots under way, and a
ballot that waited for the phase change finds voting over; two ballots (or paper batches) of
the same voter wait for each other on the ballot's key, and the later replaces the earlier. The
tests hold a transaction open on purpose to show who waits for whom, then let all run at once.

The round's clock is per task (a context variable): ballots keep voting time while the phase
change is already at counting time, so only the round's phase, never the clock, can refuse a
late ballot here.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import text

from services.budgets import round_handlers
from services.budgets.bootstrap import bootstrap
from services.budgets.domain import commands
from services.budgets.domain.rounds import Ballot, BudgetingRound, Phase, RoundError
from services.budgets.persistence.tables import messaging
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from services.budgets.settings import BudgetsSettings
from shared.contracts import budgets as contract
from shared.contracts.base import EventData
from shared.migrations import upgrade_to_head
from shared.runtime import Runtime
from shared.testing.helpers import settings_for

MUNICIPALITY = "GM0362"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SCHEDULE = {
    Phase.PROPOSALS: START,
    Phase.REVIEW: START + timedelta(days=14),
    Phase.VOTING: START + timedelta(days=28),
    Phase.COUNTING: START + timedelta(days=42),
    Phase.DONE: START + timedelta(days=49),
}
VOTING_TIME = SCHEDULE[Phase.VOTING] + timedelta(days=1)
COUNTING_TIME = SCHEDULE[Phase.COUNTING]
BLOCKED_S = 1.0  # long enough to tell "waits for a lock" from "is merely slow"
T = TypeVar("T")

_now: contextvars.ContextVar[datetime] = contextvars.ContextVar("round_now", default=START)


@pytest.fixture(autouse=True)
def clock_per_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(round_handlers, "_now", _now.get)


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


def at(moment: datetime, work: Awaitable[T]) -> asyncio.Task[T]:
    """Run ``work`` as a task whose clock reads ``moment``."""
    context = contextvars.copy_context()
    context.run(_now.set, moment)
    return asyncio.get_running_loop().create_task(work, context=context)  # type: ignore[arg-type]


async def voting_round(runtime: Runtime) -> str:
    """A round with three feasible proposals, in its voting phase."""
    _now.set(START)
    async with unit_of_work(runtime) as uow:
        round_ = await round_handlers.plan_round(
            commands.PlanRound(
                neighbourhood="BU03620001",
                title="Buurtbegroting Oranjebuurt 2026",
                budget_cents=10_000_00,
                ballot_kind="knapsack",
                rule="greedy",
                schedule=SCHEDULE,
            ),
            municipality=MUNICIPALITY,
            uow=uow,
        )
        for number in range(1, 4):
            await round_handlers.submit_proposal(
                commands.SubmitProposal(title=f"Voorstel {number}", cost_cents=3_000_00),
                municipality=MUNICIPALITY,
                round_id=round_.id,
                uow=uow,
            )
        await uow.commit()
    await advance(runtime, round_.id, Phase.REVIEW, SCHEDULE[Phase.REVIEW])
    async with unit_of_work(runtime) as uow:
        for number in range(1, 4):
            await round_handlers.judge_proposal(
                commands.JudgeProposal(verdict="feasible", reasons="Haalbaar."),
                municipality=MUNICIPALITY,
                round_id=round_.id,
                project_id=str(number),
                uow=uow,
            )
        await uow.commit()
    await advance(runtime, round_.id, Phase.VOTING, SCHEDULE[Phase.VOTING])
    return round_.id


async def advance(
    runtime: Runtime,
    round_id: str,
    phase: Phase,
    now: datetime,
    *,
    locked: asyncio.Event | None = None,
    hold: asyncio.Event | None = None,
) -> BudgetingRound:
    """Move the round on; with ``hold``, keep the transaction (and its lock) open until set."""
    _now.set(now)
    async with unit_of_work(runtime) as uow:
        round_ = await round_handlers.advance_round(
            commands.AdvanceRound(phase=phase),
            municipality=MUNICIPALITY,
            round_id=round_id,
            uow=uow,
        )
        if locked is not None:
            locked.set()
        if hold is not None:
            await hold.wait()
        await uow.commit()
    return round_


async def cast(
    runtime: Runtime,
    round_id: str,
    voter: str,
    project_ids: list[str],
    *,
    cast_so_far: asyncio.Event | None = None,
    hold: asyncio.Event | None = None,
) -> Ballot:
    """One resident's ballot in its own transaction; with ``hold``, committed only when set."""
    async with unit_of_work(runtime) as uow:
        ballot = await round_handlers.cast_ballot(
            commands.CastBallot(project_ids=project_ids),
            municipality=MUNICIPALITY,
            round_id=round_id,
            voter_id=voter,
            uow=uow,
        )
        if cast_so_far is not None:
            cast_so_far.set()
        if hold is not None:
            await hold.wait()
        await uow.commit()
    return ballot


async def import_paper(
    runtime: Runtime,
    round_id: str,
    paper_ids: list[str],
    *,
    imported_so_far: asyncio.Event | None = None,
    hold: asyncio.Event | None = None,
) -> int:
    """A batch of paper ballots in its own transaction; with ``hold``, committed only when set."""
    batch = commands.ImportPaperBallots(
        ballots=[commands.PaperBallot(paper_id=i, project_ids=["3"]) for i in paper_ids]
    )
    async with unit_of_work(runtime) as uow:
        imported = await round_handlers.import_paper_ballots(
            batch, municipality=MUNICIPALITY, round_id=round_id, uow=uow
        )
        if imported_so_far is not None:
            imported_so_far.set()
        if hold is not None:
            await hold.wait()
        await uow.commit()
    return imported


async def ballot_rows(runtime: Runtime, round_id: str) -> dict[str, str]:
    async with runtime.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT voter_id, project_ids FROM round_ballot WHERE round_id = :round"),
            {"round": round_id},
        )
        return {voter: ids for voter, ids in rows}


async def outbox_events(runtime: Runtime) -> list[tuple[int, str, dict[str, object]]]:
    """(outbox id, event type, data) of every event written, in outbox order."""
    async with runtime.engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, headers, value FROM outbox ORDER BY id"))
        events = []
        for outbox_id, headers, value in rows:
            kind = dict(json.loads(headers))["ce_type"]
            events.append((outbox_id, kind, json.loads(value)))
        return events


def counting_began(events: list[tuple[int, str, dict[str, object]]]) -> int:
    """The outbox id of the round's move to counting."""
    [(outbox_id, _)] = [
        (outbox_id, data)
        for outbox_id, data in of_type(events, contract.RoundPhaseChanged)
        if data["phase"] == Phase.COUNTING
    ]
    return outbox_id


def of_type(
    events: list[tuple[int, str, dict[str, object]]], event: type[EventData]
) -> list[tuple[int, dict[str, object]]]:
    return [(outbox_id, data) for outbox_id, kind, data in events if kind == event.event_type()]


async def test_ballots_commit_side_by_side_and_a_phase_change_waits_for_the_open_one(
    runtime: Runtime,
) -> None:
    round_id = await voting_round(runtime)
    first_cast, release_first = asyncio.Event(), asyncio.Event()
    first = at(
        VOTING_TIME,
        cast(runtime, round_id, "bewoner-0", ["1"], cast_so_far=first_cast, hold=release_first),
    )
    await asyncio.wait_for(first_cast.wait(), 30)

    # With the round's row locked exclusively these would queue behind the open ballot.
    others = [at(VOTING_TIME, cast(runtime, round_id, f"bewoner-{n}", ["2"])) for n in range(1, 9)]
    await asyncio.wait_for(asyncio.gather(*others), 20)
    assert not first.done()

    counting = at(COUNTING_TIME, advance(runtime, round_id, Phase.COUNTING, COUNTING_TIME))
    done, _ = await asyncio.wait({counting}, timeout=BLOCKED_S)
    assert not done, "the phase change went ahead of a ballot under way"

    release_first.set()
    await asyncio.wait_for(first, 30)
    counted = await asyncio.wait_for(counting, 30)
    rows = await ballot_rows(runtime, round_id)
    assert rows == {"bewoner-0": "1", **{f"bewoner-{n}": "2" for n in range(1, 9)}}
    assert counted.results is not None and counted.results.ballots == 9
    events = await outbox_events(runtime)
    cast_ids = [outbox_id for outbox_id, _ in of_type(events, contract.BallotCast)]
    assert len(cast_ids) == 9
    assert max(cast_ids) < counting_began(events)


async def test_a_ballot_that_waited_for_the_phase_change_finds_voting_over(
    runtime: Runtime,
) -> None:
    round_id = await voting_round(runtime)
    locked, release = asyncio.Event(), asyncio.Event()
    counting = at(
        COUNTING_TIME,
        advance(runtime, round_id, Phase.COUNTING, COUNTING_TIME, locked=locked, hold=release),
    )
    await asyncio.wait_for(locked.wait(), 30)  # the phase change now holds the round's row
    late = at(VOTING_TIME, cast(runtime, round_id, "bewoner-1", ["1"]))
    done, _ = await asyncio.wait({late}, timeout=BLOCKED_S)
    assert not done, "a ballot went ahead of a phase change under way"

    release.set()
    await asyncio.wait_for(counting, 30)
    with pytest.raises(RoundError, match="voting phase, not in counting"):
        await asyncio.wait_for(late, 30)
    assert await ballot_rows(runtime, round_id) == {}
    assert of_type(await outbox_events(runtime), contract.BallotCast) == []


async def test_many_concurrent_ballots_land_exactly_once_and_none_after_voting_ends(
    runtime: Runtime,
) -> None:
    round_id = await voting_round(runtime)
    voters = [f"bewoner-{n}" for n in range(60)]
    # Every third resident changes their mind at once: two ballots of one voter race.
    casts = [
        (voter, ids)
        for number, voter in enumerate(voters)
        for ids in ([["1"], ["2", "3"]] if number % 3 == 0 else [["1"]])
    ]
    started = asyncio.Event()

    async def one(voter: str, project_ids: list[str]) -> Ballot | RoundError:
        try:
            return await cast(runtime, round_id, voter, project_ids, cast_so_far=started)
        except RoundError as refused:
            return refused

    ballots = [at(VOTING_TIME, one(voter, ids)) for voter, ids in casts]
    await asyncio.wait_for(started.wait(), 30)
    counting = at(COUNTING_TIME, advance(runtime, round_id, Phase.COUNTING, COUNTING_TIME))
    outcomes = await asyncio.wait_for(asyncio.gather(*ballots), 120)
    counted = await asyncio.wait_for(counting, 30)

    accepted = [o for o in outcomes if isinstance(o, Ballot)]
    refused = [o for o in outcomes if isinstance(o, RoundError)]
    assert len(accepted) + len(refused) == len(casts)
    assert all(r.conflict and "not in counting" in str(r) for r in refused)
    rows = await ballot_rows(runtime, round_id)
    assert set(rows) == {b.voter_id for b in accepted}
    assert counted.results is not None and counted.results.ballots == len(rows)

    events = await outbox_events(runtime)
    cast_events = of_type(events, contract.BallotCast)
    phase_id = counting_began(events)
    assert len(cast_events) == len(accepted)  # one event per accepted ballot, no more
    assert all(outbox_id < phase_id for outbox_id, _ in cast_events)
    for voter in rows:
        receipts = [data for _, data in cast_events if data["voter_id"] == voter]
        # The first receipt is a first ballot; any later one says it replaced the earlier.
        assert [r["replaced_earlier"] for r in receipts] == [False] + [True] * (len(receipts) - 1)


async def test_paper_batches_that_overlap_replace_each_others_ballots_instead_of_failing(
    runtime: Runtime,
) -> None:
    round_id = await voting_round(runtime)
    first_batch = [f"P-{n:03}" for n in range(0, 60)]
    second_batch = [f"P-{n:03}" for n in range(30, 90)]  # P-030 to P-059 are entered twice
    imported_so_far, release = asyncio.Event(), asyncio.Event()
    first = at(
        VOTING_TIME,
        import_paper(runtime, round_id, first_batch, imported_so_far=imported_so_far, hold=release),
    )
    await asyncio.wait_for(imported_so_far.wait(), 30)
    second = at(VOTING_TIME, import_paper(runtime, round_id, second_batch))
    done, _ = await asyncio.wait({second}, timeout=BLOCKED_S)
    assert not done, "the second batch went past ballots the first has not committed"

    release.set()
    assert await asyncio.wait_for(first, 30) == 60
    assert await asyncio.wait_for(second, 30) == 60
    rows = await ballot_rows(runtime, round_id)
    assert sorted(rows) == [f"paper:P-{n:03}" for n in range(90)]
    receipts = [data for _, data in of_type(await outbox_events(runtime), contract.BallotCast)]
    assert len(receipts) == 120
    replaced = sorted(str(r["voter_id"]) for r in receipts if r["replaced_earlier"])
    assert replaced == [f"paper:P-{n:03}" for n in range(30, 60)]
