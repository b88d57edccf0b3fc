"""Topic tooling: create the project's topics and detect drift from their declared shape.

Topics exist only because this tooling made them (brokers run with
``auto.create.topics.enable=false``), so every topic is declared as a :class:`TopicSpec`.
Uses kafka-python's synchronous admin client: this runs from CLIs, deploy jobs and tests,
not inside the services' event loops.

Security settings (``security_protocol``, ``sasl_mechanism``, ``sasl_plain_username``,
``sasl_plain_password``, ``ssl_cafile``, ...) are passed through ``admin_config`` to
:class:`kafka.admin.KafkaAdminClient` unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import errors as kafka_errors
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

_CLIENT_ID = "inspraak-topics"


@dataclass(frozen=True)
class TopicSpec:
    """The declared shape of one topic.

    ``configs`` holds topic-level configs as the broker spells them, e.g.
    ``{"min.insync.replicas": "2", "retention.ms": "604800000"}``. ``min.insync.replicas`` is
    taken from here and nowhere else: durability is a per-topic decision, not a tooling
    default. Values are compared as strings, so write them as the broker reports them.
    """

    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Reject specs the broker would reject later with a less helpful message."""
        if not self.name:
            raise ValueError("a topic needs a name")
        if self.partitions < 1:
            raise ValueError(f"topic {self.name!r}: partitions must be >= 1")
        if self.replication_factor < 1:
            raise ValueError(f"topic {self.name!r}: replication_factor must be >= 1")
        for key, value in self.configs.items():
            if not isinstance(value, str):
                raise TypeError(f"topic {self.name!r}: config {key} must be a string")


@contextlib.contextmanager
def admin_client(
    bootstrap_servers: str, admin_config: Mapping[str, Any] | None = None
) -> Iterator[KafkaAdminClient]:
    """Open a :class:`KafkaAdminClient` (closed on exit) with ``admin_config`` passed through."""
    settings: dict[str, Any] = {"client_id": _CLIENT_ID, **(admin_config or {})}
    settings["bootstrap_servers"] = bootstrap_servers
    admin = KafkaAdminClient(**settings)
    try:
        yield admin
    finally:
        admin.close()


def ensure_topics(
    bootstrap_servers: str,
    specs: Sequence[TopicSpec],
    *,
    admin_config: Mapping[str, Any] | None = None,
    timeout: float = 30,
) -> list[str]:
    """Create the topics in ``specs`` that do not exist yet; idempotent.

    Existing topics are left alone even when they differ from their spec (use
    :func:`check_topics` to find that): adding partitions moves keys to other partitions and
    so breaks per-key ordering, which must be a deliberate operation.

    Returns:
        The names of the topics this call created, in ``specs`` order.

    Raises:
        kafka.errors.KafkaError: The broker refused to create a topic (other than because it
            already exists, which is fine: another process may have won the race).
        kafka.errors.KafkaTimeoutError: Created topics did not get partition leaders in time.
    """
    _check_unique(specs)
    with admin_client(bootstrap_servers, admin_config) as admin:
        existing = set(admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if not missing:
            return []
        response = admin.create_topics(
            {
                spec.name: {
                    "num_partitions": spec.partitions,
                    "replication_factor": spec.replication_factor,
                    "configs": dict(spec.configs),
                }
                for spec in missing
            },
            timeout_ms=int(timeout * 1000),
            raise_errors=False,
        )
        created = set(_created_names(response["topics"]))
        names = [spec.name for spec in missing if spec.name in created]
        # The create response comes before leaders are elected; wait so that callers can
        # produce at once.
        admin.wait_for_topics(names, timeout_ms=int(timeout * 1000))
        return names


def check_topics(
    bootstrap_servers: str,
    specs: Sequence[TopicSpec],
    admin_config: Mapping[str, Any] | None = None,
) -> list[str]:
    """Compare the cluster with ``specs``; return one human-readable line per difference.

    Reports missing topics, partition counts, replication factors and the value of every
    config named in a spec. Configs not named in the spec are not checked. An empty list
    means everything matches.
    """
    _check_unique(specs)
    if not specs:
        return []
    with admin_client(bootstrap_servers, admin_config) as admin:
        described = {
            topic["name"]: topic for topic in admin.describe_topics([s.name for s in specs])
        }
        drift: list[str] = []
        present: list[TopicSpec] = []
        for spec in specs:
            topic = described.get(spec.name)
            if (
                topic is None
                or topic["error_code"] == kafka_errors.UnknownTopicOrPartitionError.errno
            ):
                drift.append(f"topic {spec.name!r} is missing")
                continue
            if topic["error_code"] != 0:
                error = kafka_errors.for_code(topic["error_code"]).__name__
                drift.append(f"topic {spec.name!r} cannot be described: {error}")
                continue
            drift.extend(_shape_drift(spec, topic["partitions"]))
            present.append(spec)
        drift.extend(_config_drift(admin, present))
    return drift


def wait_for_topics(
    bootstrap_servers: str,
    names: Iterable[str],
    *,
    admin_config: Mapping[str, Any] | None = None,
    timeout: float = 30,
) -> None:
    """Block until every named topic exists and each of its partitions has a leader.

    Raises:
        kafka.errors.KafkaTimeoutError: Not all topics were ready within ``timeout`` seconds.
    """
    with admin_client(bootstrap_servers, admin_config) as admin:
        admin.wait_for_topics(list(names), timeout_ms=int(timeout * 1000))


def _created_names(results: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """Yield topics the broker created; raise for errors other than 'already exists'."""
    for result in results:
        code = result["error_code"]
        if code == 0:
            yield result["name"]
        elif code != kafka_errors.TopicAlreadyExistsError.errno:
            error_class = kafka_errors.for_code(code)
            raise error_class(
                f"cannot create topic {result['name']!r}: {result.get('error_message') or ''}"
            )


def _shape_drift(spec: TopicSpec, partitions: Sequence[Mapping[str, Any]]) -> list[str]:
    drift = []
    if len(partitions) != spec.partitions:
        drift.append(
            f"topic {spec.name!r} has {len(partitions)} partitions, expected {spec.partitions}"
        )
    # Replication factor is per partition in Kafka; report every distinct value that is off.
    factors = sorted({len(p["replica_nodes"]) for p in partitions})
    wrong = [f for f in factors if f != spec.replication_factor]
    if wrong:
        shown = ", ".join(str(f) for f in factors)
        drift.append(
            f"topic {spec.name!r} has replication factor {shown}, "
            f"expected {spec.replication_factor}"
        )
    return drift


def _config_drift(admin: KafkaAdminClient, specs: Sequence[TopicSpec]) -> list[str]:
    wanted = [spec for spec in specs if spec.configs]
    if not wanted:
        return []
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, spec.name, list(spec.configs)) for spec in wanted
    ]
    # 'all' so that a spec value equal to the broker default still counts as present.
    actual = admin.describe_configs(resources, config_filter="all").get("topic", {})
    drift = []
    for spec in wanted:
        topic_configs = actual.get(spec.name, {})
        for key, expected in spec.configs.items():
            if key not in topic_configs:
                drift.append(f"topic {spec.name!r} has no config {key} (unknown to the broker?)")
                continue
            value = topic_configs[key]["value"]
            if value != expected:
                drift.append(f"topic {spec.name!r} has {key}={value!r}, expected {expected!r}")
    return drift


def _check_unique(specs: Sequence[TopicSpec]) -> None:
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"topics declared more than once: {', '.join(duplicates)}")
