"""Wires the budgets service's dependencies; nothing here connects until started."""

from __future__ import annotations

from functools import partial

from services.budgets.domain.exceptions import BudgetError
from services.budgets.entrypoints import consumers
from services.budgets.persistence.tables import messaging
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from services.budgets.settings import BudgetsSettings
from shared.runtime import Runtime, create_runtime


def bootstrap(settings: BudgetsSettings) -> Runtime:
    runtime = create_runtime(settings, messaging)
    unit_of_work = partial(
        BudgetsUnitOfWork, runtime.sessions, messaging, settings, runtime.outbox_signal
    )
    runtime.unit_of_work = unit_of_work
    consumer = runtime.batch_consumer(consumers.routes, unit_of_work, (BudgetError,))
    consumers.subscribe(runtime, consumer)
    return runtime
