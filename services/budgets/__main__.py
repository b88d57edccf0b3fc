from fastapi import FastAPI

from services.budgets.app import create_app
from services.budgets.settings import BudgetsSettings
from shared.entrypoint import main
from shared.settings import ServiceSettings


def _create_app(settings: ServiceSettings) -> FastAPI:
    assert isinstance(settings, BudgetsSettings)
    return create_app(settings)


main("budgets", BudgetsSettings, _create_app)
