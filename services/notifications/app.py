"""Composition root of the notifications service."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifications.bootstrap import bootstrap
from services.notifications.entrypoints.api import router
from services.notifications.settings import NotificationsSettings
from shared.runtime import create_service_app


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    runtime = bootstrap(settings)
    return create_service_app(
        runtime,
        title="Inspraak notifications",
        description="Tells residents, initiators and council members what happened, "
        "in their language: contacts, erasure, and exactly-once e-mail per event.",
        routers=[router],
    )
