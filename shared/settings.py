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


def shared_setting(default: Any, variable: str, description: str) -> Any:
    """A setting the whole stack shares: its variable ignores the service's prefix."""
    return Field(default=default, validation_alias=AliasChoices(variable), description=description)


class ServiceSettings(BaseSettings):
    """Settings common to every service; subclasses set ``env_prefix`` and defaults."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "inspraak"  # fixed by each service, not configured
    environment: Environment = shared_setting(
        Environment.PRODUCTION,
        "INSPRAAK_ENVIRONMENT",
        "development, test or production; only development accepts AUTH_JWT_SECRET.",
    )
    database_url: str = Field(
        "", description="Async SQLAlchemy URL; empty means an embedded SQLite file in the data dir."
    )
    data_dir: str = shared_setting(
        ".run/data", "INSPRAAK_DATA_DIR", "Where the embedded SQLite databases live."
    )
    http_host: str = Field("127.0.0.1", description="Address the HTTP API listens on.")
    http_port: int = Field(8000, description="Port of the HTTP API.")
    log_level: str = shared_setting("INFO", "LOG_LEVEL", "Log level (DEBUG, INFO, WARNING).")

    kafka_bootstrap_servers: str = shared_setting(
        "127.0.0.1:9092", "KAFKA_BOOTSTRAP_SERVERS", "Kafka bootstrap servers, comma-separated."
    )
    kafka_security_protocol: str = shared_setting(
        "PLAINTEXT", "KAFKA_SECURITY_PROTOCOL", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    kafka_sasl_mechanism: str | None = shared_setting(
        None, "KAFKA_SASL_MECHANISM", "SASL mechanism (PLAIN)."
    )
    kafka_sasl_username: str | None = shared_setting(None, "KAFKA_SASL_USERNAME", "SASL user.")
    kafka_sasl_password: str | None = shared_setting(None, "KAFKA_SASL_PASSWORD", "SASL password.")
    kafka_ssl_cafile: str | None = shared_setting(None, "KAFKA_SSL_CAFILE", "CA file for TLS.")
    kafka_topic_partitions: int = shared_setting(
        6, "KAFKA_TOPIC_PARTITIONS", "Partitions per created topic; bounds consumer parallelism."
    )
    kafka_replication_factor: int = shared_setting(
        1, "KAFKA_REPLICATION_FACTOR", "Replication factor of created topics (3 in production)."
    )
    kafka_min_insync_replicas: int = shared_setting(
        1, "KAFKA_MIN_INSYNC_REPLICAS", "min.insync.replicas of created topics (2 in production)."
    )
    kafka_topic_namespace: str = shared_setting(
        "",
        "KAFKA_TOPIC_NAMESPACE",
        "Prefix of every topic and group, so stacks can share a cluster.",
    )
    consumer_batch_size: int = shared_setting(
        500, "CONSUMER_BATCH_SIZE", "Records applied in one database transaction."
    )
    relay_batch_size: int = shared_setting(
        500, "RELAY_BATCH_SIZE", "Outbox rows published per relay sweep."
    )
    relay_idle_seconds: float = shared_setting(
        0.05, "RELAY_IDLE_SECONDS", "Longest pause of the outbox relay when it finds nothing."
    )

    auth_jwt_secret: str | None = shared_setting(
        None, "AUTH_JWT_SECRET", "HS256 secret for development tokens; refused elsewhere."
    )
    auth_jwks_url: str | None = shared_setting(
        None, "AUTH_JWKS_URL", "The identity provider's JWKS; required outside development."
    )
    auth_audience: str = shared_setting("inspraak", "AUTH_AUDIENCE", "Expected token audience.")
    auth_issuer: str | None = shared_setting(None, "AUTH_ISSUER", "Expected issuer, if set.")

    municipality_oins: dict[str, str] = shared_setting(
        {}, "MUNICIPALITY_OINS", 'JSON object of CBS code to OIN, e.g. {"GM0362": "0000..."}.'
    )
    public_base_url: str = shared_setting(
        "https://inspraak.example.nl",
        "INSPRAAK_PUBLIC_BASE_URL",
        "Public address of the participation site, for links in messages.",
    )
    otel_exporter_otlp_endpoint: str | None = shared_setting(
        None, "OTEL_EXPORTER_OTLP_ENDPOINT", "OTLP/HTTP collector, e.g. http://collector:4318."
    )
    otel_traces_file: str | None = shared_setting(
        None, "OTEL_TRACES_FILE", 'Also write spans as JSON lines here ("{service}" is replaced).'
    )
    clock_file: str | None = shared_setting(
        None,
        "INSPRAAK_CLOCK_FILE",
        "Development only: a file holding an offset (seconds or ISO-8601 duration, e.g. P3D) "
        "added to the services' clock; writing a larger one moves time forward for tests.",
    )

    @model_validator(mode="after")
    def _refuse_movable_clock_outside_development(self) -> ServiceSettings:
        if self.clock_file and self.environment is not Environment.DEVELOPMENT:
            raise ValueError(
                "INSPRAAK_CLOCK_FILE (a clock tests can move) is only accepted when "
                "INSPRAAK_ENVIRONMENT=development; unset it"
            )
        return self

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
