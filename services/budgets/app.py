"""Composition root of the budgets service."""

from __future__ import annotations

from fastapi import FastAPI

from services.budgets.bootstrap import bootstrap
from services.budgets.entrypoints import alternative_api, rounds_api
from services.budgets.entrypoints.api import public, router
from services.budgets.settings import BudgetsSettings
from shared.runtime import create_service_app


def create_app(settings: BudgetsSettings | None = None) -> FastAPI:
    settings = settings or BudgetsSettings()
    runtime = bootstrap(settings)
    return create_service_app(
        runtime,
        title="Inspraak budgets",
        description=(
            "Neighbourhood budgets and the initiatives fund: an append-only ledger, "
            "reservations for approved initiatives, balances anyone in the municipality can follow."
        ),
        routers=[
            router,
            public,
            rounds_api.router,
            rounds_api.public,
            alternative_api.router,
            alternative_api.public,
        ],
    )
