"""The whole stack on one machine: Kafka, topics, an SMTP sink and the four services.

Used by `make run` (with the demo municipality seeded) and by the end-to-end tests.
Services run on SQLite unless ``<SERVICE>_DATABASE_URL`` is set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from shared import clock
from shared.auth import Role, issue_development_token
from shared.devstack.kafka import LocalKafkaBroker
from shared.messaging.topics import ensure_topics
from shared.messaging.topology import topic_specs
from shared.settings import DEVELOPMENT_JWT_SECRET
from shared.testing.processes import ServiceProcess, free_port
from stack.mail_sink import MailSink

SERVICES = ("initiatives", "advisory", "budgets", "notifications")
PREFERRED_PORTS = {"initiatives": 8101, "advisory": 8102, "budgets": 8103, "notifications": 8104}


def _port(preferred: int | None) -> int:
    import socket

    if preferred is None:
        return free_port()
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred


@dataclass
class LocalStack:
    """Starts and stops everything; ``env`` is what other tools need to reach it."""

    run_dir: Path
    namespace: str = ""
    preferred_ports: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    partitions: int = 6
    bootstrap: str | None = None
    # Development only: the services add the offset in this file to their clock, so a test
    # can let days pass (deadlines, reminders) in running processes; see shared/clock.py.
    clock_file: Path | None = None
    broker: LocalKafkaBroker | None = None
    mail: MailSink | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        bootstrap = self.bootstrap or os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not bootstrap:
            self.broker = LocalKafkaBroker()
            bootstrap = self.broker.start()
        ensure_topics(
            bootstrap,
            topic_specs(
                partitions=self.partitions,
                replication_factor=1,
                min_insync_replicas=1,
                namespace=self.namespace,
            ),
        )
        smtp_port = _port(1025 if self.preferred_ports else None)
        self.mail = MailSink(self.run_dir / "mail", smtp_port)
        self.mail.start()
        self.env = {
            "INSPRAAK_ENVIRONMENT": "development",
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKA_TOPIC_NAMESPACE": self.namespace,
            "INSPRAAK_DATA_DIR": str(self.run_dir / "data"),
            "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "NOTIFICATIONS_SMTP_PORT": str(smtp_port),
            **({"INSPRAAK_CLOCK_FILE": str(self.clock_file.resolve())} if self.clock_file else {}),
            **self.extra_env,
        }
        for name in SERVICES:
            port = _port(PREFERRED_PORTS[name] if self.preferred_ports else None)
            service = ServiceProcess(name, self.env, self.run_dir, port=port)
            service.migrate()
            self.services[name] = service
        for service in self.services.values():
            service.start()

    def move_clock(self, offset: timedelta) -> None:
        """Put every service's clock ``offset`` ahead of wall time (it may only grow)."""
        if self.clock_file is None:
            raise RuntimeError("this stack was started without a clock file")
        clock.write_offset(self.clock_file, offset)

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()
        if self.mail is not None:
            self.mail.stop()
        if self.broker is not None:
            self.broker.stop()

    def pids(self) -> list[int]:
        """Every process the stack started, for whoever wants to check none is left."""
        pids = [service.pid for service in self.services.values() if service.pid]
        if self.broker is not None and self.broker.pid:
            pids.append(self.broker.pid)
        return pids

    def urls(self) -> dict[str, str]:
        return {name: service.url for name, service in self.services.items()}

    def stack_env(self, tokens: dict[str, str]) -> dict[str, str]:
        """What `.run/stack.env` holds for `make demo` and people."""
        values = {
            "KAFKA_BOOTSTRAP_SERVERS": self.env["KAFKA_BOOTSTRAP_SERVERS"],
            "KAFKA_TOPIC_NAMESPACE": self.namespace,
            "MAIL_DIR": str((self.run_dir / "mail").resolve()),
        }
        values |= {f"{name.upper()}_URL": url for name, url in self.urls().items()}
        values |= {f"TOKEN_{name.upper()}": value for name, value in tokens.items()}
        return values


def development_token(role: Role, subject: str, municipality: str = "GM0362") -> str:
    return issue_development_token(
        DEVELOPMENT_JWT_SECRET, subject=subject, role=role, municipality=municipality
    )
