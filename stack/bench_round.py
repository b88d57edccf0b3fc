"""`make bench`, the budgeting part: ballots ingested exactly once, and counting 100,000 ballots.

(a) ingestion   generated residents cast ballots through the budgets API (PUT .../ballot,
                ``concurrency`` requests in flight) and paper ballots are imported in bulk;
                then the round's ballot rows and the ``ballot-cast`` events on Kafka are counted:
                each must equal the number of ballots the API accepted. Against the running
                stack (``$INSPRAAK_RUN_DIR/stack.env``, default ``.run``) when it answers, else
                against a stack of its own in a temporary directory.
(b) counting    one generated instance of ``count_ballots`` ballots over ``projects`` projects,
                counted by our greedy and our Method of Equal Shares (add-one completion) and
                by pabutools' (``ApprovalMultiProfile``, ``Cost_Sat``, the same tie-breaking),
                each in a child process of its own with a time limit on the count itself
                (building the instance is not timed). A count that does not finish in time is
                reported as ``null``; when MES does not, both are counted again on the first
                smaller instance of the same shape (``mes_fallbacks``: budget and costs scaled
                with the voters, so every voter holds the same share) on which both finish:
                ``mes_smaller_*``. Times are seconds; ``same_outcome_*`` says whether ours and
                pabutools' fund the same projects.

The last line printed is one JSON object with every number.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from services.budgets.domain.counting import Election, Project, count, id_order
from stack.demo_round import PROPOSALS, RoundDriver, answers, generate_voters, read_stack_env

STARTED = time.perf_counter()
EUROS_PER_VOTER = 20  # a €2,000,000 budget for 100,000 voters
BASE_COSTS_EUROS = (10_000, 25_000, 40_000, 60_000, 90_000, 150_000, 300_000)  # at 100,000 voters
SETUP_LIMIT_S = 300.0  # for a child to build its instance before its count is timed


def say(text: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- (b) counting


def generated_election(voters: int, projects: int = 50, seed: int = 2026) -> Election:
    """Approval ballots of 1 to 8 projects; popularity skewed; amounts in whole euros."""
    rng = random.Random(seed)
    scale = voters / 100_000
    items = [
        Project(str(i), max(1, round(rng.choice(BASE_COSTS_EUROS) * scale)))
        for i in range(1, projects + 1)
    ]
    ids = [p.id for p in items]
    popularity = [rng.random() ** 2 + 0.02 for _ in items]
    ballots = (
        set(rng.choices(ids, weights=popularity, k=rng.randint(1, 8))) for _ in range(voters)
    )
    return Election.of(max(1, EUROS_PER_VOTER * voters), items, ballots)


def _pabutools_count(election: Election, rule: str) -> Callable[[], list[str]]:
    """pabutools' count of ``election``, its instance and profile built beforehand."""
    from pabutools.election import (
        ApprovalBallot,
        ApprovalMultiProfile,
        Cost_Sat,
        Instance,
    )
    from pabutools.election import Project as PabuProject
    from pabutools.rules import (
        completion_by_rule_combination,
        greedy_utilitarian_welfare,
        method_of_equal_shares,
    )
    from pabutools.tiebreaking import TieBreakingRule

    lower_cost_then_id = TieBreakingRule(lambda _instance, _profile, p: (p.cost, id_order(p.name)))
    instance = Instance(budget_limit=election.budget)
    by_id = {p.id: PabuProject(p.id, p.cost) for p in election.projects}
    instance.update(by_id.values())
    profile = ApprovalMultiProfile(instance=instance)
    for ballot, times in election.ballots.items():
        frozen = ApprovalBallot([by_id[i] for i in ballot]).frozen()
        profile[frozen] = profile.get(frozen, 0) + times
    votes = election.votes()

    def counted() -> list[str]:
        if rule == "greedy":
            outcome = greedy_utilitarian_welfare(
                instance, profile, sat_class=Cost_Sat, tie_breaking=lower_cost_then_id
            )
        else:
            outcome = completion_by_rule_combination(
                instance,
                profile,
                [method_of_equal_shares, greedy_utilitarian_welfare],
                [
                    {
                        "sat_class": Cost_Sat,
                        "voter_budget_increment": 1,
                        "tie_breaking": lower_cost_then_id,
                    },
                    {"sat_class": Cost_Sat, "tie_breaking": lower_cost_then_id},
                ],
            )
        # pabutools' greedy also funds projects nobody voted for when they still fit; we never do.
        return [p.name for p in outcome if votes[p.name] > 0]

    return counted


def _our_count(election: Election, rule: str) -> Callable[[], list[str]]:
    return lambda: count(election, "greedy" if rule == "greedy" else "mes").ids


def _child(counter: str, rule: str, voters: int, projects: int, pipe: Connection) -> None:
    election = generated_election(voters, projects)
    prepared = (_our_count if counter == "ours" else _pabutools_count)(election, rule)
    pipe.send("ready")
    started, cpu_started = time.perf_counter(), time.process_time()
    selected = prepared()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    pipe.send((seconds, cpu_seconds, sorted(selected, key=id_order)))


