"""The development stack itself: a real Kafka broker, topic tooling and throwaway PostgreSQL."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from kafka import KafkaConsumer, KafkaProducer

from shared.devstack import kafka as devstack_kafka
from shared.devstack.kafka import (
    KafkaStartError,
    LocalKafkaBroker,
    default_cache_dir,
    fetch_kafka_jars,
    kafka_deploy_dir,
)
from shared.devstack.postgres import ThrowawayPostgres
from shared.messaging.topics import TopicSpec, check_topics, ensure_topics

REPO_ROOT = kafka_deploy_dir().parents[1]


@pytest.fixture(scope="module")
def kafka_lib() -> Path:
    """The broker jars, fetched once into the user cache."""
    return fetch_kafka_jars()


@pytest.fixture(scope="module")
def broker(kafka_lib: Path) -> Iterator[LocalKafkaBroker]:
    """One real broker for this module's Kafka tests."""
    local = LocalKafkaBroker(lib_dir=kafka_lib)
    began = time.monotonic()
    local.start()
    # Visible with -s; start time matters on small CI machines.
    print(f"\nKafka broker ready in {time.monotonic() - began:.1f} s")
    yield local
    local.stop()


def _unique(prefix: str) -> str:
    # Each test gets its own topics and groups, so tests never see each other's records.
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.mark.kafka
def test_ensure_topics_is_idempotent_and_check_topics_finds_drift(
    broker: LocalKafkaBroker,
) -> None:
    bootstrap = broker.bootstrap_servers
    specs = [
        TopicSpec(
            _unique("devstack-events"),
            3,
            1,
            {"min.insync.replicas": "1", "retention.ms": "3600000"},
        ),
        TopicSpec(_unique("devstack-commands"), 1, 1, {"min.insync.replicas": "1"}),
    ]

    assert ensure_topics(bootstrap, specs) == [spec.name for spec in specs]
    assert ensure_topics(bootstrap, specs) == []
    assert check_topics(bootstrap, specs) == []

    events, commands = specs
    wanted = [
        TopicSpec(events.name, 6, 1, {**events.configs, "retention.ms": "7200000"}),
        TopicSpec(commands.name, 1, 1, dict(commands.configs)),
        TopicSpec(_unique("devstack-absent"), 1, 1),
    ]
    drift = check_topics(bootstrap, wanted)
    assert len(drift) == 3, drift
    assert f"topic {events.name!r} has 3 partitions, expected 6" in drift
    assert f"topic {events.name!r} has retention.ms='3600000', expected '7200000'" in drift
    assert f"topic {wanted[2].name!r} is missing" in drift


@pytest.mark.kafka
def test_topics_are_not_auto_created(broker: LocalKafkaBroker) -> None:
    name = _unique("devstack-stray")
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, max_block_ms=2000)
    try:
        # Metadata for an unknown topic never arrives because the broker will not create it.
        with pytest.raises(Exception, match=r"(?i)timeout|not available|unknown"):
            producer.send(name, b"x").get(timeout=5)
    finally:
        producer.close(timeout=5)
    assert check_topics(broker.bootstrap_servers, [TopicSpec(name, 1, 1)]) == [
        f"topic {name!r} is missing"
    ]


