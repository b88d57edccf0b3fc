"""Where one service hop spends its time, measured without a profiler dependency.

Statistical profilers need a package the project does not ship, and a sampling thread in
Python only gets the GIL when the event loop releases it, which makes every sample look like
idle waiting. Instead the bench wraps the few functions one consumed event passes through and
adds up their wall time (``perf_counter`` per call, microseconds of overhead per event). The
consumer applies a batch sequentially, so the shares of its batch time add up; the relay runs
beside it in the same event loop and is reported on its own.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# (module, attribute path, label): what one InitiativeReadyForReview passes through.
PROBES: tuple[tuple[str, str, str], ...] = (
    ("shared.messaging.consumer", "BatchConsumer.process", "consumer batch (total)"),
    ("shared.messaging.consumer", "parse_record", "decode CloudEvents record"),
    ("shared.messaging.consumer", "claim_unseen", "inbox claim (insert returning)"),
    ("services.advisory.handlers", "request_advice", "handler request_advice (total)"),
    (
        "services.advisory.persistence.repository",
        "AdviceRoundRepository.has_subject",
        "  rounds.has_subject (select, no autoflush)",
    ),
    # Called through ``reference``: the call counts say how often the cache missed.
    (
        "services.advisory.persistence.repository",
        "RoutingRuleRepository.list",
        "  routing_rules.list (select)",
    ),
    (
        "services.advisory.persistence.repository",
        "CouncilRepository.list",
        "  councils.list (select)",
    ),
    ("services.advisory.handlers", "route", "  route (domain)"),
    ("services.advisory.handlers", "advice_deadline", "  advice_deadline (holiday calendar)"),
    (
        "services.advisory.persistence.repository",
        "AdviceRoundRepository.add",
        "  rounds.add (collected)",
    ),
    ("services.advisory.handlers", "schedule", "  timers.schedule (collected)"),
    ("shared.messaging.unit_of_work", "UnitOfWork.publish", "  uow.publish (envelope + record)"),
    ("shared.messaging.unit_of_work", "UnitOfWork.commit", "unit of work commit (total)"),
    ("shared.messaging.new_rows", "NewRows.write", "  new rounds insert (at commit)"),
    ("shared.messaging.timer_changes", "PendingTimers.write", "  timers upsert (at commit)"),
    ("shared.messaging.unit_of_work", "write_outbox", "  outbox insert"),
    ("shared.messaging.relay", "OutboxRelay.publish_batch", "relay sweep (beside the consumer)"),
)
TOTAL = "consumer batch (total)"
# Labels that do not contain one another: ranking these says where the batch time went.
DISJOINT = (
    "decode CloudEvents record",
    "inbox claim (insert returning)",
    "  rounds.has_subject (select, no autoflush)",
    "  routing_rules.list (select)",
    "  councils.list (select)",
    "  route (domain)",
    "  advice_deadline (holiday calendar)",
    "  rounds.add (collected)",
    "  timers.schedule (collected)",
    "  uow.publish (envelope + record)",
    "unit of work commit (total)",
)


@dataclass
class Probe:
    label: str
    calls: int = 0
    seconds: float = 0.0


@dataclass
class HopProbes:
    """Accumulated wall time per probe while :meth:`installed` is active."""

    probes: dict[str, Probe] = field(default_factory=dict)
    first_call: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def installed(self) -> Iterator[HopProbes]:
        undo: list[Callable[[], None]] = []
        try:
            for module_name, path, label in PROBES:
                undo += self._wrap(module_name, path, label)
            yield self
        finally:
            for restore in reversed(undo):
                restore()

    def _wrap(self, module_name: str, path: str, label: str) -> list[Callable[[], None]]:
        # A renamed function only loses its line in the report; the bench still runs.
        try:
            owner: Any = importlib.import_module(module_name)
        except ImportError:
            return []
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent, None)
        original = getattr(owner, name, None) if owner is not None else None
        if original is None:
            return []
        probe = self.probes.setdefault(label, Probe(label))
        own = name in vars(owner)  # False for a method a subclass inherits
        setattr(owner, name, _timed(original, probe, self.first_call, label))

        def restore() -> None:
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)

        return [restore]

    def batch_seconds(self) -> float:
        total = self.probes.get(TOTAL)
        return total.seconds if total else 0.0

    def breakdown(self) -> list[dict[str, Any]]:
        """Each probe's time as a share of the consumer's batch time, in PROBES order."""
        whole = self.batch_seconds() or 1.0
        return [
            {
                "step": probe.label,
                "calls": probe.calls,
                "ms_total": round(1000 * probe.seconds, 1),
                "pct_of_consumer": round(100 * probe.seconds / whole, 1),
            }
            for probe in self.probes.values()
            if probe.calls
        ]


def _timed(
    original: Callable[..., Any], probe: Probe, first_call: dict[str, float], label: str
) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            first_call.setdefault(label, started)
            try:
                return await original(*args, **kwargs)
            finally:
                probe.calls += 1
                probe.seconds += time.perf_counter() - started

        return timed_async

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        first_call.setdefault(label, started)
        try:
            return original(*args, **kwargs)
        finally:
            probe.calls += 1
            probe.seconds += time.perf_counter() - started

    return timed


class CpuClock:
    """This process's CPU time against wall time (100% is one core's worth of work), and how
    busy the whole machine was meanwhile (other processes compete for the same cores)."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.machine = machine_ticks()

    def percent(self) -> float:
        wall = time.perf_counter() - self.wall
        return round(100 * (time.process_time() - self.cpu) / wall, 1) if wall > 0 else 0.0

    def machine_busy_percent(self) -> float:
        busy, total = (now - then for now, then in zip(machine_ticks(), self.machine, strict=True))
        return round(100 * busy / total, 1) if total else 0.0


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from the first line of /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            values = [int(v) for v in stat.readline().split()[1:9]]
    except OSError:  # not Linux: report the machine as unknown (0 of 0)
        return 0, 0
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)
