"""The SMTP pool against a real SMTP server (aiosmtpd on a loopback port).

Sessions are reused for many messages and counted by the server (one EHLO per session); a
session the server dropped is reopened without losing the message; a refusal is that
message's failure only, 4xx for later and 5xx for good; an unreachable server is a clear,
retryable error.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.notifications.mailer import DeliveryError, SmtpMailer
from shared.testing.processes import free_port


class Server:
    """Counts sessions and keeps messages; answers the reply scripted per recipient."""

    def __init__(self) -> None:
        self.sessions = 0
        self.received: list[tuple[str, str]] = []  # (recipient, Message-ID)
        self.refuse: dict[str, str] = {}  # recipient -> reply to RCPT TO
        self.refuse_data: dict[str, str] = {}  # recipient -> reply to DATA
        self.hang_up_after_next = False  # like a server that drops idle clients

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        [recipient] = envelope.rcpt_tos
        if recipient in self.refuse_data:
            return self.refuse_data[recipient]
        message_id = next(
            line.split(b":", 1)[1].strip().decode()
            for line in envelope.original_content.splitlines()
            if line.lower().startswith(b"message-id:")
        )
        self.received.append((recipient, message_id))
        if self.hang_up_after_next:
            self.hang_up_after_next = False
            asyncio.get_running_loop().call_later(0.05, server.transport.close)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Server, Controller]]:
    server = Server()
    controller = Controller(server, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield server, controller
    finally:
        controller.stop()


def email(n: int, to: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message.set_content(f"Bericht {n}")
    message["From"] = "Inspraak <no-reply@inspraak.example>"
    message["To"] = to or f"resident-{n}@example.org"
    message["Subject"] = f"Bericht {n}"
    message["Message-ID"] = f"<m{n}@inspraak.example>"
    return message


def pool(controller: Controller, connections: int) -> SmtpMailer:
    return SmtpMailer(host="127.0.0.1", port=controller.port, timeout_s=5, connections=connections)


async def test_many_messages_share_a_few_persistent_sessions(
    smtp: tuple[Server, Controller],
) -> None:
    server, controller = smtp
    mailer = pool(controller, connections=3)
    try:
        await asyncio.gather(*(mailer.send(email(n)) for n in range(60)))
        await asyncio.gather(*(mailer.send(email(n)) for n in range(60, 90)))
    finally:
        await mailer.aclose()

    assert sorted(m for _, m in server.received) == sorted(
        f"<m{n}@inspraak.example>" for n in range(90)
    )
    # One connection per message would be 90 sessions; the pool never opens more than 3.
    assert server.sessions <= 3 and mailer.sessions_opened == server.sessions
    print(f"90 e-mails over {server.sessions} SMTP sessions")


async def test_a_session_the_server_dropped_is_reopened_and_no_message_is_lost(
    smtp: tuple[Server, Controller],
) -> None:
    server, controller = smtp
    mailer = pool(controller, connections=1)
    try:
        server.hang_up_after_next = True
        await mailer.send(email(1))
        await asyncio.sleep(0.3)
        # The server hung up on the kept session (an idle timeout, a restart), which the
        # client only notices when it uses the session again.
        await mailer.send(email(2))
        await mailer.send(email(3))
    finally:
        await mailer.aclose()

    assert [m for _, m in server.received] == [f"<m{n}@inspraak.example>" for n in (1, 2, 3)]
    assert mailer.sessions_opened == 2


async def test_refusals_fail_only_their_message_4xx_for_later_5xx_for_good(
    smtp: tuple[Server, Controller],
) -> None:
    server, controller = smtp
    server.refuse["gone@example.org"] = "550 5.1.1 mailbox unavailable"
    server.refuse["busy@example.org"] = "450 4.2.1 mailbox busy"
    server.refuse_data["spam@example.org"] = "554 5.7.1 rejected as spam"
    server.refuse_data["later@example.org"] = "451 4.3.0 try again later"
    mailer = pool(controller, connections=1)
    outcomes: dict[str, tuple[bool, str]] = {}
    try:
        for n, to in enumerate(
            ["gone@example.org", "busy@example.org", "spam@example.org", "later@example.org"]
        ):
            with pytest.raises(DeliveryError) as refused:
                await mailer.send(email(n, to))
            outcomes[to] = (refused.value.permanent, str(refused.value))
        await mailer.send(email(9))
    finally:
        await mailer.aclose()

    assert outcomes == {
        "gone@example.org": (True, "recipient refused: [550]"),
        "busy@example.org": (False, "recipient refused: [450]"),
        "spam@example.org": (True, "message refused: 554 b'5.7.1 rejected as spam'"),
        "later@example.org": (False, "message refused: 451 b'4.3.0 try again later'"),
    }
    # The refusals were per message: the next one went over the same session.
    assert [m for _, m in server.received] == ["<m9@inspraak.example>"]
    assert server.sessions == 1


async def test_an_unreachable_server_is_a_retryable_error_that_says_why() -> None:
    mailer = SmtpMailer(host="127.0.0.1", port=free_port(), timeout_s=2, connections=2)
    try:
        with pytest.raises(DeliveryError) as unreachable:
            await mailer.send(email(1))
    finally:
        await mailer.aclose()

    assert unreachable.value.permanent is False
    assert "ConnectionRefusedError" in str(unreachable.value)


async def test_closing_the_pool_cuts_a_send_to_a_server_that_never_answers() -> None:
    silent = socket.socket()  # takes the connection, never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    mailer = SmtpMailer(
        host="127.0.0.1", port=silent.getsockname()[1], timeout_s=120, connections=2
    )
    try:
        sending = asyncio.create_task(mailer.send(email(1)))
        await asyncio.sleep(0.5)
        assert not sending.done()
        started = time.monotonic()
        # A shutdown waits neither for the server nor for the two-minute timeout.
        await asyncio.wait_for(mailer.aclose(), timeout=10)
        with pytest.raises(DeliveryError) as cut:
            await asyncio.wait_for(sending, timeout=5)
    finally:
        silent.close()

    assert time.monotonic() - started < 10
    assert cut.value.permanent is False
