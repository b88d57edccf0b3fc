"""Wires the notifications service's dependencies; nothing here connects until started."""

from __future__ import annotations

import asyncio
from functools import partial

from pydantic import ValidationError

from services.notifications.dispatcher import Dispatcher
from services.notifications.domain.exceptions import NotificationError
from services.notifications.domain.model import DigestSchedule
from services.notifications.entrypoints import consumers
from services.notifications.fanout import Bell, FanoutWorker
from services.notifications.mailer import Mailer, SmtpMailer
from services.notifications.persistence.tables import messaging
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from services.notifications.rendering import Renderer
from services.notifications.settings import NotificationsSettings
from services.notifications.sms import HttpSmsGateway, SmsGateway
from services.notifications.webhooks import WebhookDispatcher
from shared.runtime import Runtime, create_runtime


def bootstrap(
    settings: NotificationsSettings,
    mailer: Mailer | None = None,
    sms: SmsGateway | None = None,
    feed_bell: Bell | None = None,
) -> Runtime:
    runtime = create_runtime(settings, messaging)
    renderer = Renderer(settings.public_base_url)
    dispatch_signal, webhook_signal = asyncio.Event(), asyncio.Event()
    fanout_signal, feed_signal = Bell(), feed_bell or Bell()
    unit_of_work = partial(
        NotificationsUnitOfWork,
        runtime.sessions,
        messaging,
        settings,
        runtime.outbox_signal,
        renderer=renderer,
        dispatch_signal=dispatch_signal,
        webhook_signal=webhook_signal,
        fanout_signal=fanout_signal,
        feed_signal=feed_signal,
        digests=DigestSchedule(hour=settings.digest_hour, weekday=settings.digest_weekday),
    )
    runtime.unit_of_work = unit_of_work
    # A command that cannot be built from a valid contract event will never succeed.
    consumer = runtime.batch_consumer(
        consumers.routes, unit_of_work, (NotificationError, ValidationError)
    )
    consumers.subscribe(runtime, consumer)
    dispatcher = Dispatcher(
        unit_of_work=unit_of_work,
        mailer=mailer or SmtpMailer.from_settings(settings),
        renderer=renderer,
        settings=settings,
        signal=dispatch_signal,
        sms=sms or HttpSmsGateway.from_settings(settings),
    )
    webhooks = WebhookDispatcher(
        unit_of_work=unit_of_work, settings=settings, signal=webhook_signal
    )
    fanout = FanoutWorker(
        unit_of_work=unit_of_work,
        batch_size=settings.fanout_batch_size,
        idle_seconds=settings.dispatch_idle_seconds,
        signal=fanout_signal,
    )
    runtime.background += [dispatcher.run, webhooks.run, fanout.run]
    return runtime
