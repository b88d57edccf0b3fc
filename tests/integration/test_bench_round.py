"""`stack.bench_round.measure_round`, awaited from a running event loop with a given stack.

`make bench` awaits it inside its own loop with its own stack's environment: the ballots go
through a real budgets service into the real broker, the counts run in child processes, and
what comes back is one flat dict of numbers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from shared.testing.helpers import create_test_topics
from shared.testing.processes import ServiceProcess
from stack.bench_round import measure_round


async def test_measure_round_from_a_running_loop_with_a_given_stack(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    create_test_topics(kafka, namespace)
    budgets = ServiceProcess(
        "budgets",
        {
            "INSPRAAK_ENVIRONMENT": "development",
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "KAFKA_TOPIC_NAMESPACE": namespace,
            "BUDGETS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/budgets.sqlite3",
        },
        tmp_path,
    )
    await asyncio.to_thread(budgets.migrate)
    await asyncio.to_thread(budgets.start)
    env = {
        "BUDGETS_URL": budgets.url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "KAFKA_TOPIC_NAMESPACE": namespace,
    }
    try:
        ticks = 0

        async def tick() -> None:  # the caller's loop keeps running while it measures
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        ticker = asyncio.create_task(tick())
        result = await measure_round(
            env,
            online=25,
            paper=12,
            concurrency=4,
            count_ballots=400,
            projects=10,
            count_limit_s=120,
            mes_fallbacks=(),
        )
        ticker.cancel()
    finally:
        await asyncio.to_thread(budgets.stop)

    assert result["ballots_online"] == 25 and result["ballots_paper"] == 12
    assert result["ballot_rows"] == result["ballot_cast_events"] == 37
    assert result["exactly_once"] is True
    assert result["same_outcome_greedy"] is True and result["same_outcome_mes"] is True
    for counted in ("count_greedy_s", "pabutools_greedy_s", "count_mes_s", "pabutools_mes_s"):
        assert isinstance(result[counted], float) and result[counted] >= 0
    assert all(isinstance(v, int | float | bool) for v in result.values())  # flat, numbers
    assert ticks > 10
