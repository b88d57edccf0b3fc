"""`make bench`: the raw Kafka ceiling, one service hop through the kit, and whole flows.

One run, one broker (``KAFKA_BOOTSTRAP_SERVERS`` or a local one), a fresh topic namespace:

(a) raw ceiling   N pre-loaded CloudEvents records piped by plain aiokafka (consume -> produce,
                  acks=all + idempotence, offsets committed per batch).
(b) service hop   the same N records through the real advisory service in-process: batch
                  subscriber -> one transaction per batch (inbox, state, outbox) -> relay ->
                  ``advisory.events.v1``; on SQLite and on a throwaway PostgreSQL.
(c) whole flows   the four services as processes (SQLite) driven by :class:`FlowDriver`:
                  latency at a fixed offered load (open loop), then throughput at a fixed
                  concurrency (closed loop).
(d) support       on the same stack: supports/s through the initiatives API, every accepted
                  support one `support-registered` event (:mod:`stack.bench_support`).
(e) ballots       on the same stack: ballots/s through the budgets API and paper ballots
                  imported in bulk, each one ballot row and one `ballot-cast` event
                  (:mod:`stack.bench_round`).
(f) counting      100,000 generated ballots over 50 projects counted greedy and by the Method
                  of Equal Shares, ours beside pabutools (:mod:`stack.bench_round`).
(g) fan-out       a decision told to 50,000 supporters by e-mail through a local SMTP sink:
                  notifications/s, each recipient once (:mod:`stack.bench_fanout`).

It measures and reports; it asserts nothing about speed. Progress goes to stdout as it runs;
the LAST line is one JSON object with every number.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.devstack.kafka import LocalKafkaBroker
from shared.messaging.topics import ensure_topics
from shared.messaging.topology import topic_specs
from stack import bench_fanout, bench_flows, bench_hop, bench_round, bench_support
from stack.bench_profile import DISJOINT
from stack.event_watch import EventWatch

STARTED = time.perf_counter()


def say(text: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {text}", flush=True)


class _OneLineErrors(logging.Formatter):
    """Errors logged while measuring (e.g. by the in-process service) stay one line each."""

    def formatException(self, ei: Any) -> str:
        error = ei[1]
        return f"    {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stack.bench", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="pre-loaded records")
    parser.add_argument("--partitions", type=int, default=bench_hop.PARTITIONS)
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL hop")
    parser.add_argument("--no-flows", action="store_true", help="skip part (c)")
    parser.add_argument("--rate", type=float, default=50.0, help="offered flows/s (open loop)")
    parser.add_argument("--concurrency", type=int, default=64, help="flows in flight (closed)")
    parser.add_argument("--flow-seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--drain-seconds", type=float, default=60.0, help="wait after a phase")
    parser.add_argument("--no-support", action="store_true", help="skip part (d)")
    parser.add_argument("--no-ballots", action="store_true", help="skip part (e)")
    parser.add_argument("--no-counting", action="store_true", help="skip part (f)")
    parser.add_argument("--count-ballots", type=int, default=100_000, help="ballots counted")
    parser.add_argument("--count-projects", type=int, default=50, help="projects counted")
    parser.add_argument("--count-limit", type=float, default=300.0, help="seconds per count")
    parser.add_argument("--no-fanout", action="store_true", help="skip part (g)")
    parser.add_argument("--fanout-recipients", type=int, default=50_000, help="e-mails fanned out")
    return parser.parse_args(argv)


@contextmanager
def kafka_broker() -> Iterator[tuple[str, str]]:
    existing = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if existing:
        say(f"Kafka: using KAFKA_BOOTSTRAP_SERVERS={existing}")
        yield existing, "external (KAFKA_BOOTSTRAP_SERVERS)"
        return
    say("Kafka: starting a local broker (Maven Central jars, KRaft, one node)")
    broker = LocalKafkaBroker()
    bootstrap = broker.start()
    say(f"Kafka: ready at {bootstrap}")
    try:
        yield bootstrap, "local single node (shared.devstack.kafka)"
    finally:
        broker.stop()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # Progress lines are the bench's own; libraries only speak up when something is wrong.
    # aiokafka's retried produce errors right after topic creation are routine noise.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_OneLineErrors("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    for chatty in ("aiokafka", "kafka"):
        logging.getLogger(chatty).setLevel(logging.ERROR)
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    report: dict[str, Any] = {
        "namespace": namespace,
        "events": args.events,
        "partitions": args.partitions,
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    say(
        f"machine: {os.cpu_count()} CPUs, load average {report['load_average_at_start']} "
        "(other work on the machine competes with what is measured)"
    )
    with (
        kafka_broker() as (kafka, broker_kind),
        tempfile.TemporaryDirectory(prefix="inspraak-bench-") as scratch,
    ):
        report["kafka"] = broker_kind
        ensure_topics(
            kafka,
            topic_specs(
                partitions=args.partitions,
                replication_factor=1,
                min_insync_replicas=1,
                namespace=namespace,
            ),
        )
        raw_out = bench_hop.ensure_raw_output(kafka, namespace)
        say(f"topics created under namespace {namespace!r}, {args.partitions} partitions each")
        asyncio.run(_raw_and_hops(kafka, namespace, raw_out, args, Path(scratch), report))
        if not (args.no_flows and args.no_support and args.no_ballots):
            _on_a_stack(kafka, namespace, args, Path(scratch), report)
        if not args.no_counting:
            say(
                f"(f) counting {args.count_ballots:,} ballots over {args.count_projects} projects: "
                "ours and pabutools, greedy and MES, each in a child process with a time limit"
            )
            report["counting"] = bench_round.measure_counting(
                ballots=args.count_ballots,
                projects=args.count_projects,
                limit_s=args.count_limit,
                mes_fallbacks=(10_000, 2_000),
            )
            _say_numbers(report["counting"])
        if not args.no_fanout:
            say(f"(g) fan-out of one decision to {args.fanout_recipients:,} supporters by e-mail")
            report["fanout"] = asyncio.run(
                bench_fanout.measure_fanout(
                    args.fanout_recipients, kafka=kafka, namespace=namespace, timeout_s=3600
                )
            )
            _say_numbers(report["fanout"])
    report["elapsed_s"] = round(time.perf_counter() - STARTED, 1)
    _print_summary(report)
    print(json.dumps(_final(report), separators=(",", ":")), flush=True)
    return 0


async def _raw_and_hops(
    kafka: str,
    namespace: str,
    raw_out: str,
    args: argparse.Namespace,
    scratch: Path,
    report: dict[str, Any],
) -> None:
    source = bench_hop.input_topic(namespace)
    say(f"(a) pre-loading {args.events} InitiativeReadyForReview records onto {source}")
    rate = await bench_hop.preload(kafka, source, args.events)
    report["preload_events_per_s"] = round(rate, 1)
    say(f"    pre-loaded at {rate:,.0f} records/s (acks=all, idempotent)")
    say("(a) raw ceiling: aiokafka consume -> produce, acks=all, commit per batch")
    raw = await bench_hop.raw_pipe(kafka, source, raw_out, args.events, f"{namespace}bench-raw")
    report["raw"] = raw
    say(f"    {raw['events']} records in {raw['seconds']}s = {raw['events_per_s']:,.0f}/s")

    hops: dict[str, dict[str, Any]] = {}
    say("(b) advisory hop on SQLite (file in a temp dir)")
    sqlite_url = f"sqlite+aiosqlite:///{scratch}/advisory-hop.sqlite3"
    hops["sqlite"] = await _hop(kafka, namespace, sqlite_url, args, "sqlite")
    if not args.no_postgres:
        hops["postgresql"] = await _postgres_hop(kafka, namespace, args)
    report["hop"] = hops


async def _hop(
    kafka: str, namespace: str, url: str, args: argparse.Namespace, label: str
) -> dict[str, Any]:
    events = args.events
    result = await bench_hop.advisory_hop(
        kafka, namespace, url, events, label=label, say=say, partitions=args.partitions
    )
    say(
        f"    {events} events -> {result['advice_requested_on_output']} AdviceRequested in "
        f"{result['seconds_first_batch_to_all_published']}s = {result['events_per_s']:,.0f}/s "
        f"(consumer busy {result['consumer_busy_pct']}%, python CPU "
        f"{result['python_cpu_pct']}% of a core, machine {result['machine_busy_pct']}% busy)"
    )
    for step in result["breakdown"]:
        say(f"      {step['step']:<44} {step['pct_of_consumer']:>6}%  {step['ms_total']:>9} ms")
    return result


async def _postgres_hop(kafka: str, namespace: str, args: argparse.Namespace) -> dict[str, Any]:
    from shared.devstack.postgres import ThrowawayPostgres

    say("(b) advisory hop on PostgreSQL (throwaway cluster); replaying the same input")
    await asyncio.to_thread(bench_hop.forget_group, kafka, namespace)
    server = ThrowawayPostgres()
    try:
        await asyncio.to_thread(server.start)
        url = await asyncio.to_thread(server.create_database, "advisory_hop")
        return await _hop(kafka, namespace, url, args, "postgresql")
    except Exception as error:  # PostgreSQL is the optional half of (b)
        say(f"    PostgreSQL hop skipped: {type(error).__name__}: {error}")
        return {"database": "postgresql", "error": f"{type(error).__name__}: {error}"}
    finally:
        await asyncio.to_thread(server.stop)


def _on_a_stack(
    kafka: str, namespace: str, args: argparse.Namespace, scratch: Path, report: dict[str, Any]
) -> None:
    """Parts (c), (d) and (e): the four services as processes, seeded like `make run`."""
    from stack.local import LocalStack
    from stack.seed import seed_demo

    say("(c-e) starting the four services as processes (SQLite) and the SMTP sink")
    for attempt in range(1, 4):
        stack = LocalStack(
            scratch / f"stack-{attempt}",
            namespace=f"{namespace}flows{attempt}.",
            preferred_ports=False,
            partitions=args.partitions,
            bootstrap=kafka,
            extra_env={"LOG_LEVEL": "WARNING"},
        )
        try:
            stack.start()
            break
        except Exception as error:  # e.g. a free port taken by another process meanwhile
            stack.stop()
            if attempt == 3:
                raise
            say(f"    the stack did not start ({str(error)[:160]}); trying again")
    try:
        tokens = seed_demo(stack.urls())
        say(f"    stack up and seeded: {', '.join(stack.urls().values())}")
        assert stack.mail is not None
        if not args.no_flows:
            report["flows"] = asyncio.run(
                _drive(
                    stack.urls(),
                    tokens,
                    stack.mail.folder,
                    stack.run_dir,
                    args,
                    kafka,
                    stack.namespace,
                )
            )
        if not args.no_support:
            say("(d) support registration through the initiatives API, then counted on Kafka")
            report["support"] = asyncio.run(
                bench_support.measure_support(
                    stack.urls(), tokens["civil_servant"], kafka, namespace=stack.namespace
                )
            )
            _say_exactly_once("supports", report["support"], "support_per_s")
        if not args.no_ballots:
            say("(e) ballots through the budgets API and paper imports, then counted on Kafka")
            report["ballots"] = asyncio.run(
                bench_round.measure_ingestion(
                    stack.stack_env(tokens), online=1_500, paper=2_000, concurrency=32
                )
            )
            _say_exactly_once("ballots", report["ballots"], "ballots_per_s")
    finally:
        say("    stopping the stack")
        stack.stop()


async def _drive(
    urls: dict[str, str],
    tokens: dict[str, str],
    mail_folder: Path,
    logs: Path,
    args: argparse.Namespace,
    kafka: str,
    namespace: str,
) -> dict[str, Any]:
    mail = bench_flows.MailIndex(mail_folder)
    indexer = asyncio.create_task(mail.run())
    # All phases wait on the services' events (one consumer from the topics' end), not on polls.
    watch = EventWatch(kafka, namespace)
    await watch.start()
    say("    the driver waits on Kafka events (advice requested, ready for decision, budget)")
    drivers = bench_flows.Drivers(urls, tokens, mail.mail_for, args.concurrency, watch=watch)
    result: dict[str, Any] = {
        "database": "sqlite (one file per service)",
        "amount_cents": bench_flows.AMOUNT_CENTS,
        "neighbourhoods": list(bench_flows.NEIGHBOURHOODS_WITH_COUNCIL),
        "driver_waits_on": "kafka events (one consumer on the four event topics)",
        "mail_scan_ms": int(bench_flows.MAIL_SCAN_S * 1000),
        "flow_timeout_s_per_wait": bench_flows.FLOW_TIMEOUT_S,
    }
    metrics = drivers.clients[0]
    try:
        say("    warm-up: 5 flows one after another (unloaded latency)")
        warm = bench_flows.Phase("warm-up")
        for index in range(5):
            warm.outcomes.append(await bench_flows.run_flow(drivers, index))
        result["unloaded"] = warm.summary()
        say(f"      unloaded flow p50 {result['unloaded']['p50_ms']} ms")

        say(
            f"    throughput: closed loop, {args.concurrency} flows in flight "
            f"for {args.flow_seconds:g}s"
        )
        throughput = await bench_flows.measured(
            metrics,
            urls,
            logs,
            lambda: bench_flows.closed_loop(
                drivers,
                concurrency=args.concurrency,
                seconds=args.flow_seconds,
                drain_s=args.drain_seconds,
                say=say,
            ),
        )
        result["throughput_phase"] = {"concurrency": args.concurrency, **throughput.summary()}
        _say_phase(result["throughput_phase"])

        capacity = result["throughput_phase"]["completed_per_s"]
        sustainable = max(0.5, round(capacity, 1) / 2)
        for key, rate in (("sustainable_latency_phase", sustainable), ("latency_phase", args.rate)):
            say(
                f"    latency: open loop, one flow every {1000 / rate:.0f} ms ({rate:g}/s "
                f"offered{', half the measured capacity' if key.startswith('sus') else ''}) "
                f"for {args.flow_seconds:g}s"
            )
            phase = await bench_flows.measured(
                metrics,
                urls,
                logs,
                functools.partial(
                    bench_flows.open_loop,
                    drivers,
                    rate=rate,
                    seconds=args.flow_seconds,
                    drain_s=args.drain_seconds,
                    say=say,
                ),
            )
            result[key] = {
                "offered_per_s": rate,
                "offered_actual_per_s": round(len(phase.outcomes) / phase.launched_over_s, 2)
                if phase.launched_over_s
                else None,
                **phase.summary(),
            }
            _say_phase(result[key])
    finally:
        indexer.cancel()
        await drivers.close()
        await watch.stop()
    result["initiator_mails_indexed"] = mail.files
    result["watch_records_read"] = watch.records
    result["watch_records_decoded"] = watch.decoded
    return result


def _say_exactly_once(what: str, result: dict[str, Any], rate: str) -> None:
    say(f"    {result[rate]} {what}/s; exactly once: {result['exactly_once']}")
    say(f"    {json.dumps(result)}")


def _say_numbers(counting: dict[str, Any]) -> None:
    for key, value in counting.items():
        say(f"    {key:<40} {value}")


def _say_phase(phase: dict[str, Any]) -> None:
    say(
        f"      {phase['flows_completed']}/{phase['flows_started']} flows completed "
        f"({phase['flows_failed']} failed), {phase['completed_per_s']}/s; total ms "
        f"p50 {phase['p50_ms']} p95 {phase['p95_ms']} p99 {phase['p99_ms']}"
    )
    say(f"      median per step (ms after the previous step): {phase['step_p50_ms']}")
    say(f"      CPU cores used: {phase['cpu_cores_used']}")
    say(f"      HTTP requests per flow: {phase['http_requests_per_flow']}")
    if phase["sqlite_database_is_locked_log_lines"]:
        say(f"      'database is locked' in logs: {phase['sqlite_database_is_locked_log_lines']}")
    if phase["first_errors"]:
        say(f"      errors: {phase['first_errors']}")


def _best_hop(report: dict[str, Any]) -> dict[str, Any]:
    hops = [h for h in report.get("hop", {}).values() if "events_per_s" in h]
    return max(hops, key=lambda h: h["events_per_s"]) if hops else {}


# What the hop's probes mean when one of them dominates (see stack.bench_profile.PROBES).
WHY = {
    "advice_deadline (holiday calendar)": "advice_deadline() counts the deadline's days "
    "against the Dutch holiday calendar (cached per year)",
    "routing_rules.list (select)": "the routing rules are read from the database (once per "
    "transaction, then from the unit of work's cache)",
    "councils.list (select)": "the councils are read from the database (once per transaction, "
    "then from the unit of work's cache)",
    "rounds.has_subject (select, no autoflush)": "the check that refuses a second round for "
    "one initiative (one query per transaction, prepared for the whole batch)",
    "rounds.add (collected)": "turning each new round and its requests into a row's values",
    "timers.schedule (collected)": "collecting each request's deadline and reminder timers, "
    "written in one statement at commit",
    "unit of work commit (total)": "the commit: the new rounds, their timers and their outbox "
    "rows inserted in one statement each",
    "inbox claim (insert returning)": "the inbox insert that keeps each event once; as a "
    "transaction's first statement it also begins it, on SQLite waiting for the write lock "
    "the relay may hold",
    "decode CloudEvents record": "header decoding and pydantic validation per record",
}


# What a flow step waits for between the driver's calls (see stack.flow.FlowDriver.run); the
# driver hears each step's event from Kafka, so a step ends when the event is on its topic.
STEP_WAITS = {
    "advice requested": "initiatives' relay, then advisory's consumer and relay",
    "ready for decision": "advisory's relay, then initiatives' consumer and relay",
    "budget answered": "initiatives' relay, then budgets' consumer and relay",
    "initiator e-mailed": "notifications' consumer composes the mail and its dispatcher "
    "sweep sends it over SMTP",
}


def _bottlenecks(report: dict[str, Any]) -> dict[str, str]:
    notes: dict[str, str] = {}
    raw = report.get("raw", {}).get("events_per_s", 0.0)
    best = _best_hop(report)
    if best and raw:
        ratio = best["events_per_s"] / raw
        leaves = sorted(
            (s for s in best["breakdown"] if s["step"] in DISJOINT),
            key=lambda s: -s["pct_of_consumer"],
        )[:4]
        shown = ", ".join(f"{s['step'].strip()} {s['pct_of_consumer']}%" for s in leaves)
        why = [
            WHY[s["step"].strip()]
            for s in leaves
            if s["pct_of_consumer"] >= 15 and s["step"].strip() in WHY
        ]
        notes["hop"] = (
            f"best hop ({best['database']}) {best['events_per_s']:.0f}/s = {ratio:.3f} x raw "
            f"{raw:.0f}/s. The consumer was busy {best['consumer_busy_pct']}% of the time, "
            f"applying events one by one inside each batch's transaction; of its batch time: "
            f"{shown}. The service process used {best['python_cpu_pct']}% of one core (machine "
            f"{best['machine_busy_pct']}% busy)."
            + ("" if best["complete"] else " The hop did not finish within the time cap.")
            + (" Why: " + "; ".join(why) + "." if why else "")
        )
    flows = report.get("flows", {})
    phase = flows.get("throughput_phase")
    if phase and phase["completed_per_s"]:
        cpu = dict(phase["cpu_cores_used"])
        busy = cpu.pop("machine_busy_pct", 0.0)
        total = cpu.pop("total", 0.0)
        rate = phase["completed_per_s"]
        per_flow = ", ".join(
            f"{name} {1000 * cores / rate:.0f}"
            for name, cores in sorted(cpu.items(), key=lambda item: -item[1])
        )
        outside = max(0.0, 2 * busy / 100 - total)
        steps = phase["step_p50_ms"]
        slowest = max(steps, key=steps.get) if steps else "?"
        requests = phase["http_requests_per_flow"]
        notes["flows"] = (
            f"{rate}/s with {phase['concurrency']} in flight; the machine's 2 cores were "
            f"{busy}% busy: the bench's processes used {total} cores and {outside:.2f} went to "
            f"processes outside it. CPU ms per completed flow: {per_flow}. "
            + (
                "The flows are CPU-bound: every step waits in a queue for a core"
                if busy >= 95
                else "The CPU was close to saturated, so each step waits for a core as well "
                "as for the pauses between consumer polls, relay and dispatcher sweeps"
                if busy >= 80
                else "The CPU was not saturated: the flows wait on the pauses between consumer "
                "polls, relay and dispatcher sweeps, or on locks"
            )
            + f" (median per step {steps}; slowest {slowest!r}"
            + (f": {STEP_WAITS[slowest]}" if slowest in STEP_WAITS else "")
            + "). HTTP requests per flow: "
            f"{requests}: the submission, the advice and the decision; between them the "
            "driver waits on the services' Kafka events, not on HTTP polls, so the services' "
            "CPU goes to the event-driven work."
            + (
                f" SQLite busy timeouts ('database is locked') logged: {locked}."
                if (locked := phase.get("sqlite_database_is_locked_log_lines"))
                else " No SQLite lock timeouts were logged."
            )
        )
    return notes


def _final(report: dict[str, Any]) -> dict[str, Any]:
    raw = report.get("raw", {}).get("events_per_s")
    best = _best_hop(report)
    flows = report.get("flows", {})
    latency = flows.get("latency_phase", {})
    sustainable = flows.get("sustainable_latency_phase", {})
    throughput = flows.get("throughput_phase", {})
    hop_rates = {name: h.get("events_per_s") for name, h in report.get("hop", {}).items()}
    support = report.get("support", {})
    ballots = report.get("ballots", {})
    started = latency.get("flows_started") or 0
    return {
        "raw_events_per_s": raw,
        "hop_events_per_s": best.get("events_per_s"),
        "hop_ratio": round(best["events_per_s"] / raw, 4) if best and raw else None,
        "flow_per_s": throughput.get("completed_per_s"),
        "flow_p50_ms": latency.get("p50_ms"),
        "flow_p95_ms": latency.get("p95_ms"),
        "flow_p99_ms": latency.get("p99_ms"),
        "flow_offered_per_s": latency.get("offered_per_s"),
        "flow_offered_actual_per_s": latency.get("offered_actual_per_s"),
        "flow_completed_fraction": round(latency["flows_completed"] / started, 3)
        if started
        else None,
        "flow_percentiles_include_lower_bounds": latency.get("percentiles_include_lower_bounds"),
        "flow_sustainable_offered_per_s": sustainable.get("offered_per_s"),
        "flow_sustainable_p50_ms": sustainable.get("p50_ms"),
        "flow_sustainable_p95_ms": sustainable.get("p95_ms"),
        "flow_sustainable_p99_ms": sustainable.get("p99_ms"),
        "flow_unloaded_p50_ms": flows.get("unloaded", {}).get("p50_ms"),
        "flow_concurrency": throughput.get("concurrency"),
        "flow_database": flows.get("database"),
        "support_per_s": support.get("support_per_s"),
        "support_exactly_once": support.get("exactly_once"),
        "ballots_per_s": ballots.get("ballots_per_s"),
        "paper_ballots_per_s": ballots.get("paper_ballots_per_s"),
        "ballots_exactly_once": ballots.get("exactly_once"),
        "counting": report.get("counting"),
        "fanout_recipients": report.get("fanout", {}).get("fanout_recipients"),
        "fanout_per_s": report.get("fanout", {}).get("fanout_per_s"),
        "fanout_duplicates": report.get("fanout", {}).get("fanout_duplicates"),
        "fanout_complete": report.get("fanout", {}).get("fanout_complete"),
        "hop_database": best.get("database"),
        "hop_events_per_s_by_database": hop_rates,
        "events": report["events"],
        "partitions": report["partitions"],
        "kafka": report.get("kafka"),
        "cpus": report.get("cpus"),
        "load_average_at_start": report.get("load_average_at_start"),
        "bottlenecks": _bottlenecks(report),
        "elapsed_s": report.get("elapsed_s"),
        "details": report,
    }


def _print_summary(report: dict[str, Any]) -> None:
    final = _final(report)
    say("summary")
    for key, value in final.items():
        if key not in ("bottlenecks", "details"):
            say(f"    {key:<40} {value}")
    for name, text in final["bottlenecks"].items():
        say(f"    bottleneck ({name}): {text}")


if __name__ == "__main__":
    sys.exit(main())
