"""The HTTP SMS adapter against a real local HTTP server: what it sends and how it reads answers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.notifications.mailer import DeliveryError
from services.notifications.settings import NotificationsSettings
from services.notifications.sms import HttpSmsGateway, NoSmsGateway

PHONE = "+31612345678"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Gateway:
    """A fake SMS gateway on loopback: records every request, answers with ``status``."""

    url: str
    status: int = 202
    requests: list[Received] = field(default_factory=list)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    state = Gateway(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.requests.append(
                Received(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
            )
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "whatever"}')

        def log_message(self, format: str, *args: object) -> None:  # keep pytest output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/sms"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_the_adapter_posts_recipient_sender_text_and_key_as_json(gateway: Gateway) -> None:
    sms = HttpSmsGateway(gateway.url, token="gateway-token", sender="Amstelveen")

    await sms.send(to=PHONE, text="Uw initiatief is goedgekeurd.", key="evt-1:person-1:sms")

    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert request.path == "/v1/sms"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == "evt-1:person-1:sms"
    assert request.headers["authorization"] == "Bearer gateway-token"
    assert json.loads(request.body) == {
        "to": PHONE,
        "from": "Amstelveen",
        "text": "Uw initiatief is goedgekeurd.",
        "reference": "evt-1:person-1:sms",
    }


async def test_the_same_message_sent_twice_carries_the_same_idempotency_key(
    gateway: Gateway,
) -> None:
    sms = HttpSmsGateway(gateway.url, token=None, sender="Inspraak")

    await sms.send(to=PHONE, text="Herinnering", key="k-42")
    await sms.send(to=PHONE, text="Herinnering", key="k-42")

    keys = [r.headers["idempotency-key"] for r in gateway.requests]
    assert keys == ["k-42", "k-42"]
    assert all("authorization" not in r.headers for r in gateway.requests)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_and_throttling_are_retried_later(
    gateway: Gateway, status: int
) -> None:
    gateway.status = status
    sms = HttpSmsGateway(gateway.url, token=None, sender="Inspraak")

    with pytest.raises(DeliveryError) as raised:
        await sms.send(to=PHONE, text="Hallo", key="k-1")

    assert raised.value.permanent is False
    assert str(status) in str(raised.value)
    assert PHONE not in str(raised.value)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_errors_are_permanent_failures(gateway: Gateway, status: int) -> None:
    gateway.status = status
    sms = HttpSmsGateway(gateway.url, token=None, sender="Inspraak")

    with pytest.raises(DeliveryError) as raised:
        await sms.send(to=PHONE, text="Hallo", key="k-1")

    assert raised.value.permanent is True
    assert PHONE not in str(raised.value)


async def test_an_unreachable_gateway_is_retried_later_without_the_phone_number() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sms = HttpSmsGateway(f"http://127.0.0.1:{port}/sms", token=None, sender="x", timeout_s=2)

    with pytest.raises(DeliveryError) as raised:
        await sms.send(to=PHONE, text="Hallo", key="k-1")

    assert raised.value.permanent is False
    assert PHONE not in str(raised.value)


async def test_without_a_configured_gateway_every_sms_fails_at_once_for_good() -> None:
    settings = NotificationsSettings(
        environment="development", auth_jwks_url=None, sms_gateway_url=None
    )
    sms = HttpSmsGateway.from_settings(settings)
    assert isinstance(sms, NoSmsGateway)

    with pytest.raises(DeliveryError) as raised:
        await sms.send(to=PHONE, text="Hallo", key="k-1")

    assert raised.value.permanent is True
