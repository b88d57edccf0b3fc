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
    smtp_timeout_seconds: float = Field(
        30.0, description="How long to wait for the SMTP server to connect or answer."
    )
    smtp_connections: int = Field(
        4,
        ge=1,
        description="SMTP sessions kept open and reused for many e-mails; also how many "
        "e-mails are sent at once. Most mail servers accept a handful per client.",
    )
    mail_from: str = Field(
        "Inspraak <no-reply@inspraak.example>", description="From address of e-mails."
    )

    dispatch_batch_size: int = Field(50, ge=1, description="Messages claimed per sweep.")
    dispatch_concurrency: int = Field(
        4,
        ge=1,
        description="Messages sent at once; e-mail goes at least as wide as "
        "NOTIFICATIONS_SMTP_CONNECTIONS.",
    )
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

    webhook_batch_size: int = Field(50, ge=1, description="Webhook deliveries claimed per sweep.")
    webhook_concurrency: int = Field(
        8, ge=1, description="Subscriptions called at once (one call at a time per subscription)."
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="A webhook receiver that answers slower is retried later."
    )
    webhook_max_attempts: int = Field(8, ge=1, description="Webhook calls before 'failed'.")
    webhook_retry_initial_seconds: float = Field(
        30.0, ge=0, description="First retry delay after a failed webhook call."
    )
    webhook_retry_max_seconds: float = Field(
        3600.0, ge=0, description="Longest retry delay of a webhook delivery."
    )
    webhook_suspend_after_failures: int = Field(
        20, ge=1, description="Failed calls in a row after which a subscription is suspended."
    )

    digest_hour: int = Field(
        8, ge=0, le=23, description="Local hour (Europe/Amsterdam) at which digests go out."
    )
    digest_weekday: int = Field(
        0, ge=0, le=6, description="Weekday of the weekly digest, 0 is Monday."
    )
    fanout_batch_size: int = Field(
        500, ge=1, description="Recipients of a large audience composed per transaction."
    )
    feed_poll_seconds: float = Field(
        5.0, gt=0, description="How often a feed stream looks for entries other replicas wrote."
    )
    sms_gateway_url: str | None = Field(
        None, description="HTTP endpoint of the SMS gateway; unset means SMS is not sent."
    )
    sms_gateway_token: str | None = Field(None, description="Bearer token of the SMS gateway.")
    sms_sender: str = Field("Inspraak", description="Sender name shown with an SMS.")