@pytest.mark.kafka
def test_produce_consume_round_trip(broker: LocalKafkaBroker) -> None:
    topic = _unique("devstack-roundtrip")
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 2, 1, {"min.insync.replicas": "1"})])

    producer = KafkaProducer(
        bootstrap_servers=broker.bootstrap_servers, acks="all", enable_idempotence=True
    )
    try:
        sent = {f"key-{i}".encode(): f"value-{i}".encode() for i in range(10)}
        for key, value in sent.items():
            producer.send(topic, key=key, value=value)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=broker.bootstrap_servers,
        group_id=_unique("devstack-group"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    received: dict[bytes, bytes] = {}
    try:
        deadline = time.monotonic() + 30
        while len(received) < len(sent) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                received.update((record.key, record.value) for record in records)
        consumer.commit()
    finally:
        consumer.close()
    assert received == sent


@pytest.mark.kafka
def test_cli_prints_bootstrap_and_stops_on_sigterm(kafka_lib: Path, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.devstack.kafka", "--data-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:"), process.stderr
        bootstrap = line.split("=", 1)[1]
        topic = _unique("devstack-cli")
        assert ensure_topics(bootstrap, [TopicSpec(topic, 1, 1)]) == [topic]

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.kafka
def test_occupied_port_fails_with_the_cause(kafka_lib: Path, tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        broker = LocalKafkaBroker(tmp_path, lib_dir=kafka_lib, port=squatter.getsockname()[1])
        with pytest.raises(KafkaStartError, match="Address already in use") as failure:
            broker.start(timeout=60)
    assert "exited with code" in str(failure.value)
    assert "server.log" in str(failure.value)
    assert list(tmp_path.iterdir()) == []
    assert not broker.is_running


@pytest.mark.kafka
def test_broken_properties_fail_with_the_cause(kafka_lib: Path) -> None:
    broker = LocalKafkaBroker(lib_dir=kafka_lib, overrides={"num.io.threads": "0"})
    with pytest.raises(KafkaStartError, match=r"num\.io\.threads"):
        broker.start(timeout=60)
    assert broker.workdir is None


def test_lib_dir_without_jars_fails_with_the_cause(tmp_path: Path) -> None:
    with pytest.raises(KafkaStartError, match=r"no Kafka broker jar \(kafka_2\.13-\*\.jar\)"):
        LocalKafkaBroker(lib_dir=tmp_path).start()


def test_missing_tools_fail_with_the_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(KafkaStartError, match=r"Maven \('mvn'\) is not on PATH"):
        fetch_kafka_jars(tmp_path / "cache")
    with pytest.raises(KafkaStartError, match=r"Java \('java'\) is not on PATH"):
        LocalKafkaBroker(lib_dir=tmp_path).start()


def test_maven_failure_names_the_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deploy = tmp_path / "deploy" / "kafka"
    deploy.mkdir(parents=True)
    (deploy / "pom.xml").write_text("<project>this is not a pom")
    monkeypatch.setattr(devstack_kafka, "kafka_deploy_dir", lambda: deploy)
    with pytest.raises(KafkaStartError, match=r"mvn failed \(exit 1\)") as failure:
        fetch_kafka_jars(tmp_path / "cache")
    assert "Non-readable POM" in str(failure.value).splitlines()[0]
    assert not (tmp_path / "cache" / "kafka-4.2.1-lib" / ".complete").exists()


def test_cache_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSPRAAK_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("INSPRAAK_CACHE_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "inspraak"


def test_fetch_kafka_jars_reuses_a_complete_cache(kafka_lib: Path) -> None:
    began = time.monotonic()
    assert fetch_kafka_jars(kafka_lib.parent) == kafka_lib
    assert time.monotonic() - began < 1
    assert (kafka_lib / ".complete").is_file()
    assert not kafka_lib.is_relative_to(REPO_ROOT)


@pytest.mark.postgres
async def test_throwaway_postgres() -> None:
    postgres = ThrowawayPostgres()
    url = postgres.start()
    directory = postgres.directory
    try:
        assert url == f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres"
        assert directory is not None and directory.is_dir()
        connection = await asyncpg.connect(url)
        try:
            assert await connection.fetchval("select 1") == 1
        finally:
            await connection.close()

        async_url = postgres.create_database("devstack_check")
        assert (
            async_url == f"postgresql+asyncpg://postgres@127.0.0.1:{postgres.port}/devstack_check"
        )
        connection = await asyncpg.connect(async_url.replace("+asyncpg", ""))
        try:
            assert await connection.fetchval("select current_database()") == "devstack_check"
        finally:
            await connection.close()
    finally:
        postgres.stop()
    assert not directory.exists()
    # The server is really gone, not just its files.
    with pytest.raises(OSError):
        await asyncpg.connect(url, timeout=5)


def test_postgres_rejects_unsafe_database_names() -> None:
    with pytest.raises(ValueError):
        ThrowawayPostgres().create_database('x"; drop database postgres; --')
