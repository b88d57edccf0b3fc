from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class AdvisorySettings(ServiceSettings):
    """Settings of the advisory service; its own variables start with ``ADVISORY_``."""

    model_config = SettingsConfigDict(env_prefix="ADVISORY_", extra="ignore")

    service_name: str = "advisory"
    http_port: int = 8102
    default_advice_days: int = Field(
        10, ge=1, description="Working days a council gets when it has no period of its own."
    )
