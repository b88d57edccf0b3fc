"""The kit's own tables, added to each service's metadata: outbox, relay slots and inbox."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
)

# Rows are spread over a fixed number of slots by key; a relay publishes a slot only while it
# holds that slot's row lock, so per-key order survives several relays running at once.
OUTBOX_SLOTS = 16


class MessagingTables:
    """Outbox, outbox slots and inbox, bound to one service's metadata."""

    def __init__(self, metadata: MetaData) -> None:
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
