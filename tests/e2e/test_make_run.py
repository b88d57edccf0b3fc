"""`make run`'s stack reaches all four /readyz and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shared.testing.processes import REPO_ROOT


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its exit status is left for the parent to collect.
    status = Path(f"/proc/{pid}/status").read_text() if Path(f"/proc/{pid}").exists() else ""
    return "State:\tZ" not in status


def test_the_stack_starts_seeds_and_stops_leaving_no_process(kafka: str, tmp_path: Path) -> None:
    env = {**os.environ, "INSPRAAK_RUN_DIR": str(tmp_path), "KAFKA_TOPIC_NAMESPACE": "makerun."}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)  # make run starts its own broker
    log = (tmp_path / "run.log").open("wb")
    runner = subprocess.Popen(
        [sys.executable, "-m", "stack.run"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        stack_env = tmp_path / "stack.env"
        deadline = time.monotonic() + 180
        while not stack_env.exists():
            assert runner.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "make run did not come up"
            time.sleep(0.5)
        values = dict(line.split("=", 1) for line in stack_env.read_text().splitlines())
        for service in ("INITIATIVES", "ADVISORY", "BUDGETS", "NOTIFICATIONS"):
            ready = httpx.get(f"{values[f'{service}_URL']}/readyz", timeout=10)
            assert ready.status_code == 200, ready.text
        assert {"TOKEN_RESIDENT", "TOKEN_BUDGET_HOLDER", "KAFKA_BOOTSTRAP_SERVERS"} <= set(values)
        pids = [int(p) for p in (tmp_path / "stack.pids").read_text().split()]
        assert len(pids) == 5, "four services and the broker"
    finally:
        runner.send_signal(signal.SIGTERM)
        code = runner.wait(timeout=90)
    assert code == 0
    assert "stopped" in (tmp_path / "run.log").read_text()
    assert not [pid for pid in pids if _alive(pid)]
