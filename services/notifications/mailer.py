"""Sends e-mail over SMTP through a small pool of persistent sessions.

Opening a session (TCP, banner, EHLO, perhaps STARTTLS and AUTH) costs far more than one
message, so the mailer keeps up to ``connections`` sessions open and sends many messages over
each. A session is the standard library's blocking client, used by one thread at a time: at
most ``connections`` sends are in flight, and each send runs on the pool's own threads, off the
event loop. A session the server closed (idle timeout, ``421``) is noticed and reopened; a
message refused by the server is that message's failure only, and the session stays usable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from typing import Protocol

from services.notifications.settings import NotificationsSettings

log = logging.getLogger(__name__)

# A session unused this long is checked with NOOP before it carries a message: a server
# usually drops idle clients after some minutes, and finding out during MAIL FROM is costlier.
_NOOP_AFTER_IDLE_S = 10.0


class DeliveryError(Exception):
    """The mail server did not take a message; ``permanent`` when retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand one message to the mail server; raise :class:`DeliveryError` if it refuses."""
        ...


class _Session:
    """One SMTP session, opened on first use and reopened after the server dropped it."""

    def __init__(self, mailer: SmtpMailer) -> None:
        self._mailer = mailer
        self._smtp: smtplib.SMTP | None = None
        self._last_used = 0.0
        self.opened = 0  # how many times this session connected: reuse is observable

    def send(self, message: EmailMessage) -> None:
        reused = self._usable()
        smtp = self._smtp if reused and self._smtp is not None else self._open()
        try:
            smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._drop()
            if not reused:
                raise
            # The server closed a session we had kept open (idle timeout, restart). Almost
            # always before this message, so once more on a fresh session; in the rare case it
            # went away after taking the data, the receiver drops the repeat by Message-ID.
            self._open().send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused):
            # The client reset the transaction; a 421 reply also closed the socket.
            if smtp.sock is None:
                self._smtp = None
            raise
        except BaseException:
            self._drop()
            raise
        self._last_used = time.monotonic()

    def _usable(self) -> bool:
        smtp = self._smtp
        if smtp is None or smtp.sock is None:
            self._smtp = None
            return False
        if time.monotonic() - self._last_used < _NOOP_AFTER_IDLE_S:
            return True
        try:
            code, _ = smtp.noop()
        except (smtplib.SMTPException, OSError):
            code = 0
        if code == 250:
            return True
        self._drop()
        return False

    def _open(self) -> smtplib.SMTP:
        mailer = self._mailer
        smtp = smtplib.SMTP(timeout=mailer.timeout_s)
        self._smtp = smtp  # reachable by abort() while it connects
        try:
            smtp.connect(mailer.host, mailer.port)
            if mailer.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if mailer.username:
                smtp.login(mailer.username, mailer.password or "")
        except BaseException:
            self._smtp = None
            smtp.close()
            raise
        self.opened += 1
        return smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def abort(self) -> None:
        """Cut the connection under a send in flight: it fails at once instead of waiting for
        a server that may never answer (called from another thread, at shutdown)."""
        smtp = self._smtp
        if smtp is not None and smtp.sock is not None:
            with contextlib.suppress(OSError):
                smtp.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Say goodbye (QUIT) if the session is open; the server may already be gone."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


class SmtpMailer:
    """A pool of up to ``connections`` persistent SMTP sessions, several messages each."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        timeout_s: float = 30.0,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        connections: int = 4,
    ) -> None:
        if connections < 1:
            raise ValueError("an SMTP pool needs at least one connection")
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.starttls, self.username, self.password = starttls, username, password
        self.connections = connections
        self._sessions = [_Session(self) for _ in range(connections)]
        self._idle: asyncio.Queue[_Session] | None = None  # made on first use, in the loop
        self._threads: ThreadPoolExecutor | None = None

    @classmethod
    def from_settings(cls, settings: NotificationsSettings) -> SmtpMailer:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            timeout_s=settings.smtp_timeout_seconds,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            connections=settings.smtp_connections,
        )

    @property
    def sessions_opened(self) -> int:
        """Connections made so far, over every session (reconnects included)."""
        return sum(session.opened for session in self._sessions)

    async def send(self, message: EmailMessage) -> None:
        if self._idle is None:
            self._idle = asyncio.Queue()
            for session in self._sessions:
                self._idle.put_nowait(session)
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.connections, thread_name_prefix="smtp")
        idle, loop = self._idle, asyncio.get_running_loop()
        session = await idle.get()
        sending = self._threads.submit(_send_or_explain, session, message)
        # The session goes back only when its thread is done with it, even if this task is
        # cancelled meanwhile: two sends never share one SMTP session.
        sending.add_done_callback(lambda _: _give_back(loop, idle, session))
        await asyncio.wrap_future(sending)

    async def aclose(self) -> None:
        """Close every session (QUIT); sends still in flight are cut, not waited for.

        A later send opens the sessions again.
        """
        threads, self._threads = self._threads, None
        idle, self._idle = self._idle, None
        waiting: set[_Session] = set()
        while idle is not None and not idle.empty():
            waiting.add(idle.get_nowait())
        for session in self._sessions:
            if session not in waiting:
                session.abort()  # a send in flight, perhaps on a server that never answers
        if threads is not None:
            await asyncio.to_thread(threads.shutdown, wait=True)  # quick: the cut sends fail
        for session in self._sessions:
            await asyncio.to_thread(session.close)


def _give_back(
    loop: asyncio.AbstractEventLoop, idle: asyncio.Queue[_Session], session: _Session
) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody will send again
        loop.call_soon_threadsafe(idle.put_nowait, session)


def _send_or_explain(session: _Session, message: EmailMessage) -> None:
    """Send over ``session``; every SMTP or network failure becomes a :class:`DeliveryError`."""
    try:
        session.send(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        raise DeliveryError(
            f"recipient refused: {codes}", permanent=all(code >= 500 for code in codes)
        ) from error
    except smtplib.SMTPDataError as error:
        # After DATA: the server rejects this message (content, size, policy) for good with a
        # 5xx; a 4xx (421 included: the server is going away) is for later.
        raise DeliveryError(
            f"message refused: {error.smtp_code} {error.smtp_error!r}",
            permanent=error.smtp_code >= 500,
        ) from error
    except (smtplib.SMTPException, OSError) as error:
        # Connection, authentication, TLS or sender problems are the platform's, not the
        # message's: retry with backoff instead of failing every message at once.
        raise DeliveryError(f"{type(error).__name__}: {error}", permanent=False) from error
