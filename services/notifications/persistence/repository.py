"""Loads and stores contacts, the event-built views, parked notices and messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from sqlmodel import select as select_rows
from sqlmodel.ext.asyncio.session import AsyncSession

from services.notifications.domain.model import (
    Cause,
    Contact,
    CouncilMember,
    InitiativeView,
    Message,
    MessageStatus,
)
from services.notifications.persistence.tables import (
    ContactRow,
    CouncilMemberRow,
    InitiativeViewRow,
    metadata,
)

contact_table = metadata.tables["contact"]
member_table = metadata.tables["council_member"]
initiative_table = metadata.tables["initiative_view"]
parked_table = metadata.tables["parked_notice"]
message_table = metadata.tables["message"]


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their offset; they were all stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, municipality: str, person_id: str) -> Contact | None:
        row = await self._session.get(ContactRow, (municipality, person_id))
        return _contact(row) if row else None

    async def get_many(self, municipality: str, person_ids: Iterable[str]) -> dict[str, Contact]:
        ids = sorted(set(person_ids))
        if not ids:
            return {}
        rows = (
            await self._session.exec(
                select_rows(ContactRow).where(
                    ContactRow.municipality == municipality, col(ContactRow.person_id).in_(ids)
                )
            )
        ).all()
        return {row.person_id: _contact(row) for row in rows}

    async def save(self, contact: Contact) -> None:
        values = contact.model_dump()
        row = await self._session.get(ContactRow, (contact.municipality, contact.person_id))
        if row is None:
            row = ContactRow(**values)
        else:
            for name, value in values.items():
                setattr(row, name, value)
        self._session.add(row)

    async def delete(self, municipality: str, person_id: str) -> bool:
        await self._session.flush()
        connection = await self._session.connection()
        result = await connection.execute(
            delete(contact_table).where(
                contact_table.c.municipality == municipality,
                contact_table.c.person_id == person_id,
            )
        )
        return bool(result.rowcount)


def _contact(row: ContactRow) -> Contact:
    contact = Contact.model_validate(row, from_attributes=True)
    return contact.model_copy(update={"updated_at": aware(contact.updated_at)})


class CouncilRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def appoint(self, member: CouncilMember) -> None:
        await self._session.flush()
        key = (member.municipality, member.council_id, member.member_id)
        row = await self._session.get(CouncilMemberRow, key)
        if row is None:
            row = CouncilMemberRow(**member.model_dump())
        else:
            row.role, row.council_kind = member.role, member.council_kind
        self._session.add(row)

    async def leave(self, municipality: str, council_id: str, member_id: str) -> None:
        await self._session.flush()  # an appointment earlier in this batch must be gone too
        connection = await self._session.connection()
        await connection.execute(
            delete(member_table).where(
                member_table.c.municipality == municipality,
                member_table.c.council_id == council_id,
                member_table.c.member_id == member_id,
            )
        )

    async def members(self, municipality: str, council_id: str) -> list[CouncilMember]:
        await self._session.flush()
        rows = (
            await self._session.exec(
                select_rows(CouncilMemberRow)
                .where(
                    CouncilMemberRow.municipality == municipality,
                    CouncilMemberRow.council_id == council_id,
                )
                .order_by(col(CouncilMemberRow.member_id))
            )
        ).all()
        return [CouncilMember.model_validate(row, from_attributes=True) for row in rows]


class InitiativeViewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, municipality: str, initiative_id: str) -> InitiativeView | None:
        await self._session.flush()
        row = await self._session.get(InitiativeViewRow, (municipality, initiative_id))
        if row is None:
            return None
        view = InitiativeView.model_validate(row, from_attributes=True)
        return view.model_copy(update={"decided_at": aware(view.decided_at)})

    async def save(self, view: InitiativeView) -> None:
        await self._session.flush()
        values = view.model_dump()
        row = await self._session.get(InitiativeViewRow, (view.municipality, view.initiative_id))
        if row is None:
            row = InitiativeViewRow(**values)
        else:
            for name, value in values.items():
                setattr(row, name, value)
        self._session.add(row)


class ParkedNoticeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def park(
        self, municipality: str, initiative_id: str, command: BaseModel, now: datetime
    ) -> None:
        connection = await self._session.connection()
        await connection.execute(
            insert(parked_table).values(
                municipality=municipality,
                initiative_id=initiative_id,
                command_type=type(command).__name__,
                payload=command.model_dump_json(),
                parked_at=now,
            )
        )

    async def waiting_for(
        self, municipality: str, initiative_id: str
    ) -> list[tuple[int, str, str]]:
        """(id, command type, JSON payload) of the notices parked for an initiative, in order."""
        connection = await self._session.connection()
        result = await connection.execute(
            select(parked_table.c.id, parked_table.c.command_type, parked_table.c.payload)
            .where(
                parked_table.c.municipality == municipality,
                parked_table.c.initiative_id == initiative_id,
            )
            .order_by(parked_table.c.id)
        )
        return [(row.id, row.command_type, row.payload) for row in result]

    async def release(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        connection = await self._session.connection()
        await connection.execute(delete(parked_table).where(parked_table.c.id.in_(list(ids))))


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_once(self, message: Message) -> bool:
        """Insert unless a message with the same idempotency key exists; True if inserted."""
        connection = await self._session.connection()
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(message_table)
            .values(**_message_values(message))
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        result = await connection.execute(statement)
        return bool(result.rowcount)

    async def list_for(self, municipality: str, recipient_id: str) -> list[Message]:
        connection = await self._session.connection()
        result = await connection.execute(
            select(message_table)
            .where(
                message_table.c.municipality == municipality,
                message_table.c.recipient_id == recipient_id,
            )
            .order_by(message_table.c.created_at, message_table.c.id)
        )
        return [_message(row._mapping) for row in result]

    async def get(self, message_id: str) -> Message | None:
        connection = await self._session.connection()
        row = (
            await connection.execute(select(message_table).where(message_table.c.id == message_id))
        ).first()
        return _message(row._mapping) if row else None

    async def erase_for(self, municipality: str, recipient_id: str) -> None:
        """Drop what was still to be sent; keep the rest as history without its content."""
        connection = await self._session.connection()
        mine = and_(
            message_table.c.municipality == municipality,
            message_table.c.recipient_id == recipient_id,
        )
        unsent = (MessageStatus.PENDING.value, MessageStatus.SENDING.value)
        await connection.execute(
            delete(message_table).where(mine, message_table.c.status.in_(unsent))
        )
        await connection.execute(update(message_table).where(mine).values(subject="", body=""))

    async def claim_due(
        self, *, now: datetime, stale_before: datetime, limit: int
    ) -> list[Message]:
        """Mark due messages 'sending' and return them; commit before sending anything.

        Due: pending and its time has come, or left 'sending' since before ``stale_before``
        (the process that claimed it died mid-send). On PostgreSQL the rows are claimed with
        ``FOR UPDATE SKIP LOCKED`` so replicas never claim the same message.
        """
        connection = await self._session.connection()
        m = message_table.c
        query = (
            select(message_table)
            .where(
                or_(
                    and_(m.status == MessageStatus.PENDING.value, m.next_attempt_at <= now),
                    and_(m.status == MessageStatus.SENDING.value, m.claimed_at <= stale_before),
                )
            )
            .order_by(m.next_attempt_at, m.created_at)
            .limit(limit)
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = [_message(row._mapping) for row in await connection.execute(query)]
        if not rows:
            return []
        await connection.execute(
            update(message_table)
            .where(m.id.in_([row.id for row in rows]))
            .values(status=MessageStatus.SENDING.value, attempts=m.attempts + 1, claimed_at=now)
        )
        return [
            row.model_copy(
                update={
                    "status": MessageStatus.SENDING,
                    "attempts": row.attempts + 1,
                    "claimed_at": now,
                }
            )
            for row in rows
        ]

    async def mark_sent(self, message_id: str, now: datetime) -> bool:
        return await self._finish(
            message_id,
            status=MessageStatus.SENT,
            sent_at=now,
            next_attempt_at=None,
            last_error=None,
        )

    async def mark_retry(self, message_id: str, error: str, next_attempt_at: datetime) -> bool:
        return await self._finish(
            message_id,
            status=MessageStatus.PENDING,
            next_attempt_at=next_attempt_at,
            last_error=error,
        )

    async def mark_failed(self, message_id: str, error: str) -> bool:
        return await self._finish(
            message_id, status=MessageStatus.FAILED, next_attempt_at=None, last_error=error
        )

    async def mark_undeliverable(self, message_id: str, reason: str) -> bool:
        return await self._finish(
            message_id, status=MessageStatus.UNDELIVERABLE, next_attempt_at=None, last_error=reason
        )

    async def _finish(self, message_id: str, **values: Any) -> bool:
        """Move a message out of 'sending'; False if it is no longer there (erased meanwhile)."""
        connection = await self._session.connection()
        values["status"] = values["status"].value
        result = await connection.execute(
            update(message_table)
            .where(
                message_table.c.id == message_id,
                message_table.c.status == MessageStatus.SENDING.value,
            )
            .values(**values)
        )
        return bool(result.rowcount)


def _message_values(message: Message) -> dict[str, Any]:
    values = message.model_dump(exclude={"cause"})
    values.update(
        channel=message.channel.value,
        kind=message.kind.value,
        language=message.language.value,
        status=message.status.value,
        cause_source=message.cause.source,
        cause_event_id=message.cause.event_id,
        cause_event_type=message.cause.event_type,
        cause_correlation_id=message.cause.correlation_id,
    )
    return values


def _message(row: Any) -> Message:
    values = dict(row)
    cause = Cause(
        source=values.pop("cause_source"),
        event_id=values.pop("cause_event_id"),
        event_type=values.pop("cause_event_type"),
        correlation_id=values.pop("cause_correlation_id"),
    )
    for name in ("next_attempt_at", "claimed_at", "sent_at", "created_at"):
        values[name] = aware(values[name])
    return Message(cause=cause, **values)