def timed_count(
    counter: str, rule: str, voters: int, projects: int, limit_s: float
) -> tuple[float | None, float | None, list[str] | None]:
    """(seconds, CPU seconds, selected ids) of one count in a child process; Nones past the
    limit. CPU seconds tell what the count costs when other work shares the machine.

    The child is spawned, not forked: the caller may run threads (an event loop, Kafka
    clients) whose locks a forked child would inherit held. The clock starts once the child
    has built its instance, so the limit is the count's alone.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child, args=(counter, rule, voters, projects, sender), daemon=True
    )
    child.start()
    sender.close()  # only the child holds it now: its death reads as end of file
    try:
        if not receiver.poll(SETUP_LIMIT_S) or receiver.recv() != "ready":
            return None, None, None
        if not receiver.poll(limit_s):
            return None, None, None
        seconds, cpu_seconds, selected = receiver.recv()
        return round(seconds, 3), round(cpu_seconds, 3), selected
    except EOFError:  # the child died (out of memory, say): no number rather than a wrong one
        return None, None, None
    finally:
        if child.is_alive():
            child.terminate()
        child.join(5)
        receiver.close()


def _ours_beside_pabutools(
    rule: str, ballots: int, projects: int, limit_s: float, name: str
) -> dict[str, Any]:
    """``count_<name>_s``, ``pabutools_<name>_s`` (and ``_cpu_s``), ``same_outcome_<name>``."""
    measured: dict[str, Any] = {}
    selections: list[list[str] | None] = []
    for counter, prefix in (("ours", "count"), ("pabutools", "pabutools")):
        say(f"counting {ballots:,} ballots, {rule}, {counter} (at most {limit_s:.0f} s)")
        seconds, cpu_seconds, selected = timed_count(counter, rule, ballots, projects, limit_s)
        measured[f"{prefix}_{name}_s"] = seconds
        measured[f"{prefix}_{name}_cpu_s"] = cpu_seconds
        selections.append(selected)
    measured[f"same_outcome_{name}"] = _same(*selections)
    return measured


def measure_counting(
    *, ballots: int, projects: int, limit_s: float, mes_fallbacks: tuple[int, ...]
) -> dict[str, Any]:
    """One flat dict: seconds per count (``null``: not within ``limit_s``), same outcomes."""
    election = generated_election(ballots, projects)
    result: dict[str, Any] = {
        "count_ballots": ballots,
        "count_projects": projects,
        "count_distinct_ballots": len(election.ballots),
        "count_budget_euros": int(election.budget),
        "count_limit_s": limit_s,
    }
    for rule in ("greedy", "mes"):
        result |= _ours_beside_pabutools(rule, ballots, projects, limit_s, rule)
    if result["same_outcome_mes"] is None:
        for size in mes_fallbacks:
            smaller = _ours_beside_pabutools("mes", size, projects, limit_s, "mes_smaller")
            result |= {"mes_smaller_ballots": size, **smaller}
            if smaller["same_outcome_mes_smaller"] is not None:
                break
    return result


def _same(ours: list[str] | None, theirs: list[str] | None) -> bool | None:
    return None if ours is None or theirs is None else ours == theirs


# ---------------------------------------------------------------- (a) ingestion


def ballot_cast_events(bootstrap: str, namespace: str, round_id: str) -> tuple[int, int]:
    """(records, distinct voters) of ``ballot-cast`` events of one round on the budgets topic."""
    from kafka import KafkaConsumer

    from shared.contracts.budgets import BallotCast
    from shared.contracts.envelope import parse_record

    consumer = KafkaConsumer(
        f"{namespace}{BallotCast.topic()}",
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    records, voters = 0, set()
    try:
        for record in consumer:
            envelope = parse_record(record.headers, record.value)
            if envelope is None or not isinstance(envelope.data, BallotCast):
                continue
            if envelope.data.round_id == round_id:
                records += 1
                voters.add(envelope.data.voter_id)
    finally:
        consumer.close()
    return records, len(voters)


async def measure_ingestion(
    env: dict[str, str], *, online: int, paper: int, concurrency: int, settle_s: float = 60.0
) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=60) as client:
        driver = RoundDriver(client, env["BUDGETS_URL"])
        await driver.plan("Bench: ballots ingested exactly once", voting_seconds=3600)
        feasible = await driver.propose_and_judge(PROPOSALS)
        await driver.advance("review")
        await driver.advance("voting")
        voters = generate_voters(feasible, online, paper, seed=7)
        say(f"casting {online} online ballots, {concurrency} in flight")
        started = time.perf_counter()
        accepted = await driver.cast_all(voters.online, concurrency)
        online_s = time.perf_counter() - started
        say(f"importing {paper} paper ballots in batches of 1,000")
        started = time.perf_counter()
        imported = 0
        for start in range(0, len(voters.paper), 1_000):
            imported += await driver.import_paper(voters.paper[start : start + 1_000])
        paper_s = time.perf_counter() - started
        rows = (await driver.view())["ballots_cast"]
    expected = accepted + imported
    deadline = time.perf_counter() + settle_s
    while True:  # the outbox relay publishes shortly after the commit
        events, distinct = await asyncio.to_thread(
            ballot_cast_events,
            env["KAFKA_BOOTSTRAP_SERVERS"],
            env.get("KAFKA_TOPIC_NAMESPACE", ""),
            driver.round_id,
        )
        if events >= expected or time.perf_counter() > deadline:
            break
        await asyncio.sleep(1)
    return {
        "ballots_per_s": round(accepted / online_s, 1) if online_s else None,
        "ballots_online": accepted,
        "ballots_concurrency": concurrency,
        "paper_ballots_per_s": round(imported / paper_s, 1) if paper_s and imported else None,
        "ballots_paper": imported,
        "ballot_rows": rows,
        "ballot_cast_events": events,
        "ballot_cast_distinct_voters": distinct,
        "exactly_once": rows == expected == events == distinct,
    }


class _OwnStack:
    """A stack of its own when none is running: started here, stopped here."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="inspraak-bench-round-")
        self.stack: Any = None

    def __enter__(self) -> dict[str, str]:
        from stack.local import LocalStack

        say("no running stack answers: starting one of its own")
        self.stack = LocalStack(Path(self._dir.name), preferred_ports=False)
        self.stack.start()
        return dict(self.stack.stack_env({}))

    def __exit__(self, *exc: object) -> None:
        if self.stack is not None:
            self.stack.stop()
        self._dir.cleanup()


