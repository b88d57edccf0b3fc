from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class InitiativesSettings(ServiceSettings):
    """Settings of the initiatives service; its own variables start with ``INITIATIVES_``."""

    model_config = SettingsConfigDict(env_prefix="INITIATIVES_", extra="ignore")

    service_name: str = "initiatives"
    http_port: int = 8101
