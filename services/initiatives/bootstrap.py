"""Wires the initiatives service's dependencies; nothing here connects until started."""

from __future__ import annotations

from functools import partial

from services.initiatives.domain.exceptions import InitiativeError
from services.initiatives.entrypoints import consumers
from services.initiatives.handlers import TIMER_HANDLERS
from services.initiatives.persistence.tables import messaging
from services.initiatives.persistence.unit_of_work import InitiativesUnitOfWork
from services.initiatives.settings import InitiativesSettings
from shared import clock
from shared.messaging.timers import TimerWheel
from shared.runtime import Runtime, create_runtime


def bootstrap(settings: InitiativesSettings) -> Runtime:
    runtime = create_runtime(settings, messaging)
    unit_of_work = partial(
        InitiativesUnitOfWork, runtime.sessions, messaging, settings, runtime.outbox_signal
    )
    runtime.unit_of_work = unit_of_work
    consumer = runtime.batch_consumer(consumers.routes, unit_of_work, (InitiativeError,))
    consumers.subscribe(runtime, consumer)
    wheel = TimerWheel(
        unit_of_work=unit_of_work,
        handlers=TIMER_HANDLERS,
        service=settings.service_name,
        clock=clock.now,
    )
    # Support windows, decision deadlines and milestones fire as events.
    runtime.background.append(wheel.run)
    return runtime
