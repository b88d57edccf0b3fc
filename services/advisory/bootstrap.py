"""Wires the advisory service's dependencies; nothing here connects until started."""

from __future__ import annotations

from functools import partial

from services.advisory import handlers
from services.advisory.domain.exceptions import AdvisoryError
from services.advisory.entrypoints import consumers
from services.advisory.persistence.tables import messaging
from services.advisory.persistence.unit_of_work import AdvisoryUnitOfWork
from services.advisory.settings import AdvisorySettings
from shared import clock
from shared.messaging.timers import TimerWheel
from shared.runtime import Runtime, create_runtime


def bootstrap(settings: AdvisorySettings) -> Runtime:
    runtime = create_runtime(settings, messaging)
    unit_of_work = partial(
        AdvisoryUnitOfWork, runtime.sessions, messaging, settings, runtime.outbox_signal
    )
    runtime.unit_of_work = unit_of_work
    consumer = runtime.batch_consumer(consumers.routes, unit_of_work, (AdvisoryError,))
    consumers.subscribe(runtime, consumer)
    # Deadlines, reminders, term ends and consultation closings fire from durable timers; one
    # wheel per replica, and the kit's row claims make each timer fire once.
    wheel = TimerWheel(
        unit_of_work=unit_of_work,
        handlers=handlers.TIMERS,
        service=settings.service_name,
        clock=clock.now,
    )
    runtime.background.append(wheel.run)
    return runtime
