"""Sends e-mail over SMTP with the standard library's client, in a thread off the event loop."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from services.notifications.settings import NotificationsSettings


class DeliveryError(Exception):
    """The mail server did not take a message; ``permanent`` when retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand one message to the mail server; raise :class:`DeliveryError` if it refuses."""
        ...


class SmtpMailer:
    """One SMTP connection per message: simple, and a broken connection costs one message."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        timeout_s: float = 30.0,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self._host, self._port, self._timeout_s = host, port, timeout_s
        self._starttls, self._username, self._password = starttls, username, password

    @classmethod
    def from_settings(cls, settings: NotificationsSettings) -> SmtpMailer:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            timeout_s=settings.smtp_timeout_seconds,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
        )

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout_s) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise DeliveryError(
                f"recipient refused: {codes}", permanent=all(code >= 500 for code in codes)
            ) from error
        except smtplib.SMTPDataError as error:
            # 5xx after DATA: the server rejects this message for good (content, size, policy).
            raise DeliveryError(
                f"message refused: {error.smtp_code} {error.smtp_error!r}",
                permanent=error.smtp_code >= 500,
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            # Connection, authentication or sender problems are the platform's, not the
            # message's: retry with backoff instead of failing every message at once.
            raise DeliveryError(f"{type(error).__name__}: {error}", permanent=False) from error
