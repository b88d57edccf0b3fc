"""A webhook delivery end to end: Kafka in, a real notifications process, a real HTTP receiver.

An `initiative-decided` event is published on the real broker. The notifications service (its
own process, as deployed) consumes it, queues a delivery for the subscribed system and calls
the receiver: a uvicorn server in this test that checks each call the way a receiver would
(HMAC-SHA256 over ``<timestamp>.<raw body>`` with the subscription's secret, a fresh
timestamp, the CloudEvent parsed with the CloudEvents SDK). It answers 500 twice, then 200:
the service retries with a growing delay, and exactly one delivery id is accepted, once.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cloudevents.core.bindings import http as ce_http

from shared.auth import Role
from shared.contracts import initiatives
from shared.testing.events import TEST_SOURCE, decided, publish
from shared.testing.helpers import create_test_topics, token
from shared.testing.processes import ServiceProcess, free_port

M = "GM0362"
SYSTEM = token(Role.SYSTEM, subject="zaaksysteem")


@dataclass
class Call:
    at: float
    delivery: str
    signature_ok: bool
    fresh: bool
    event: Any
    answered: int


@dataclass
class Receiver:
    """What a municipal system behind a webhook does: verify, then answer from a script."""

    secret: str = ""
    script: list[int] = field(default_factory=lambda: [500, 500])
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        timestamp = int(headers["inspraak-timestamp"])
        expected = hmac.new(
            self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        signature_ok = hmac.compare_digest(headers["inspraak-signature"], f"sha256={expected}")
        fresh = abs(time.time() - timestamp) < 300  # older is a replay: refuse it
        event = ce_http.from_http_event(ce_http.HTTPMessage(headers=headers, body=body))
        with self.lock:
            status = self.script.pop(0) if self.script else 200
            if not (signature_ok and fresh):
                status = 401
            self.calls.append(
                Call(
                    time.monotonic(),
                    headers["inspraak-delivery"],
                    signature_ok,
                    fresh,
                    event,
                    status,
                )
            )
        return status

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The receiver as a bare ASGI app: POST only, raw body as it came."""
        if scope["type"] != "http":
            return
        body = b""
        while True:
            chunk = await receive()
            body += chunk.get("body", b"")
            if not chunk.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status = self.handle(headers, body) if scope["method"] == "POST" else 405
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(state, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the webhook receiver did not start"
    try:
        yield state, f"http://127.0.0.1:{port}/inspraak-events"
    finally:
        server.should_exit = True
        thread.join(10)


def _wait(check: Any, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not reached within {timeout_s}s")


def test_an_event_on_kafka_reaches_a_webhook_signed_retried_after_500s_and_accepted_once(
    kafka: str, namespace: str, tmp_path: Path, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    create_test_topics(kafka, namespace)
    service = ServiceProcess(
        "notifications",
        {
            "INSPRAAK_ENVIRONMENT": "development",
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "KAFKA_TOPIC_NAMESPACE": namespace,
            "NOTIFICATIONS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/n.sqlite3",
            "NOTIFICATIONS_SMTP_PORT": str(free_port()),
            "NOTIFICATIONS_DISPATCH_IDLE_SECONDS": "0.1",
            # Backoff 1 s, then 2 s: short enough for a test, long enough to see it grow.
            "NOTIFICATIONS_WEBHOOK_RETRY_INITIAL_SECONDS": "1",
            "NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS": "5",
        },
        tmp_path,
    )
    service.migrate()
    other = decided(amount_cents=10_000, neighbourhood="BU03620009")
    event = decided(amount_cents=80_000)
    try:
        service.start()
        created = httpx.post(
            f"{service.url}/v1/municipalities/{M}/webhooks",
            json={
                "callback_url": url,
                "event_types": [initiatives.InitiativeDecided.event_type()],
                "neighbourhoods": ["BU03620001"],
            },
            headers=SYSTEM,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        subscription = created.json()
        state.secret = subscription["secret"]
        [_, envelope] = publish(kafka, f"{namespace}initiatives.events.v1", [other, event])
        _wait(lambda: any(c.answered == 200 for c in state.calls), timeout_s=60)
        time.sleep(3.0)  # a further call, if there were one, would come now
        log = httpx.get(
            f"{service.url}/v1/municipalities/{M}/webhooks/{subscription['id']}/deliveries",
            headers=SYSTEM,
            timeout=10,
        ).json()
    finally:
        service.stop()

    answered = [c.answered for c in state.calls]
    assert answered == [500, 500, 200], answered
    assert all(c.signature_ok and c.fresh for c in state.calls)
    # One delivery, the same id on every attempt: the receiver accepted it exactly once.
    assert {c.delivery for c in state.calls} == {log[0]["id"]} and len(log) == 1
    assert [c.delivery for c in state.calls if c.answered == 200] == [log[0]["id"]]
    for call in state.calls:
        ce = call.event
        assert (ce.get_id(), ce.get_type(), ce.get_source()) == (
            envelope.id,
            envelope.type,
            TEST_SOURCE,
        )
        assert ce.get_extension("municipality") == M
        assert ce.get_data()["initiative_id"] == event.initiative_id
    first_gap = state.calls[1].at - state.calls[0].at
    second_gap = state.calls[2].at - state.calls[1].at
    assert first_gap >= 0.9 and second_gap >= 1.9, (first_gap, second_gap)  # backoff grows
    assert log[0]["status"] == "delivered" and log[0]["attempts"] == 3
    assert [a["status_code"] for a in log[0]["attempt_log"]] == [500, 500, 200]
    print(f"\nretried after {first_gap:.1f} s and {second_gap:.1f} s; accepted once")
