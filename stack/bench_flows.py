"""Bench part (c): whole flows through the four service processes, as residents would drive them.

Each flow is :class:`stack.flow.FlowDriver`: submit -> advice requested -> advice given -> ready
for decision -> decided -> budget answered -> the initiator's e-mail. Between its calls the
driver waits on the services' Kafka events (:class:`stack.event_watch.EventWatch`, one consumer
for all flows), as the services themselves do, so the services answer only the calls a resident
would make (submit, advise, decide: about four HTTP requests per flow) and the bench measures
the event-driven work rather than polling. Only the initiator's e-mail is waited for by looking
at the SMTP sink's folder (no HTTP).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import os
import re
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from stack.bench_profile import machine_ticks
from stack.event_watch import EventWatch
from stack.flow import FlowDriver, FlowResult, tells_outcome

Say = Callable[[str], None]
NEIGHBOURHOODS_WITH_COUNCIL = ("BU03620001", "BU03620002")
AMOUNT_CENTS = 100
INITIATOR = "resident-demo"
MAIL_SCAN_S = 0.02
FLOW_TIMEOUT_S = 60.0
_QUOTED = re.compile(r'"([^"]+)"')
_HEADERS = BytesHeaderParser(policy=email.policy.default)


class MailIndex:
    """Titles of the initiator's outcome e-mails, read once per file as files arrive.

    The sink names files ``<n>-<recipient>.eml``, so only the initiator's files are opened,
    and only their headers are parsed (every initiator template quotes the title in the
    subject). A file caught half-written is looked at again on the next scan.
    """

    def __init__(self, folder: Path, recipient: str = INITIATOR) -> None:
        self.folder = folder
        self._fragment = f"-{recipient}-at-"
        self.titles: set[str] = set()
        self._done: set[str] = set()
        self._retry: dict[str, int] = {}
        self._mtime = -1
        self.files = 0

    def scan(self) -> None:
        mtime = self.folder.stat().st_mtime_ns
        names: list[str] = list(self._retry)
        if mtime != self._mtime:
            self._mtime = mtime
            with os.scandir(self.folder) as entries:
                names += [e.name for e in entries if e.name not in self._done]
        for name in dict.fromkeys(names):
            self._done.add(name)
            if self._fragment not in name:
                continue
            headers = _HEADERS.parsebytes((self.folder / name).read_bytes())
            found = _QUOTED.findall(str(headers["Subject"] or ""))
            if not found and self._retry.get(name, 0) < 50:  # caught half-written
                self._retry[name] = self._retry.get(name, 0) + 1
                continue
            self._retry.pop(name, None)
            if found and tells_outcome(headers):  # not one of the earlier steps' notices
                self.titles.update(found)
                self.files += 1

    async def run(self) -> None:
        while True:
            with contextlib.suppress(OSError):  # unreadable for a moment: next scan
                self.scan()
            await asyncio.sleep(MAIL_SCAN_S)

    async def mail_for(self, title: str) -> bool:
        return title in self.titles


@dataclass
class Outcome:
    started: float
    finished: float
    result: FlowResult | None = None
    error: str | None = None


@dataclass
class Phase:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)
    window_s: float = 0.0
    launched_over_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    requests: dict[str, float] = field(default_factory=dict)
    locked: dict[str, int] = field(default_factory=dict)

    def totals_ms(self) -> list[float]:
        """Every started flow's total; a flow that failed or never finished counts with the
        time it had run when it was given up (a lower bound, ranked as the slowest)."""
        done = sorted(o.result.total_ms for o in self.outcomes if o.result is not None)
        given_up = sorted(
            1000 * (o.finished - o.started) for o in self.outcomes if o.result is None
        )
        return done + [max(done[-1] if done else 0.0, value) for value in given_up]

    def summary(self) -> dict[str, Any]:
        totals = self.totals_ms()
        ok = [o for o in self.outcomes if o.result is not None]
        errors = [o.error for o in self.outcomes if o.error]
        first = min((o.started for o in self.outcomes), default=0.0)
        last = max((o.finished for o in ok), default=first)
        return {
            "flows_started": len(self.outcomes),
            "flows_completed": len(ok),
            "flows_failed": len(errors),
            "first_errors": sorted(set(errors))[:3],
            "completed_per_s": round(len(ok) / (last - first), 2) if last > first else 0.0,
            "p50_ms": _percentile(totals, 50),
            "p95_ms": _percentile(totals, 95),
            "p99_ms": _percentile(totals, 99),
            "max_ms": round(totals[-1], 1) if totals else None,
            "percentiles_include_lower_bounds": len(ok) < len(self.outcomes),
            "step_p50_ms": _step_medians(ok),
            "cpu_cores_used": self.cpu,
            "sqlite_database_is_locked_log_lines": self.locked,
            "http_requests_per_flow": {
                name: round(count / max(1, len(self.outcomes)), 1)
                for name, count in self.requests.items()
            },
        }


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))
    return round(values[index], 1)


def _step_medians(outcomes: list[Outcome]) -> dict[str, float]:
    """Median time each step took after the previous one: where a flow waits."""
    gaps: dict[str, list[float]] = {}
    for outcome in outcomes:
        assert outcome.result is not None
        previous = 0.0
        for step, at in outcome.result.steps.items():
            gaps.setdefault(step, []).append(at - previous)
            previous = at
    return {step: round(statistics.median(values), 1) for step, values in gaps.items()}


class Drivers:
    """Flow drivers, each with its own small HTTP client.

    One big shared client would spend the driver's CPU in httpcore's pool, which scans every
    pooled connection for each request; small pools keep the load generator cheap.
    """

    def __init__(
        self,
        urls: dict[str, str],
        tokens: dict[str, str],
        mail_for: Callable[[str], Awaitable[bool]],
        count: int,
        watch: EventWatch | None = None,
    ) -> None:
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=8)
        self.clients = [
            httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(30.0, pool=None))
            for _ in range(count)
        ]
        self._drivers = [
            FlowDriver(client, urls, tokens, mail_for, timeout_s=FLOW_TIMEOUT_S, watch=watch)
            for client in self.clients
        ]

    def __getitem__(self, index: int) -> FlowDriver:
        return self._drivers[index % len(self._drivers)]

    async def close(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self.clients))


async def run_flow(drivers: Drivers, index: int) -> Outcome:
    started = time.perf_counter()
    try:
        result = await drivers[index].run(
            amount_cents=AMOUNT_CENTS,
            neighbourhood=NEIGHBOURHOODS_WITH_COUNCIL[index % len(NEIGHBOURHOODS_WITH_COUNCIL)],
        )
    except Exception as error:  # a failed flow is a result of the bench, not a crash of it
        return Outcome(started, time.perf_counter(), error=f"{type(error).__name__}: {error}"[:200])
    return Outcome(started, time.perf_counter(), result=result)


async def open_loop(
    drivers: Drivers, *, rate: float, seconds: float, drain_s: float, say: Say
) -> Phase:
    """Start a flow every 1/rate seconds whatever happens to the earlier ones."""
    phase = Phase("open loop")
    count = max(1, int(rate * seconds))
    tasks: list[asyncio.Task[Outcome]] = []
    launched: list[float] = []
    every = max(1, int(rate * 5))
    with _cpu(phase):
        began = time.perf_counter()
        for index in range(count):
            delay = began + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(run_flow(drivers, index)))
            launched.append(time.perf_counter())
            if index and index % every == 0:
                finished = sum(t.done() for t in tasks)
                say(f"    {index} flows started, {finished} finished")
        phase.launched_over_s = time.perf_counter() - began
        phase.outcomes = await _gather(tasks, launched, drain_s, say)
    phase.window_s = seconds
    return phase


async def closed_loop(
    drivers: Drivers, *, concurrency: int, seconds: float, drain_s: float, say: Say
) -> Phase:
    """``concurrency`` workers, each starting its next flow when the last one finished."""
    phase = Phase("closed loop")
    deadline = time.perf_counter() + seconds
    started = 0

    async def worker(slot: int) -> list[Outcome]:
        nonlocal started
        mine: list[Outcome] = []
        while time.perf_counter() < deadline:
            started += 1
            mine.append(await run_flow(drivers, slot))
        return mine

    async def progress() -> None:
        while True:
            await asyncio.sleep(5)
            say(f"    {started} flows started so far")

    with _cpu(phase):
        reporter = asyncio.create_task(progress())
        workers = [asyncio.create_task(worker(slot)) for slot in range(concurrency)]
        done, pending = await asyncio.wait(workers, timeout=seconds + drain_s)
        reporter.cancel()
        for task in pending:
            task.cancel()
        phase.outcomes = [o for task in done for o in task.result()]
        if pending:
            say(f"    {len(pending)} workers still busy after the drain; their flows not counted")
    phase.window_s = seconds
    return phase


async def _gather(
    tasks: list[asyncio.Task[Outcome]], launched: list[float], drain_s: float, say: Say
) -> list[Outcome]:
    done, pending = await asyncio.wait(tasks, timeout=drain_s) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    if pending:
        say(f"    {len(pending)} flows unfinished after the drain; counted as failed")
    now = time.perf_counter()
    return [
        task.result() if task in done else Outcome(began, now, error="unfinished after drain")
        for task, began in zip(tasks, launched, strict=True)
    ]


async def http_requests(client: httpx.AsyncClient, urls: dict[str, str]) -> dict[str, float]:
    """Requests the services have served so far, by method (from their /metrics)."""
    served: dict[str, float] = {}
    for url in urls.values():
        text = (await client.get(f"{url}/metrics")).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "inspraak_http_requests_total":
                    method = sample.labels.get("method", "?")
                    served[method] = served.get(method, 0.0) + sample.value
    return served


async def measured(
    client: httpx.AsyncClient,
    urls: dict[str, str],
    logs: Path,
    run: Callable[[], Awaitable[Phase]],
) -> Phase:
    """Run a phase and note the requests served and SQLite lock timeouts meanwhile."""
    before, locked = await http_requests(client, urls), sqlite_locked(logs)
    phase = await run()
    after, locked_after = await http_requests(client, urls), sqlite_locked(logs)
    phase.requests = {
        m: after[m] - before.get(m, 0.0) for m in after if after[m] > before.get(m, 0)
    }
    phase.locked = {
        name: count - locked.get(name, 0)
        for name, count in locked_after.items()
        if count > locked.get(name, 0)
    }
    return phase


def sqlite_locked(logs: Path) -> dict[str, int]:
    """Per service, how often its log says 'database is locked' (a busy timeout ran out)."""
    counts: dict[str, int] = {}
    for log in sorted(logs.glob("*.log")):
        with contextlib.suppress(OSError):
            counts[log.stem] = log.read_text(errors="replace").count("database is locked")
    return counts


# --- CPU per process: what limits the flows on a small machine ---------------------------


def _ticks(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(root: int) -> dict[int, str]:
    """This process and everything it started, named by what they run."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found.update(children)
        frontier += children
    return {pid: _process_name(pid, root) for pid in found}


