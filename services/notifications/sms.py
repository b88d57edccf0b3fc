"""SMS through a gateway adapter: one small interface, one HTTP implementation.

Gateways differ in their APIs; the adapter posts ``{"to", "from", "text", "reference"}`` as
JSON with an ``Idempotency-Key`` header (the message's key), which most gateways, or a small
proxy in front of one, accept. Errors never carry the phone number: they are logged and stored.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from services.notifications.mailer import DeliveryError
from services.notifications.settings import NotificationsSettings


class SmsGateway(Protocol):
    async def send(self, *, to: str, text: str, key: str) -> None:
        """Hand one SMS to the gateway; raise :class:`DeliveryError` if it refuses."""
        ...


class NoSmsGateway:
    """No gateway configured: every SMS fails at once, visibly, instead of waiting forever."""

    async def send(self, *, to: str, text: str, key: str) -> None:
        raise DeliveryError("no SMS gateway configured", permanent=True)


class HttpSmsGateway:
    def __init__(
        self, url: str, *, token: str | None, sender: str, timeout_s: float = 10.0
    ) -> None:
        self._url, self._token, self._sender, self._timeout_s = url, token, sender, timeout_s

    @classmethod
    def from_settings(cls, settings: NotificationsSettings) -> SmsGateway:
        if not settings.sms_gateway_url:
            return NoSmsGateway()
        return cls(
            settings.sms_gateway_url, token=settings.sms_gateway_token, sender=settings.sms_sender
        )

    async def send(self, *, to: str, text: str, key: str) -> None:
        headers = {"Idempotency-Key": key}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        payload = {"to": to, "from": self._sender, "text": text, "reference": key}
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.post(self._url, json=payload, headers=headers)
        except httpx.HTTPError as error:
            reason = f"SMS gateway unreachable: {type(error).__name__}"
            raise DeliveryError(reason, permanent=False) from error
        if response.is_success:
            return
        # 4xx other than throttling: the gateway refuses this message for good.
        permanent = 400 <= response.status_code < 500 and response.status_code != 429
        raise DeliveryError(f"SMS gateway answered {response.status_code}", permanent=permanent)
