"""Session-wide real infrastructure: one Kafka broker and one PostgreSQL cluster per test run.

``KAFKA_BOOTSTRAP_SERVERS`` / ``TEST_POSTGRES_URL`` point the suite at existing servers;
otherwise the suite starts its own from Maven Central's Kafka jars and Debian's PostgreSQL.
``INSPRAAK_TESTCONTAINERS=1`` starts both with testcontainers instead (needs a Docker engine).
With ``CI=true`` a skipped test fails the run.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.devstack.kafka import KafkaStartError, LocalKafkaBroker
from shared.devstack.postgres import ThrowawayPostgres

USES_KAFKA: set[str] = set()
USES_POSTGRES: set[str] = set()
COUNTS_FILE = Path(".run/test-infrastructure.json")


def _testcontainers_enabled() -> bool:
    return os.environ.get("INSPRAAK_TESTCONTAINERS", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a real Kafka broker."""
    existing = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if existing:
        yield existing
        return
    if _testcontainers_enabled():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    broker = LocalKafkaBroker()
    try:
        bootstrap = broker.start()
    except KafkaStartError as error:
        pytest.fail(f"the test Kafka broker could not start: {error}", pytrace=False)
    try:
        yield bootstrap
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres | str]:
    existing = os.environ.get("TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    server = ThrowawayPostgres()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kafka(request: pytest.FixtureRequest, kafka_bootstrap: str) -> str:
    """The real broker, counted: this test talks to Kafka."""
    USES_KAFKA.add(request.node.nodeid)
    return kafka_bootstrap


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest, postgres_server: ThrowawayPostgres | str) -> str:
    """A fresh, empty PostgreSQL database for this test (async SQLAlchemy URL)."""
    USES_POSTGRES.add(request.node.nodeid)
    name = f"t_{uuid.uuid4().hex[:12]}"
    if isinstance(postgres_server, str):
        from shared.devstack.postgres import create_database_at

        return create_database_at(postgres_server, name)
    return postgres_server.create_database(name)


@pytest.fixture
def namespace() -> str:
    """A topic namespace of this test's own, so tests never see each other's events."""
    return f"t{uuid.uuid4().hex[:10]}."


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    COUNTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    COUNTS_FILE.write_text(
        json.dumps(
            {
                "kafka": len(USES_KAFKA),
                "postgres": len(USES_POSTGRES),
                "skipped": skipped,
            }
        )
    )
    if reporter:
        reporter.write_line(
            f"tests against the real Kafka broker: {len(USES_KAFKA)}; "
            f"against PostgreSQL: {len(USES_POSTGRES)}"
        )
    if skipped and os.environ.get("CI") == "true":
        if reporter:
            reporter.write_line(f"CI=true: {skipped} skipped test(s) fail the run", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
