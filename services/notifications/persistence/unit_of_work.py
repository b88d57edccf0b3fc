from __future__ import annotations

import asyncio
from typing import Any

from services.notifications.persistence.repository import (
    ContactRepository,
    CouncilRepository,
    InitiativeViewRepository,
    MessageRepository,
    ParkedNoticeRepository,
)
from services.notifications.rendering import Renderer
from shared.messaging.unit_of_work import UnitOfWork


class NotificationsUnitOfWork(UnitOfWork):
    """One transaction over contacts, views and messages; wakes the dispatcher on commit."""

    contacts: ContactRepository
    councils: CouncilRepository
    initiatives: InitiativeViewRepository
    parked: ParkedNoticeRepository
    messages: MessageRepository

    def __init__(
        self,
        *args: Any,
        renderer: Renderer,
        dispatch_signal: asyncio.Event | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.renderer = renderer
        self._dispatch_signal = dispatch_signal
        self.composed = 0

    async def __aenter__(self) -> NotificationsUnitOfWork:
        await super().__aenter__()
        self.contacts = ContactRepository(self.session)
        self.councils = CouncilRepository(self.session)
        self.initiatives = InitiativeViewRepository(self.session)
        self.parked = ParkedNoticeRepository(self.session)
        self.messages = MessageRepository(self.session)
        self.composed = 0
        return self

    async def commit(self) -> None:
        await super().commit()
        if self.composed and self._dispatch_signal is not None:
            self._dispatch_signal.set()
        self.composed = 0

    async def rollback(self) -> None:
        self.composed = 0
        await super().rollback()
