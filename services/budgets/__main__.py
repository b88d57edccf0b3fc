from services.budgets.app import create_app
from services.budgets.settings import BudgetsSettings
from shared.entrypoint import main

main("budgets", BudgetsSettings, create_app)
