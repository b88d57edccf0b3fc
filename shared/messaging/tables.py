"""The kit's own tables, added to each service's metadata: outbox, relay slots, inbox, timers."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

# Rows are spread over a fixed number of slots by key; a relay publishes a slot only while it
# holds that slot's row lock, so per-key order survives several relays running at once.
OUTBOX_SLOTS = 16


class MessagingTables:
    """Outbox, outbox slots and inbox, bound to one service's metadata."""

    def __init__(self, metadata: MetaData, *, timers: bool = False) -> None:
        self.outbox = Table(
            "outbox",
            metadata,
            Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
            Column("slot", Integer, nullable=False, index=True),
            Column("topic", String(255), nullable=False),
            Column("key", String(255), nullable=False),
            Column("headers", Text, nullable=False, comment="JSON list of [name, value]"),
            Column("value", LargeBinary, nullable=False),
            Column("traceparent", String(64)),
            Column(
                "created_at", DateTime(timezone=True), nullable=False, server_default=func.now()
            ),
        )
        self.outbox_slot = Table(
            "outbox_slot", metadata, Column("slot", Integer, primary_key=True, autoincrement=False)
        )
        self.inbox = Table(
            "inbox",
            metadata,
            Column("consumer", String(255), nullable=False),
            Column("source", String(255), nullable=False),
            Column("event_id", String(64), nullable=False),
            Column(
                "processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()
            ),
            PrimaryKeyConstraint("consumer", "source", "event_id", name="pk_inbox"),
        )
        if timers:
            self.timer = self._timer_table(metadata)

    @staticmethod
    def _timer_table(metadata: MetaData) -> Table:
        """Durable timers (see ``shared.messaging.timers``), for services with deadlines."""
        return Table(
            "timer",
            metadata,
            Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
            Column("name", String(80), nullable=False),
            Column("key", String(255), nullable=False),
            Column("due_at", DateTime(timezone=True), nullable=False),
            Column("payload", Text, nullable=False, comment="JSON object"),
            Column("fired_at", DateTime(timezone=True)),
            Column("attempts", Integer, nullable=False, server_default="0"),
            Column("last_error", Text),
            UniqueConstraint("name", "key", name="uq_timer_name_key"),
            Index("ix_timer_due", "fired_at", "due_at"),
        )
