"""`make run`: the whole stack on this machine until Ctrl-C or SIGTERM.

Starts Kafka (or uses ``KAFKA_BOOTSTRAP_SERVERS``), creates the topics, starts an SMTP sink
that keeps every e-mail in ``.run/mail/``, migrates and starts the four services on SQLite,
seeds the demo municipality (GM0362 Amstelveen) and writes ``.run/stack.env``.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from stack.local import LocalStack
from stack.seed import DEMO_PEOPLE, seed_demo

RUN_DIR = Path(os.environ.get("INSPRAAK_RUN_DIR", ".run"))


def main() -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack = LocalStack(RUN_DIR)
    try:
        print("starting Kafka, the SMTP sink and the four services ...", flush=True)
        stack.start()
        (RUN_DIR / "stack.pids").write_text(" ".join(str(pid) for pid in stack.pids()))
        tokens = seed_demo(stack.urls())
        values = stack.stack_env(tokens)
        (RUN_DIR / "stack.env").write_text(
            "".join(f"{name}={value}\n" for name, value in values.items())
        )
        print(f"\nKafka bootstrap servers: {values['KAFKA_BOOTSTRAP_SERVERS']}")
        for name, url in stack.urls().items():
            print(f"{name:>14}: {url}  (API docs: {url}/docs)")
        print(f"\ne-mails are kept as .eml files in {values['MAIL_DIR']}")
        print("development tokens (Authorization: Bearer <token>):")
        for role, person in DEMO_PEOPLE.items():
            print(f"  {role} ({person}): {tokens[role]}")
        print(
            f"\neverything above is in {RUN_DIR / 'stack.env'}; `make demo` drives a flow. "
            "Ctrl-C stops the stack.",
            flush=True,
        )
        while not stop.wait(1.0):
            for name, service in stack.services.items():
                if not service.alive():
                    print(f"{name} stopped unexpectedly:\n{service.log_tail()}", file=sys.stderr)
                    stop.set()
    finally:
        print("stopping ...", flush=True)
        stack.stop()
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
