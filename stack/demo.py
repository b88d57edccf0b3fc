"""`make demo`: drives the first workflow against the running stack (see `.run/stack.env`).

Prints the flow's steps as a person sees them, the timeline of events on Kafka with the time
each took after the one before, and the e-mails that were sent.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaConsumer

from shared.contracts.envelope import Envelope, parse_record
from shared.contracts.registry import TOPICS
from stack.flow import FlowDriver, tells_outcome

STACK_ENV = Path(".run/stack.env")


def read_stack_env() -> dict[str, str]:
    if not STACK_ENV.exists():
        raise SystemExit("no .run/stack.env: start the stack with `make run` first")
    pairs = (line.split("=", 1) for line in STACK_ENV.read_text().splitlines() if "=" in line)
    return {name: value for name, value in pairs}


def mails_about(mail_dir: Path, title: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(mail_dir.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(("plain",))
        if body is not None and title in body.get_content():
            found.append(message)
    return found


def related(envelope: Envelope, ids: set[str]) -> bool:
    data = envelope.data.model_dump()
    keys = {
        envelope.subject,
        str(data.get("initiative_id")),
        str(data.get("subject_id")),
        str(data.get("cause_event_id")),
    }
    return bool(keys & ids)


def timeline(env: dict[str, str], initiative_id: str) -> list[Envelope]:
    namespace = env.get("KAFKA_TOPIC_NAMESPACE", "")
    consumer = KafkaConsumer(
        *(f"{namespace}{topic}" for topic in TOPICS.values()),
        bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=2000,
    )
    events = []
    for record in consumer:
        envelope = parse_record(record.headers, record.value)
        if envelope is not None:
            events.append(envelope)
    consumer.close()
    ids = {initiative_id}
    chosen: list[Envelope] = []
    for envelope in sorted(events, key=lambda e: e.time):
        if related(envelope, ids):
            chosen.append(envelope)
            ids.add(envelope.id)
            ids.add(envelope.subject)
    return chosen


async def drive(env: dict[str, str]) -> Any:
    urls = {name: env[f"{name.upper()}_URL"] for name in TOPICS}
    tokens = {key[6:].lower(): value for key, value in env.items() if key.startswith("TOKEN_")}
    mail_dir = Path(env["MAIL_DIR"])

    async def initiator_mail(title: str) -> bool:
        return any(
            "resident-demo" in (m["To"] or "") and tells_outcome(m)
            for m in mails_about(mail_dir, title)
        )

    async with httpx.AsyncClient(timeout=10) as client:
        driver = FlowDriver(client, urls, tokens, initiator_mail)
        return await driver.run()


def main() -> int:
    env = read_stack_env()
    started = time.perf_counter()
    result = asyncio.run(drive(env))
    print(
        f"initiative {result.initiative_id} ({result.title}): {result.status}, "
        f"{(time.perf_counter() - started) * 1000:.0f} ms in all\n"
    )
    print("steps, as the people involved see them (ms after submission):")
    for step, at in result.steps.items():
        print(f"  {at:8.1f}  {step}")
    events = timeline(env, result.initiative_id)
    print("\nevents on Kafka (ms after the first; +ms after the one before):")
    first = previous = events[0].time if events else None
    for envelope in events:
        assert first is not None and previous is not None
        since = (envelope.time - first).total_seconds() * 1000
        step = (envelope.time - previous).total_seconds() * 1000
        print(f"  {since:8.1f}  +{step:7.1f}  {envelope.type}  ({envelope.source})")
        previous = envelope.time
    print("\ne-mails sent:")
    for message in mails_about(Path(env["MAIL_DIR"]), result.title):
        print(f"  to {message['To']}: {message['Subject']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
