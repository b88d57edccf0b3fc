from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    """Settings of the notifications service; its own variables start with ``NOTIFICATIONS_``."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    service_name: str = "notifications"
    http_port: int = 8104

    smtp_host: str = Field("127.0.0.1", description="SMTP server for e-mail.")
    smtp_port: int = Field(1025, description="Its port.")
    smtp_starttls: bool = Field(False, description="Use STARTTLS.")
    smtp_username: str | None = Field(None, description="SMTP user, if it needs one.")
    smtp_password: str | None = Field(None, description="SMTP password.")
    smtp_timeout_seconds: float = Field(30.0, description="Timeout of one SMTP session.")
    mail_from: str = Field(
        "Inspraak <no-reply@inspraak.example>", description="From address of e-mails."
    )

    dispatch_batch_size: int = Field(50, ge=1, description="Messages claimed per sweep.")
    dispatch_concurrency: int = Field(4, ge=1, description="SMTP sends in flight at once.")
    dispatch_idle_seconds: float = Field(1.0, gt=0, description="Pause when nothing is due.")
    dispatch_max_attempts: int = Field(6, ge=1, description="Attempts before 'failed'.")
    dispatch_retry_initial_seconds: float = Field(
        30.0, ge=0, description="First retry delay after a failed send."
    )
    dispatch_retry_max_seconds: float = Field(3600.0, ge=0, description="Longest retry delay.")
    dispatch_lease_seconds: float = Field(
        300.0,
        gt=0,
        description="A message left 'sending' this long (a crash mid-send) is sent again, "
        "with the same Message-ID so the receiver can drop the duplicate.",
    )