async def measure_round(
    env: dict[str, str] | None = None,
    *,
    online: int = 1_500,
    paper: int = 2_000,
    concurrency: int = 32,
    count_ballots: int = 100_000,
    projects: int = 50,
    count_limit_s: float = 120.0,
    mes_fallbacks: tuple[int, ...] = (10_000, 2_000),
    ingest: bool = True,
) -> dict[str, Any]:
    """Every number of this benchmark as one flat dict (see the module's docstring).

    ``env`` (``stack.env``'s names: ``BUDGETS_URL``, ``KAFKA_BOOTSTRAP_SERVERS``,
    ``KAFKA_TOPIC_NAMESPACE``) is the stack to ingest into, used as given; without it, the
    running stack of ``$INSPRAAK_RUN_DIR``, else a stack of its own. Safe to await from any
    running event loop: everything that blocks runs in a thread or a child process.
    """
    started = time.perf_counter()
    result: dict[str, Any] = {}
    if ingest:
        result |= await _ingest_somewhere(env, online=online, paper=paper, concurrency=concurrency)
    result |= await asyncio.to_thread(
        measure_counting,
        ballots=count_ballots,
        projects=projects,
        limit_s=count_limit_s,
        mes_fallbacks=mes_fallbacks,
    )
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


async def _ingest_somewhere(
    env: dict[str, str] | None, *, online: int, paper: int, concurrency: int
) -> dict[str, Any]:
    if env is not None:
        if not await asyncio.to_thread(answers, env.get("BUDGETS_URL", "")):
            raise RuntimeError(f"no budgets service answers at {env.get('BUDGETS_URL')!r}")
        return await measure_ingestion(env, online=online, paper=paper, concurrency=concurrency)
    running = read_stack_env()
    if running is not None and await asyncio.to_thread(answers, running.get("BUDGETS_URL", "")):
        say(f"using the running stack at {running['BUDGETS_URL']}")
        return await measure_ingestion(running, online=online, paper=paper, concurrency=concurrency)
    own = _OwnStack()
    try:
        own_env = await asyncio.to_thread(own.__enter__)
    except BaseException:
        await asyncio.to_thread(own.__exit__, None, None, None)  # what did start, stops
        raise
    try:
        return await measure_ingestion(own_env, online=online, paper=paper, concurrency=concurrency)
    finally:
        await asyncio.to_thread(own.__exit__, None, None, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.bench_round", description=__doc__)
    parser.add_argument("--online", type=int, default=1_500, help="online ballots cast")
    parser.add_argument("--paper", type=int, default=2_000, help="paper ballots imported")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--count-ballots", type=int, default=100_000)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--count-limit", type=float, default=120.0, help="seconds per count")
    parser.add_argument(
        "--mes-fallbacks",
        type=lambda text: tuple(int(n) for n in text.split(",") if n),
        default=(10_000, 2_000),
        help="smaller sizes for MES when it does not finish in time (default 10000,2000)",
    )
    parser.add_argument("--no-ingest", action="store_true", help="counting only")
    args = parser.parse_args(argv)
    result = asyncio.run(
        measure_round(
            online=args.online,
            paper=args.paper,
            concurrency=args.concurrency,
            count_ballots=args.count_ballots,
            projects=args.projects,
            count_limit_s=args.count_limit,
            mes_fallbacks=args.mes_fallbacks,
            ingest=not args.no_ingest,
        )
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
