"""The inbox: remembers which events a consumer applied, so a redelivery changes nothing."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select, tuple_
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.contracts.envelope import Envelope
from shared.messaging.tables import MessagingTables


async def claim_unseen(
    session: AsyncSession, tables: MessagingTables, consumer: str, envelopes: Sequence[Envelope]
) -> list[Envelope]:
    """Record ``envelopes`` as processed by ``consumer``; return those not processed before.

    Runs inside the caller's transaction: if that rolls back, the claims roll back with it.
    The key is (consumer, source, id) because CloudEvents ids are unique only per source.
    """
    unique: dict[tuple[str, str], Envelope] = {}
    for envelope in envelopes:
        unique.setdefault((envelope.source, envelope.id), envelope)
    if not unique:
        return []
    inbox = tables.inbox
    connection = await session.connection()
    seen = await connection.execute(
        select(inbox.c.source, inbox.c.event_id).where(
            inbox.c.consumer == consumer,
            tuple_(inbox.c.source, inbox.c.event_id).in_(list(unique)),
        )
    )
    for source, event_id in seen.all():
        unique.pop((source, event_id), None)
    if unique:
        await connection.execute(
            insert(inbox),
            [{"consumer": consumer, "source": s, "event_id": i} for s, i in unique],
        )
    return list(unique.values())
