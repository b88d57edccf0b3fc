"""Composition root of the notifications service."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifications.bootstrap import bootstrap
from services.notifications.entrypoints.api import router
from services.notifications.fanout import Bell
from services.notifications.settings import NotificationsSettings
from shared.runtime import create_service_app


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    feed_bell = Bell()
    runtime = bootstrap(settings, feed_bell=feed_bell)
    app = create_service_app(
        runtime,
        title="Inspraak notifications",
        description="Tells residents, initiators and council members what happened, "
        "in their language, on their channel (e-mail, SMS, in-app feed), with digests and "
        "quiet hours; and systems through signed CloudEvents webhooks.",
        routers=[router],
    )
    app.state.feed_bell = feed_bell
    return app
