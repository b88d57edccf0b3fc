from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    """Settings of the notifications service; its own variables start with ``NOTIFICATIONS_``."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    service_name: str = "notifications"
    http_port: int = 8104

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = 30.0
    mail_from: str = "Inspraak <no-reply@inspraak.example>"

    dispatch_batch_size: int = Field(50, ge=1, description="Messages claimed per sweep.")
    dispatch_concurrency: int = Field(4, ge=1, description="SMTP sends in flight at once.")
    dispatch_idle_seconds: float = Field(1.0, gt=0, description="Pause when nothing is due.")
    dispatch_max_attempts: int = Field(6, ge=1, description="Attempts before 'failed'.")
    dispatch_retry_initial_seconds: float = Field(30.0, ge=0)
    dispatch_retry_max_seconds: float = Field(3600.0, ge=0)
    dispatch_lease_seconds: float = Field(
        300.0,
        gt=0,
        description="A message left 'sending' this long (a crash mid-send) is sent again, "
        "with the same Message-ID so the receiver can drop the duplicate.",
    )
