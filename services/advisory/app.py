"""Composition root of the advisory service."""

from __future__ import annotations

from fastapi import FastAPI

from services.advisory.bootstrap import bootstrap
from services.advisory.entrypoints.api import router
from services.advisory.settings import AdvisorySettings
from shared.runtime import create_service_app


def create_app(settings: AdvisorySettings | None = None) -> FastAPI:
    settings = settings or AdvisorySettings()
    runtime = bootstrap(settings)
    return create_service_app(
        runtime,
        title="Inspraak advisory",
        description="Neighbourhood advisory: submission, support, advice, decision, results.",
        routers=[router],
    )