def _process_name(pid: int, root: int) -> str:
    if pid == root:
        return "bench driver (+ SMTP sink)"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "other"
    text = " ".join(a.decode(errors="replace") for a in argv)
    service = re.search(r"services\.(\w+)", text)
    if service:
        return service.group(1)
    if "kafka.Kafka" in text:
        return "kafka broker"
    if "postgres" in text:
        return "postgres"
    return "other"


@contextmanager
def _cpu(phase: Phase) -> Iterator[None]:
    """Cores used per process over the phase (2.0 would be both cores of this machine)."""
    processes = _descendants(os.getpid())
    before = {pid: _ticks(pid) for pid in processes}
    machine = machine_ticks()
    started = time.perf_counter()
    try:
        yield
    finally:
        wall = time.perf_counter() - started
        used: dict[str, float] = {}
        for pid, name in processes.items():
            used[name] = used.get(name, 0.0) + max(0.0, _ticks(pid) - before[pid]) / wall
        phase.cpu = {name: round(cores, 2) for name, cores in sorted(used.items())}
        phase.cpu["total"] = round(sum(used.values()), 2)
        busy, total = (now - then for now, then in zip(machine_ticks(), machine, strict=True))
        phase.cpu["machine_busy_pct"] = round(100 * busy / total, 1) if total else 0.0
