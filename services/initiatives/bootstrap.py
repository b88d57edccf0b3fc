"""Wires the initiatives service's dependencies; nothing here connects until started."""

from __future__ import annotations

from functools import partial

from services.initiatives.domain.exceptions import InitiativeError
from services.initiatives.entrypoints import consumers
from services.initiatives.handlers import TIMER_HANDLERS
from services.initiatives.persistence.tables import messaging
from services.initiatives.persistence.unit_of_work import InitiativesUnitOfWork
from services.initiatives.settings import InitiativesSettings
from shared.messaging.consumer import BatchConsumer
from shared.messaging.timers import TimerWheel
from shared.runtime import Runtime, create_runtime


def bootstrap(settings: InitiativesSettings) -> Runtime:
    runtime = create_runtime(settings, messaging)
    unit_of_work = partial(
        InitiativesUnitOfWork, runtime.sessions, messaging, settings, runtime.outbox_signal
    )
    runtime.unit_of_work = unit_of_work
    consumer = BatchConsumer(
        service=settings.service_name,
        group=runtime.consumer_group,
        routes=consumers.routes,
        unit_of_work=unit_of_work,
        dead_letters=runtime.dead_letters(runtime.consumer_group),
        rejections=(InitiativeError,),
    )
    consumers.subscribe(runtime, consumer)
    wheel = TimerWheel(
        unit_of_work=unit_of_work, handlers=TIMER_HANDLERS, service=settings.service_name
    )

    async def deadline_timers() -> None:
        """Support windows, decision deadlines and milestones fire as events."""
        try:
            await wheel.run()
        finally:
            await wheel.stop()

    runtime.background.append(deadline_timers)
    return runtime
