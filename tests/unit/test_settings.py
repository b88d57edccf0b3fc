from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import DEVELOPMENT_JWT_SECRET, Environment, ServiceSettings


def test_the_development_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="only accepted when"):
        ServiceSettings(environment=Environment.PRODUCTION, auth_jwt_secret="s3cret")


def test_production_needs_a_jwks_url() -> None:
    with pytest.raises(ValidationError, match="AUTH_JWKS_URL is required"):
        ServiceSettings(environment=Environment.PRODUCTION)
    settings = ServiceSettings(
        environment=Environment.PRODUCTION, auth_jwks_url="https://idp.example/jwks"
    )
    assert settings.auth_jwt_secret is None


def test_development_falls_back_to_the_development_secret() -> None:
    assert ServiceSettings(environment=Environment.DEVELOPMENT).auth_jwt_secret == (
        DEVELOPMENT_JWT_SECRET
    )


def test_shared_variables_ignore_the_service_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.initiatives.settings import InitiativesSettings

    monkeypatch.setenv("INSPRAAK_ENVIRONMENT", "development")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9093")
    monkeypatch.setenv("INITIATIVES_DATABASE_URL", "postgresql+asyncpg://db/initiatives")
    settings = InitiativesSettings()
    assert settings.kafka_bootstrap_servers == "kafka:9093"
    assert settings.database_url == "postgresql+asyncpg://db/initiatives"


def test_source_urn_prefers_the_oin_and_falls_back_to_the_cbs_code() -> None:
    settings = ServiceSettings(
        environment=Environment.DEVELOPMENT,
        service_name="budgets",
        municipality_oins={"GM0362": "00000001002564440000"},
    )
    assert settings.source_urn("GM0362") == (
        "urn:nld:oin:00000001002564440000:systeem:inspraak-budgets"
    )
    assert settings.source_urn("GM0363") == "urn:nld:gemeente-GM0363:systeem:inspraak-budgets"
