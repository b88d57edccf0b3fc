"""Webhook subscriptions against a real HTTP server that checks signatures like a receiver would.

The receiver runs ``http.server`` in a thread on a free loopback port and answers from a
script: 500, 200, or hang past the dispatcher's timeout. It recomputes the HMAC over the raw
body, refuses stale timestamps and parses the CloudEvent with the CloudEvents SDK.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cloudevents.core.bindings import http as ce_http

from services.notifications.app import create_app
from services.notifications.domain.model import DeliveryStatus
from services.notifications.entrypoints import consumers
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks import WebhookDispatcher
from shared.auth import Role
from shared.contracts import advisory, initiatives
from shared.contracts.envelope import Envelope
from shared.migrations import upgrade_to_head
from shared.testing.helpers import settings_for, token

M = "GM0362"
SOURCE = "urn:nld:gemeente-GM0362:systeem:inspraak-initiatives"
SYSTEM = token(Role.SYSTEM, subject="zaaksysteem")
BASE = f"/v1/municipalities/{M}"


class Receiver:
    """A webhook receiver: checks every call, answers from ``script`` (then 200)."""

    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.script: list[str] = []
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def handle(self, headers: dict[str, str], body: bytes) -> int | None:
        timestamp = int(headers["inspraak-timestamp"])
        expected = hmac.new(
            self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        event = ce_http.from_http_event(ce_http.HTTPMessage(headers=headers, body=body))
        with self.lock:
            self.calls.append(
                {
                    "signature_ok": hmac.compare_digest(
                        headers["inspraak-signature"], f"sha256={expected}"
                    ),
                    "fresh": abs(time.time() - timestamp) < 300,
                    "delivery": headers["inspraak-delivery"],
                    "authorization": headers.get("authorization"),
                    "content_type": headers["content-type"],
                    "event": event,
                }
            )
            action = self.script.pop(0) if self.script else "200"
        if action == "hang":
            time.sleep(2.0)
            return None
        return int(action)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = state.handle(headers, body)
            if status is None:
                return  # hung up on: the dispatcher has long given up
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/inspraak-events"
    finally:
        server.shutdown()
        server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Setup:
    def __init__(self, app: Any, settings: NotificationsSettings, client: httpx.AsyncClient):
        self.app, self.settings, self.client = app, settings, client
        self.clock = Clock()

    def uow(self) -> NotificationsUnitOfWork:
        uow = self.app.state.unit_of_work()
        assert isinstance(uow, NotificationsUnitOfWork)
        return uow

    def dispatcher(self) -> WebhookDispatcher:
        self.clock.now = datetime.now(UTC) + timedelta(seconds=1)  # what was queued is due
        return WebhookDispatcher(unit_of_work=self.uow, settings=self.settings, clock=self.clock)

    async def consume(self, *envelopes: Envelope) -> None:
        """What the Kafka consumer does with each event, in one transaction."""
        async with self.uow() as uow:
            for envelope in envelopes:
                await consumers.routes.handlers[envelope.type](envelope, uow)
            await uow.commit()

    async def subscribe(self, receiver: Receiver, url: str, **body: Any) -> dict[str, Any]:
        response = await self.client.post(
            f"{BASE}/webhooks", json={"callback_url": url, **body}, headers=SYSTEM
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        receiver.secret = created["secret"]
        return created

    async def log(self, subscription_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"{BASE}/webhooks/{subscription_id}/deliveries", headers=SYSTEM
        )
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    url = f"sqlite+aiosqlite:///{tmp_path}/notifications.sqlite3"
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    settings = settings_for(
        NotificationsSettings,
        kafka="127.0.0.1:1",
        namespace="t.",
        database_url=url,
        webhook_timeout_seconds=0.5,
        webhook_retry_initial_seconds=60,
        webhook_suspend_after_failures=3,
    )
    app = create_app(settings)  # no lifespan: the API and the database, no Kafka
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Setup(app, settings, client)
    await app.state.runtime.engine.dispose()


def decided(neighbourhood: str = "BU03620001", initiative: str = "init-1") -> Envelope:
    return Envelope.wrap(
        initiatives.InitiativeDecided(
            municipality=M,
            initiative_id=initiative,
            title="Bankjes in het park",
            neighbourhood=neighbourhood,
            theme="groen",
            initiative_type="buurt-klein",
            requested_amount_cents=80_000,
            funding_source=initiatives.FundingSource.NEIGHBOURHOOD_BUDGET,
            initiator_id="resident-1",
            decision=initiatives.Decision.APPROVED,
            reasons="Past bij het buurtplan.",
            decided_by="holder-1",
            decided_at=datetime.now(UTC),
        ),
        source=SOURCE,
    )


def advice_requested() -> Envelope:
    return Envelope.wrap(
        advisory.AdviceRequested(
            municipality=M,
            round_id="round-1",
            subject_kind=advisory.SubjectKind.INITIATIVE,
            subject_id="init-1",
            request_id="req-1",
            council_id="council-1",
            council_kind=advisory.CouncilKind.NEIGHBOURHOOD_COUNCIL,
            title="Bankjes in het park",
            deadline=datetime.now(UTC) + timedelta(days=14),
        ),
        source="urn:nld:gemeente-GM0362:systeem:inspraak-advisory",
    )


async def test_a_500_is_retried_with_backoff_and_the_signed_event_arrives_once_delivered(
    setup: Setup, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    created = await setup.subscribe(
        state,
        url,
        auth="Token zaaksysteem-123",
        event_types=[initiatives.InitiativeDecided.event_type()],
        neighbourhoods=["BU03620001"],
    )
    event = decided()
    await setup.consume(
        event,
        decided("BU03620002", "init-2"),
        advice_requested(),
        event,  # a redelivery too
    )
    state.script = ["500"]
    worker = setup.dispatcher()

    assert await worker.deliver_batch() == 1
    [delivery] = await setup.log(created["id"])
    assert delivery["status"] == "pending" and delivery["last_status_code"] == 500
    setup.clock.advance(59)
    assert await worker.deliver_batch() == 0  # backoff: not due yet
    setup.clock.advance(1)
    assert await worker.deliver_batch() == 1
    setup.clock.advance(3600)
    assert await worker.deliver_batch() == 0

    assert len(state.calls) == 2
    for call in state.calls:
        assert call["signature_ok"] and call["fresh"]
        assert call["authorization"] == "Token zaaksysteem-123"
        assert call["content_type"] == "application/cloudevents+json"
        assert call["delivery"] == delivery["id"]
        ce = call["event"]
        assert (ce.get_id(), ce.get_type(), ce.get_source()) == (event.id, event.type, SOURCE)
        assert ce.get_extension("municipality") == M
        assert ce.get_data()["initiative_id"] == "init-1"
    [delivered] = await setup.log(created["id"])
    assert delivered["status"] == "delivered" and delivered["attempts"] == 2
    assert [(a["attempt"], a["status_code"]) for a in delivered["attempt_log"]] == [
        (1, 500),
        (2, 200),
    ]
    assert "secret" not in (await setup.client.get(f"{BASE}/webhooks", headers=SYSTEM)).text


async def test_a_receiver_that_hangs_times_out_and_is_retried_in_binary_mode(
    setup: Setup, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    created = await setup.subscribe(state, url, content_mode="binary")
    event = decided()
    await setup.consume(event)
    state.script = ["hang"]
    worker = setup.dispatcher()

    started = time.monotonic()
    assert await worker.deliver_batch() == 1
    assert time.monotonic() - started < 1.9  # gave up at the timeout, not when it answered
    [waiting] = await setup.log(created["id"])
    assert waiting["status"] == "pending"
    assert waiting["attempt_log"][0]["error"] == "no answer within 0.5s"
    setup.clock.advance(60)
    assert await worker.deliver_batch() == 1

    [delivered] = await setup.log(created["id"])
    assert delivered["status"] == "delivered"
    assert [a["status_code"] for a in delivered["attempt_log"]] == [None, 200]
    assert all(c["signature_ok"] for c in state.calls)
    assert {c["content_type"] for c in state.calls} == {"application/json"}
    assert {c["event"].get_id() for c in state.calls} == {event.id}


async def test_a_subscription_that_keeps_failing_is_suspended_its_owner_told_and_resumed(
    setup: Setup, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    owner = "beheerder-7"
    put = await setup.client.put(
        f"{BASE}/contacts/{owner}", json={"email": "beheer@example.org"}, headers=SYSTEM
    )
    assert put.status_code == 200
    created = await setup.subscribe(state, url, owner_id=owner)
    await setup.consume(*(decided(initiative=f"init-{n}") for n in range(4)))
    state.script = ["500", "503", "500"]
    worker = setup.dispatcher()

    assert await worker.deliver_batch() == 4  # the 4th is not called: suspended after 3
    assert len(state.calls) == 3
    view = (await setup.client.get(f"{BASE}/webhooks/{created['id']}", headers=SYSTEM)).json()
    assert (view["status"], view["consecutive_failures"]) == ("suspended", 3)
    told = await setup.client.get(f"{BASE}/contacts/{owner}/messages", headers=SYSTEM)
    assert [(m["kind"], m["channel"]) for m in told.json()] == [("webhook_suspended", "email")]
    feed = await setup.client.get(f"{BASE}/contacts/{owner}/feed", headers=SYSTEM)
    assert "HTTP 500" in feed.json()[0]["body"]

    setup.clock.advance(7200)
    assert await worker.deliver_batch() == 0  # suspended: nothing goes out
    assert len(state.calls) == 3

    reactivated = await setup.client.post(
        f"{BASE}/webhooks/{created['id']}/reactivate", headers=SYSTEM
    )
    assert reactivated.json()["status"] == "active"
    setup.clock.now = datetime.now(UTC) + timedelta(seconds=1)
    assert await worker.deliver_batch() == 4
    log = await setup.log(created["id"])
    assert {d["status"] for d in log} == {DeliveryStatus.DELIVERED.value}
    assert len({c["event"].get_id() for c in state.calls}) == 4


async def test_only_systems_and_staff_of_the_municipality_manage_subscriptions(
    setup: Setup, receiver: tuple[Receiver, str]
) -> None:
    _, url = receiver
    body = {"callback_url": url}
    refused = [
        await setup.client.post(f"{BASE}/webhooks", json=body, headers=token(Role.RESIDENT)),
        await setup.client.post(
            f"{BASE}/webhooks", json=body, headers=token(Role.SYSTEM, municipality="GM0363")
        ),
        await setup.client.post(
            f"{BASE}/webhooks", json={"callback_url": "ftp://x"}, headers=SYSTEM
        ),
    ]
    assert [r.status_code for r in refused] == [403, 403, 422]
