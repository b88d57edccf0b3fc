from __future__ import annotations

import asyncio
from typing import Any, Protocol

from services.notifications.domain.model import DigestSchedule
from services.notifications.persistence.repository import (
    BudgetHolderRepository,
    ConsultationViewRepository,
    ContactRepository,
    CouncilRepository,
    FanoutRepository,
    FollowRepository,
    InitiativeViewRepository,
    MessageRepository,
    ParkedNoticeRepository,
    PreferenceRepository,
    RuleRepository,
    SupporterRepository,
    WebhookRepository,
)
from services.notifications.rendering import Renderer
from shared.messaging.unit_of_work import UnitOfWork


class Signal(Protocol):
    def set(self) -> None: ...


class NotificationsUnitOfWork(UnitOfWork):
    """One transaction over contacts, views and messages; wakes the dispatcher on commit."""

    contacts: ContactRepository
    councils: CouncilRepository
    initiatives: InitiativeViewRepository
    consultations: ConsultationViewRepository
    parked: ParkedNoticeRepository
    messages: MessageRepository
    preferences: PreferenceRepository
    supporters: SupporterRepository
    budget_holders: BudgetHolderRepository
    rules: RuleRepository
    fanouts: FanoutRepository
    follows: FollowRepository
    webhooks: WebhookRepository

    def __init__(
        self,
        *args: Any,
        renderer: Renderer,
        dispatch_signal: asyncio.Event | None = None,
        webhook_signal: Signal | None = None,
        fanout_signal: Signal | None = None,
        feed_signal: Signal | None = None,
        digests: DigestSchedule | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.renderer = renderer
        self.digests = digests or DigestSchedule()
        self._dispatch_signal = dispatch_signal
        self._webhook_signal = webhook_signal
        self._fanout_signal = fanout_signal
        self._feed_signal = feed_signal
        self.composed = 0
        self.queued_webhooks = 0
        self.queued_fanouts = 0
        self.fed = 0

    async def __aenter__(self) -> NotificationsUnitOfWork:
        await super().__aenter__()
        self.contacts = ContactRepository(self.session)
        self.councils = CouncilRepository(self.session)
        self.initiatives = InitiativeViewRepository(self.session)
        self.consultations = ConsultationViewRepository(self.session)
        self.parked = ParkedNoticeRepository(self.session)
        self.messages = MessageRepository(self.session)
        self.preferences = PreferenceRepository(self.session)
        self.supporters = SupporterRepository(self.session)
        self.budget_holders = BudgetHolderRepository(self.session)
        self.rules = RuleRepository(self.session)
        self.fanouts = FanoutRepository(self.session)
        self.follows = FollowRepository(self.session)
        self.webhooks = WebhookRepository(self.session)
        self._reset_counts()
        return self

    def _reset_counts(self) -> None:
        self.composed = self.queued_webhooks = self.queued_fanouts = self.fed = 0

    async def commit(self) -> None:
        await super().commit()
        signals: tuple[tuple[int, Signal | None], ...] = (
            (self.composed, self._dispatch_signal),
            (self.queued_webhooks, self._webhook_signal),
            (self.queued_fanouts, self._fanout_signal),
            (self.fed, self._feed_signal),
        )
        for count, signal in signals:
            if count and signal is not None:
                signal.set()
        self._reset_counts()

    async def rollback(self) -> None:
        self._reset_counts()
        await super().rollback()
