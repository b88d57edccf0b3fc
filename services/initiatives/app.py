"""Composition root of the initiatives service."""

from __future__ import annotations

from fastapi import FastAPI

from services.initiatives.bootstrap import bootstrap
from services.initiatives.entrypoints.api import router
from services.initiatives.settings import InitiativesSettings
from shared.runtime import create_service_app


def create_app(settings: InitiativesSettings | None = None) -> FastAPI:
    settings = settings or InitiativesSettings()
    runtime = bootstrap(settings)
    return create_service_app(
        runtime,
        title="Inspraak initiatives",
        description="Neighbourhood initiatives: submission, support, advice, decision, results.",
        routers=[router],
    )
