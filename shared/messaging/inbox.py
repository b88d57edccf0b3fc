"""The inbox: remembers which events a consumer applied, so a redelivery changes nothing."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.contracts.envelope import Envelope
from shared.messaging.tables import MessagingTables


async def claim_unseen(
    session: AsyncSession, tables: MessagingTables, consumer: str, envelopes: Sequence[Envelope]
) -> list[Envelope]:
    """Record ``envelopes`` as processed by ``consumer``; return those not processed before.

    Runs inside the caller's transaction: if that rolls back, the claims roll back with it.
    The key is (consumer, source, id) because CloudEvents ids are unique only per source.

    One round trip: ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` hands back exactly the
    rows it inserted, i.e. the events not seen before (PostgreSQL; SQLite since 3.35). It
    also settles a race a select-then-insert lost: a claim another transaction has made but
    not yet committed makes this insert wait for it, then skip the event instead of failing.
    """
    unique: dict[tuple[str, str], Envelope] = {}
    for envelope in envelopes:
        unique.setdefault((envelope.source, envelope.id), envelope)
    if not unique:
        return []
    inbox = tables.inbox
    connection = await session.connection()
    dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    # A list of parameter sets: SQLAlchemy's "insertmanyvalues" sends them as one multi-row
    # statement (RETURNING needs that; a driver's executemany returns no rows), compiled once.
    claimed = await connection.execute(
        dialect_insert(inbox).on_conflict_do_nothing().returning(inbox.c.source, inbox.c.event_id),
        [{"consumer": consumer, "source": s, "event_id": i} for s, i in unique],
    )
    new = {(source, event_id) for source, event_id in claimed.all()}
    return [envelope for key, envelope in unique.items() if key in new]
