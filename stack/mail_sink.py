"""A local SMTP server that keeps every delivered e-mail as a file a person can open."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        recipient = "_".join(envelope.rcpt_tos).replace("@", "-at-")
        path = self.folder / f"{self.count:05d}-{recipient}.eml"
        path.write_bytes(envelope.content)
        return "250 Message accepted for delivery"


class MailSink:
    """aiosmtpd on loopback; e-mails land in ``folder`` as .eml files."""

    def __init__(self, folder: Path, port: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = port
        self._handler = _SaveToFolder(folder)
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(self.folder.glob("*.eml"))
        ]
