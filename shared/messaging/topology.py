"""Who consumes whose events: the single source for topic and dead-letter topic creation.

Each service consumes with one consumer group, ``inspraak-<service>-events``, and every topic
it reads gets a dead-letter topic ``<topic>.<group>.dlq``.
"""

from __future__ import annotations

from shared.contracts.registry import TOPICS
from shared.messaging.dead_letters import dead_letter_topic
from shared.messaging.topics import TopicSpec

CONSUMES: dict[str, tuple[str, ...]] = {
    "initiatives": ("advisory", "budgets"),
    "advisory": ("initiatives",),
    "budgets": ("initiatives",),
    "notifications": ("initiatives", "advisory", "budgets"),
}


def consumer_group(service: str, namespace: str = "") -> str:
    return f"{namespace}inspraak-{service}-events"


def consumed_topics(service: str, namespace: str = "") -> list[str]:
    return [f"{namespace}{TOPICS[producer]}" for producer in CONSUMES[service]]


def topic_specs(
    *, partitions: int, replication_factor: int, min_insync_replicas: int, namespace: str = ""
) -> list[TopicSpec]:
    """Every event topic and dead-letter topic the stack needs."""
    configs = {"min.insync.replicas": str(min_insync_replicas)}
    names = [f"{namespace}{topic}" for topic in TOPICS.values()]
    for service in CONSUMES:
        group = consumer_group(service, namespace)
        names += [dead_letter_topic(t, group) for t in consumed_topics(service, namespace)]
    return [TopicSpec(name, partitions, replication_factor, dict(configs)) for name in names]
