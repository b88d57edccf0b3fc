from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class BudgetsSettings(ServiceSettings):
    """Settings of the budgets service; its own variables start with ``BUDGETS_``."""

    model_config = SettingsConfigDict(env_prefix="BUDGETS_", extra="ignore")

    service_name: str = "budgets"
    http_port: int = 8103
