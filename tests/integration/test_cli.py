"""The operators' command: topics ensure/check and dead letters list/show/replay."""

from __future__ import annotations

import json

import pytest
from kafka import KafkaProducer

from shared.cli import main
from shared.messaging.topics import TopicSpec, ensure_topics


@pytest.fixture
def environment(kafka: str, namespace: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka)
    monkeypatch.setenv("KAFKA_TOPIC_NAMESPACE", namespace)
    monkeypatch.setenv("KAFKA_TOPIC_PARTITIONS", "2")
    return namespace


def test_topics_ensure_creates_everything_and_check_reports_drift(
    environment: str,
    kafka: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert main(["topics", "ensure"]) == 0
    assert "created" in capsys.readouterr().out
    assert main(["topics", "check"]) == 0
    assert "match their declaration" in capsys.readouterr().out

    # A topic nobody declared is not ours to judge; a declared one that differs is drift.
    ensure_topics(kafka, [TopicSpec(f"{environment}someone-elses", 1, 1)])
    assert main(["topics", "check"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("KAFKA_TOPIC_PARTITIONS", "3")
    assert main(["topics", "check"]) == 1
    assert "partitions" in capsys.readouterr().out


def test_dead_letters_are_listed_shown_and_replayed(
    environment: str, kafka: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["topics", "ensure"])
    original = f"{environment}initiatives.events.v1"
    dlq = f"{original}.{environment}inspraak-advisory-events.dlq"
    producer = KafkaProducer(bootstrap_servers=kafka, acks="all")
    producer.send(
        dlq,
        key=b"k",
        value=b'{"x": 1}',
        headers=[
            ("ce_id", b"e-1"),
            ("ce_type", b"nl.inspraak.initiatives.initiative-submitted"),
            ("dlq_reason", b"invalid: neighbourhood"),
            ("dlq_original_topic", original.encode()),
        ],
    ).get(30)
    producer.close()
    capsys.readouterr()

    assert main(["dlq", "list", dlq]) == 0
    [listed] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed["reason"] == "invalid: neighbourhood" and listed["id"] == "e-1"
    assert main(["dlq", "show", dlq, "0", "0"]) == 0
    assert '"value": "{\\"x\\": 1}"' in capsys.readouterr().out
    assert main(["dlq", "replay", dlq, "0", "0"]) == 0
    assert f"to {original}" in capsys.readouterr().out
    assert main(["dlq", "show", dlq, "0", "7"]) == 2
