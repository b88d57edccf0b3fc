"""The ``inspraak`` command: topics and dead letters for operators.

inspraak topics ensure | check
inspraak dlq list TOPIC
inspraak dlq show TOPIC PARTITION OFFSET
inspraak dlq replay TOPIC PARTITION OFFSET [--data FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared.messaging.dead_letter_tool import DeadLetter, read_dead_letters, replay
from shared.messaging.topics import check_topics, ensure_topics
from shared.messaging.topology import topic_specs
from shared.settings import ServiceSettings


class ToolSettings(ServiceSettings):
    """The shared (unprefixed) settings; tools need no service's own ones or a JWT secret."""

    service_name: str = "tools"

    def _refuse_development_secret_outside_development(self) -> ToolSettings:  # type: ignore[override]
        return self  # tools verify no tokens, so they need neither a secret nor a JWKS URL


def _kafka_config(settings: ServiceSettings) -> dict[str, Any]:
    config: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if settings.kafka_sasl_mechanism:
        config.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=settings.kafka_sasl_password,
        )
    if settings.kafka_ssl_cafile:
        config["ssl_cafile"] = settings.kafka_ssl_cafile
    return config


def _topics(args: argparse.Namespace, settings: ServiceSettings) -> int:
    specs = topic_specs(
        partitions=settings.kafka_topic_partitions,
        replication_factor=settings.kafka_replication_factor,
        min_insync_replicas=settings.kafka_min_insync_replicas,
        namespace=settings.kafka_topic_namespace,
    )
    config = _kafka_config(settings)
    if args.action == "ensure":
        created = ensure_topics(settings.kafka_bootstrap_servers, specs, admin_config=config)
        print(f"{len(specs)} topics declared, {len(created)} created: {', '.join(created) or '-'}")
    drift = check_topics(settings.kafka_bootstrap_servers, specs, admin_config=config)
    for line in drift:
        print(f"drift: {line}")
    if args.action == "check" and not drift:
        print(f"{len(specs)} topics match their declaration")
    return 1 if drift else 0


def _find(settings: ServiceSettings, topic: str, partition: int, offset: int) -> DeadLetter:
    config = _kafka_config(settings)
    for letter in read_dead_letters(settings.kafka_bootstrap_servers, topic, config):
        if letter.partition == partition and letter.offset == offset:
            return letter
    raise LookupError(f"no dead letter at {topic}[{partition}]@{offset}")


def _dlq(args: argparse.Namespace, settings: ServiceSettings) -> int:
    config = _kafka_config(settings)
    if args.action == "list":
        for letter in read_dead_letters(settings.kafka_bootstrap_servers, args.topic, config):
            print(json.dumps(letter.summary()))
        return 0
    letter = _find(settings, args.topic, args.partition, args.offset)
    if args.action == "show":
        print(
            json.dumps(
                {
                    **letter.summary(),
                    "key": (letter.key or b"").decode("utf-8", "replace"),
                    "headers": {k: v.decode("utf-8", "replace") for k, v in letter.headers},
                    "value": (letter.value or b"").decode("utf-8", "replace"),
                },
                indent=2,
            )
        )
        return 0
    value = Path(args.data).read_bytes() if args.data else None
    topic = replay(settings.kafka_bootstrap_servers, letter, value=value, config=config)
    print(f"replayed {args.topic}[{args.partition}]@{args.offset} to {topic}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="inspraak", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    topics = commands.add_parser("topics", help="create or check every topic of the stack")
    topics.add_argument("action", choices=["ensure", "check"])
    dlq = commands.add_parser("dlq", help="list, inspect and replay dead letters")
    dlq.add_argument("action", choices=["list", "show", "replay"])
    dlq.add_argument("topic")
    dlq.add_argument("partition", type=int, nargs="?", default=0)
    dlq.add_argument("offset", type=int, nargs="?", default=0)
    dlq.add_argument("--data", help="replay with this file's content as the event data")
    args = parser.parse_args(argv)
    settings = ToolSettings()
    try:
        if args.command == "topics":
            return _topics(args, settings)
        return _dlq(args, settings)
    except LookupError as error:
        print(f"inspraak: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
