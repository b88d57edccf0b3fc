"""Settings every service shares, read from unprefixed environment variables.

Each service subclasses :class:`ServiceSettings` with its own prefix (``INITIATIVES_``, ...);
the shared variables (Kafka, authentication, telemetry) keep their unprefixed names through
``validation_alias`` so one environment file configures the whole stack.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_JWT_SECRET = "inspraak-development-secret-change-me"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def shared(name: str) -> Any:
    """An alias that ignores the service prefix, for variables the whole stack shares."""
    return AliasChoices(name)


class ServiceSettings(BaseSettings):
    """Settings common to every service; subclasses set ``env_prefix`` and defaults."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "inspraak"
    environment: Environment = Field(
        Environment.PRODUCTION, validation_alias=shared("INSPRAAK_ENVIRONMENT")
    )
    database_url: str = Field(
        "", description="Async SQLAlchemy URL; empty means an embedded SQLite file."
    )
    data_dir: str = Field(".run/data", validation_alias=shared("INSPRAAK_DATA_DIR"))
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = Field("INFO", validation_alias=shared("LOG_LEVEL"))

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", validation_alias=shared("KAFKA_BOOTSTRAP_SERVERS")
    )
    kafka_security_protocol: str = Field(
        "PLAINTEXT", validation_alias=shared("KAFKA_SECURITY_PROTOCOL")
    )
    kafka_sasl_mechanism: str | None = Field(None, validation_alias=shared("KAFKA_SASL_MECHANISM"))
    kafka_sasl_username: str | None = Field(None, validation_alias=shared("KAFKA_SASL_USERNAME"))
    kafka_sasl_password: str | None = Field(None, validation_alias=shared("KAFKA_SASL_PASSWORD"))
    kafka_ssl_cafile: str | None = Field(None, validation_alias=shared("KAFKA_SSL_CAFILE"))
    kafka_topic_partitions: int = Field(6, validation_alias=shared("KAFKA_TOPIC_PARTITIONS"))
    kafka_replication_factor: int = Field(1, validation_alias=shared("KAFKA_REPLICATION_FACTOR"))
    kafka_min_insync_replicas: int = Field(1, validation_alias=shared("KAFKA_MIN_INSYNC_REPLICAS"))
    kafka_topic_namespace: str = Field(
        "",
        validation_alias=shared("KAFKA_TOPIC_NAMESPACE"),
        description="Prefix for every topic name, so several stacks can share one cluster.",
    )
    consumer_batch_size: int = Field(500, validation_alias=shared("CONSUMER_BATCH_SIZE"))
    relay_batch_size: int = Field(500, validation_alias=shared("RELAY_BATCH_SIZE"))
    relay_idle_seconds: float = Field(0.05, validation_alias=shared("RELAY_IDLE_SECONDS"))

    auth_jwt_secret: str | None = Field(None, validation_alias=shared("AUTH_JWT_SECRET"))
    auth_jwks_url: str | None = Field(None, validation_alias=shared("AUTH_JWKS_URL"))
    auth_audience: str = Field("inspraak", validation_alias=shared("AUTH_AUDIENCE"))
    auth_issuer: str | None = Field(None, validation_alias=shared("AUTH_ISSUER"))

    municipality_oins: dict[str, str] = Field(
        default_factory=dict,
        validation_alias=shared("MUNICIPALITY_OINS"),
        description='JSON object mapping CBS codes to OINs, e.g. {"GM0362": "0000000..."}.',
    )
    public_base_url: str = Field(
        "https://inspraak.example.nl", validation_alias=shared("INSPRAAK_PUBLIC_BASE_URL")
    )

    otel_exporter_otlp_endpoint: str | None = Field(
        None, validation_alias=shared("OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    otel_traces_file: str | None = Field(None, validation_alias=shared("OTEL_TRACES_FILE"))

    @model_validator(mode="after")
    def _refuse_development_secret_outside_development(self) -> ServiceSettings:
        if self.auth_jwt_secret and self.environment is not Environment.DEVELOPMENT:
            raise ValueError(
                "AUTH_JWT_SECRET (a shared signing secret) is only accepted when "
                "INSPRAAK_ENVIRONMENT=development; configure AUTH_JWKS_URL instead"
            )
        if not self.auth_jwt_secret and not self.auth_jwks_url:
            if self.environment is Environment.DEVELOPMENT:
                self.auth_jwt_secret = DEVELOPMENT_JWT_SECRET
            else:
                raise ValueError("AUTH_JWKS_URL is required outside development")
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir}/{self.service_name}.sqlite3"

    def topic(self, name: str) -> str:
        """The physical topic name for a logical one, honouring the namespace prefix."""
        return f"{self.kafka_topic_namespace}{name}"

    def kafka_security(self) -> dict[str, Any]:
        """Security options in aiokafka's spelling (kafka-python uses the same names)."""
        options: dict[str, Any] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_sasl_mechanism:
            options["sasl_mechanism"] = self.kafka_sasl_mechanism
            options["sasl_plain_username"] = self.kafka_sasl_username
            options["sasl_plain_password"] = self.kafka_sasl_password
        if self.kafka_ssl_cafile:
            import ssl

            options["ssl_context"] = ssl.create_default_context(cafile=self.kafka_ssl_cafile)
        return options

    def source_urn(self, municipality: str) -> str:
        """The NL GOV CloudEvents ``source`` for events this service emits for a municipality."""
        system = f"systeem:inspraak-{self.service_name}"
        oin = self.municipality_oins.get(municipality)
        if oin:
            return f"urn:nld:oin:{oin}:{system}"
        return f"urn:nld:gemeente-{municipality}:{system}"
