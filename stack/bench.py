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

It measures and reports; it asserts nothing about speed. Progress goes to stdout as it runs;
the LAST line is one JSON object with every number.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from stack import bench_flows, bench_hop
from stack.bench_profile import DISJOINT
from stack.flow import FlowDriver

STARTED = time.perf_counter()


def say(text: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {text}", flush=True)


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
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    report: dict[str, Any] = {
        "namespace": namespace,
        "events": args.events,
        "partitions": args.partitions,
    }
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
        if not args.no_flows:
            _flows(kafka, namespace, args, Path(scratch), report)
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
    hops["sqlite"] = await _hop(kafka, namespace, sqlite_url, args.events, "sqlite")
    if not args.no_postgres:
        hops["postgresql"] = await _postgres_hop(kafka, namespace, args.events)
    report["hop"] = hops


async def _hop(kafka: str, namespace: str, url: str, events: int, label: str) -> dict[str, Any]:
    result = await bench_hop.advisory_hop(kafka, namespace, url, events, label=label, say=say)
    say(
        f"    {events} events -> {result['advice_requested_on_output']} AdviceRequested in "
        f"{result['seconds_first_batch_to_all_published']}s = {result['events_per_s']:,.0f}/s "
        f"(consumer busy {result['consumer_busy_pct']}%, python CPU "
        f"{result['python_cpu_pct']}% of a core)"
    )
    for step in result["breakdown"]:
        say(f"      {step['step']:<44} {step['pct_of_consumer']:>6}%  {step['ms_total']:>9} ms")
    return result


async def _postgres_hop(kafka: str, namespace: str, events: int) -> dict[str, Any]:
    from shared.devstack.postgres import ThrowawayPostgres

    say("(b) advisory hop on PostgreSQL (throwaway cluster); replaying the same input")
    await asyncio.to_thread(bench_hop.forget_group, kafka, namespace)
    server = ThrowawayPostgres()
    try:
        await asyncio.to_thread(server.start)
        url = await asyncio.to_thread(server.create_database, "advisory_hop")
        return await _hop(kafka, namespace, url, events, "postgresql")
    except Exception as error:  # PostgreSQL is the optional half of (b)
        say(f"    PostgreSQL hop skipped: {type(error).__name__}: {error}")
        return {"database": "postgresql", "error": f"{type(error).__name__}: {error}"}
    finally:
        await asyncio.to_thread(server.stop)


def _flows(
    kafka: str, namespace: str, args: argparse.Namespace, scratch: Path, report: dict[str, Any]
) -> None:
    from stack.local import LocalStack
    from stack.seed import seed_demo

    say("(c) whole flows: starting the four services as processes (SQLite) and the SMTP sink")
    stack = LocalStack(
        scratch / "stack",
        namespace=f"{namespace}flows.",
        preferred_ports=False,
        partitions=args.partitions,
        bootstrap=kafka,
        extra_env={"LOG_LEVEL": "WARNING"},
    )
    try:
        stack.start()
        tokens = seed_demo(stack.urls())
        say(f"    stack up and seeded: {', '.join(stack.urls().values())}")
        assert stack.mail is not None
        report["flows"] = asyncio.run(_drive(stack.urls(), tokens, stack.mail.folder, args))
    finally:
        say("    stopping the stack")
        stack.stop()


async def _drive(
    urls: dict[str, str], tokens: dict[str, str], mail_folder: Path, args: argparse.Namespace
) -> dict[str, Any]:
    mail = bench_flows.MailIndex(mail_folder)
    indexer = asyncio.create_task(mail.run())
    result: dict[str, Any] = {
        "amount_cents": bench_flows.AMOUNT_CENTS,
        "neighbourhoods": list(bench_flows.NEIGHBOURHOODS_WITH_COUNCIL),
        "driver_poll_ms": 10,
        "mail_scan_ms": int(bench_flows.MAIL_SCAN_S * 1000),
    }
    in_flight = max(args.concurrency, int(args.rate * 10))
    try:
        async with bench_flows.make_client(in_flight) as client:
            driver = FlowDriver(client, urls, tokens, mail.mail_for, timeout_s=60)
            say("    warm-up: 5 flows one after another (unloaded latency)")
            warm = bench_flows.Phase("warm-up")
            for index in range(5):
                warm.outcomes.append(await bench_flows.run_flow(driver, index))
            result["unloaded"] = warm.summary()
            say(f"    unloaded flow: p50 {warm.summary()['p50_ms']} ms")

            say(
                f"    latency phase: open loop, one flow every {1000 / args.rate:.0f} ms "
                f"({args.rate:g}/s offered) for {args.flow_seconds:g}s"
            )
            latency = await bench_flows.open_loop(
                driver,
                rate=args.rate,
                seconds=args.flow_seconds,
                drain_s=args.drain_seconds,
                say=say,
            )
            result["latency_phase"] = {
                "offered_per_s": args.rate,
                "offered_actual_per_s": round(len(latency.outcomes) / latency.launched_over_s, 2)
                if latency.launched_over_s
                else None,
                **latency.summary(),
            }
            _say_phase(result["latency_phase"])

            say(
                f"    throughput phase: closed loop, {args.concurrency} flows in flight "
                f"for {args.flow_seconds:g}s"
            )
            throughput = await bench_flows.closed_loop(
                driver,
                concurrency=args.concurrency,
                seconds=args.flow_seconds,
                drain_s=args.drain_seconds,
                say=say,
            )
            result["throughput_phase"] = {"concurrency": args.concurrency, **throughput.summary()}
            _say_phase(result["throughput_phase"])
    finally:
        indexer.cancel()
    result["initiator_mails_indexed"] = mail.files
    return result


def _say_phase(phase: dict[str, Any]) -> None:
    say(
        f"      {phase['flows_completed']}/{phase['flows_started']} flows completed "
        f"({phase['flows_failed']} failed), {phase['completed_per_s']}/s; total ms "
        f"p50 {phase['p50_ms']} p95 {phase['p95_ms']} p99 {phase['p99_ms']}"
    )
    say(f"      median per step (ms after the previous step): {phase['step_p50_ms']}")
    say(f"      CPU cores used: {phase['cpu_cores_used']}")
    if phase["first_errors"]:
        say(f"      errors: {phase['first_errors']}")


def _best_hop(report: dict[str, Any]) -> dict[str, Any]:
    hops = [h for h in report.get("hop", {}).values() if "events_per_s" in h]
    return max(hops, key=lambda h: h["events_per_s"]) if hops else {}


# What the hop's probes mean when one of them dominates (see stack.bench_profile.PROBES).
WHY = {
    "advice_deadline (holiday calendar)": "advice_deadline() builds "
    "holidays.country_holidays('NL') again for every calendar day it counts (~14 per event)",
    "rounds.for_subject (select, autoflush)": "request_advice() runs one SELECT per event "
    "to refuse a second round, and that query first autoflushes the previous event's INSERT",
    "councils.list (select)": "the councils are loaded again for every event of a batch",
    "rounds.save (session.get + add)": "saving a new round first does session.get() for a "
    "row that cannot exist yet",
    "unit of work commit (total)": "the ORM flush of a batch of new rows at commit",
    "inbox claim (select + insert)": "the inbox lookup and insert per batch",
    "decode CloudEvents record": "header decoding and pydantic validation per record",
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
            f"{shown}. The service process used {best['python_cpu_pct']}% of one core."
            + (" Why: " + "; ".join(why) + "." if why else "")
        )
    flows = report.get("flows", {})
    phase = flows.get("throughput_phase")
    if phase:
        cpu = dict(phase["cpu_cores_used"])
        busy = cpu.pop("machine_busy_pct", 0.0)
        total = cpu.pop("total", 0.0)
        ranked = sorted(cpu.items(), key=lambda item: -item[1])
        shown = ", ".join(f"{name} {cores}" for name, cores in ranked)
        steps = phase["step_p50_ms"]
        slowest = max(steps, key=steps.get) if steps else "?"
        notes["flows"] = (
            f"at {phase['concurrency']} in flight the machine was {busy}% busy (2 cores); "
            f"cores used: {shown} (bench total {total}). "
            f"Slowest step (median): {slowest!r} {steps.get(slowest)} ms. Each waiting flow "
            "polls an API every 10 ms, so the services also serve the polling: with a "
            "saturated CPU that polling, four Python processes and the broker compete for "
            "the same 2 cores."
        )
    return notes


def _final(report: dict[str, Any]) -> dict[str, Any]:
    raw = report.get("raw", {}).get("events_per_s")
    best = _best_hop(report)
    flows = report.get("flows", {})
    latency = flows.get("latency_phase", {})
    throughput = flows.get("throughput_phase", {})
    hop_rates = {name: h.get("events_per_s") for name, h in report.get("hop", {}).items()}
    return {
        "raw_events_per_s": raw,
        "hop_events_per_s": best.get("events_per_s"),
        "hop_ratio": round(best["events_per_s"] / raw, 4) if best and raw else None,
        "flow_per_s": throughput.get("completed_per_s"),
        "flow_p50_ms": latency.get("p50_ms"),
        "flow_p95_ms": latency.get("p95_ms"),
        "flow_p99_ms": latency.get("p99_ms"),
        "hop_database": best.get("database"),
        "hop_events_per_s_by_database": hop_rates,
        "events": report["events"],
        "partitions": report["partitions"],
        "flow_offered_per_s": latency.get("offered_per_s"),
        "flow_offered_actual_per_s": latency.get("offered_actual_per_s"),
        "flow_concurrency": throughput.get("concurrency"),
        "bottlenecks": _bottlenecks(report),
        "details": report,
    }


def _print_summary(report: dict[str, Any]) -> None:
    final = _final(report)
    say("summary")
    for key in ("raw_events_per_s", "hop_events_per_s", "hop_ratio", "flow_per_s"):
        say(f"    {key:<18} {final[key]}")
    for key in ("flow_p50_ms", "flow_p95_ms", "flow_p99_ms"):
        say(f"    {key:<18} {final[key]}  (at {final['flow_offered_per_s']} flows/s offered)")
    for name, text in final["bottlenecks"].items():
        say(f"    bottleneck ({name}): {text}")


if __name__ == "__main__":
    sys.exit(main())
