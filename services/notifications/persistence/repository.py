"""Loads and stores contacts, the event-built views, parked notices and messages."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from sqlmodel import select as select_rows
from sqlmodel.ext.asyncio.session import AsyncSession

from services.notifications.domain.model import (
    Audience,
    BudgetHolder,
    Category,
    Cause,
    Channel,
    ConsultationView,
    Contact,
    ContentMode,
    CouncilMember,
    DeliveryAttempt,
    DeliveryStatus,
    FanoutJob,
    Follow,
    FollowTarget,
    Frequency,
    InitiativeView,
    Message,
    MessageStatus,
    NoticeKind,
    Preferences,
    QuietHours,
    SubscriptionStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from services.notifications.domain.rules import ALL_MUNICIPALITIES, Rule
from services.notifications.persistence.tables import (
    ConsultationViewRow,
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
preference_table = metadata.tables["preference"]
supporter_table = metadata.tables["supporter"]
budget_holder_table = metadata.tables["budget_holder"]
rule_table = metadata.tables["notification_rule"]
fanout_table = metadata.tables["fanout_job"]
follow_table = metadata.tables["follow"]
subscription_table = metadata.tables["webhook_subscription"]
delivery_table = metadata.tables["webhook_delivery"]
attempt_table = metadata.tables["webhook_attempt"]


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


class ConsultationViewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, municipality: str, consultation_id: str) -> ConsultationView | None:
        await self._session.flush()
        row = await self._session.get(ConsultationViewRow, (municipality, consultation_id))
        return None if row is None else ConsultationView.model_validate(row, from_attributes=True)

    async def save(self, view: ConsultationView) -> None:
        await self._session.flush()
        values = view.model_dump()
        key = (view.municipality, view.consultation_id)
        row = await self._session.get(ConsultationViewRow, key)
        if row is None:
            row = ConsultationViewRow(**values)
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

    async def add_many_once(self, messages: Sequence[Message]) -> set[str]:
        """Insert each message unless its idempotency key exists; the keys inserted.

        One statement for a whole fan-out batch (SQLAlchemy sends it as multi-row INSERTs):
        a statement per message, not the database, was what limited composing a large
        audience. The unique idempotency key still makes a repeated batch add nothing.
        """
        if not messages:
            return set()
        connection = await self._session.connection()
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(message_table)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(message_table.c.idempotency_key)
        )
        result = await connection.execute(statement, [_message_values(m) for m in messages])
        return {str(key) for key in result.scalars()}

    async def mark_many_sent(self, message_ids: Sequence[str], now: datetime) -> set[str]:
        """Record many sends in one statement; the ids still 'sending' (not erased meanwhile)."""
        if not message_ids:
            return set()
        connection = await self._session.connection()
        m = message_table.c
        result = await connection.execute(
            update(message_table)
            .where(m.id.in_(list(message_ids)), m.status == MessageStatus.SENDING.value)
            .values(
                status=MessageStatus.SENT.value, sent_at=now, next_attempt_at=None, last_error=None
            )
            .returning(m.id)
        )
        return {str(found) for found in result.scalars()}

    async def list_for(
        self, municipality: str, recipient_id: str, *, feed: bool = False
    ) -> list[Message]:
        """What was sent (or not) to a person; the in-app feed only when asked for."""
        connection = await self._session.connection()
        channels = [c.value for c in Channel if feed or c is not Channel.FEED]
        result = await connection.execute(
            select(message_table)
            .where(
                message_table.c.municipality == municipality,
                message_table.c.recipient_id == recipient_id,
                message_table.c.channel.in_(channels),
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
        """Drop what was still to be sent and the feed; keep the rest without its content."""
        connection = await self._session.connection()
        mine = and_(
            message_table.c.municipality == municipality,
            message_table.c.recipient_id == recipient_id,
        )
        unsent = (
            MessageStatus.PENDING.value,
            MessageStatus.SENDING.value,
            MessageStatus.HELD.value,
        )
        await connection.execute(
            delete(message_table).where(
                mine,
                or_(
                    message_table.c.status.in_(unsent),
                    message_table.c.channel == Channel.FEED.value,
                ),
            )
        )
        await connection.execute(
            update(message_table).where(mine).values(subject="", body="", html=None)
        )

    async def feed(
        self, municipality: str, recipient_id: str, *, after: str | None, limit: int
    ) -> list[Message]:
        """The person's in-app feed, oldest first, after the entry with id ``after``."""
        connection = await self._session.connection()
        m = message_table.c
        query = select(message_table).where(
            m.municipality == municipality,
            m.recipient_id == recipient_id,
            m.channel == Channel.FEED.value,
        )
        if after:
            anchor = (
                await connection.execute(select(m.created_at, m.id).where(m.id == after))
            ).first()
            if anchor is not None:
                query = query.where(
                    or_(
                        m.created_at > anchor.created_at,
                        and_(m.created_at == anchor.created_at, m.id > anchor.id),
                    )
                )
        query = query.order_by(m.created_at, m.id).limit(limit)
        return [_message(row._mapping) for row in await connection.execute(query)]

    async def mark_read(
        self, municipality: str, recipient_id: str, message_id: str, now: datetime
    ) -> bool:
        connection = await self._session.connection()
        m = message_table.c
        result = await connection.execute(
            update(message_table)
            .where(
                m.id == message_id,
                m.municipality == municipality,
                m.recipient_id == recipient_id,
                m.channel == Channel.FEED.value,
            )
            .values(read_at=now)
        )
        return bool(result.rowcount)

    async def claim_held_due(self, *, now: datetime, limit: int) -> list[Message]:
        """Held messages whose digest is due, for whole recipients (never half a digest)."""
        connection = await self._session.connection()
        m = message_table.c
        recipients = (
            select(m.municipality, m.recipient_id, m.channel, m.next_attempt_at)
            .where(m.status == MessageStatus.HELD.value, m.next_attempt_at <= now)
            .group_by(m.municipality, m.recipient_id, m.channel, m.next_attempt_at)
            .order_by(m.next_attempt_at)
            .limit(limit)
        )
        groups = list((await connection.execute(recipients)).all())
        if not groups:
            return []
        query = (
            select(message_table)
            .where(
                m.status == MessageStatus.HELD.value,
                or_(
                    *(
                        and_(
                            m.municipality == g.municipality,
                            m.recipient_id == g.recipient_id,
                            m.channel == g.channel,
                            m.next_attempt_at == g.next_attempt_at,
                        )
                        for g in groups
                    )
                ),
            )
            .order_by(m.created_at, m.id)
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [_message(row._mapping) for row in await connection.execute(query)]

    async def bundle(self, message_ids: Sequence[str], digest_id: str) -> None:
        connection = await self._session.connection()
        await connection.execute(
            update(message_table)
            .where(
                message_table.c.id.in_(list(message_ids)),
                message_table.c.status == MessageStatus.HELD.value,
            )
            .values(
                status=MessageStatus.BUNDLED.value, bundled_into=digest_id, next_attempt_at=None
            )
        )

    async def id_for_key(self, key: str) -> str | None:
        connection = await self._session.connection()
        found = await connection.scalar(
            select(message_table.c.id).where(message_table.c.idempotency_key == key)
        )
        return str(found) if found else None

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
        cause_traceparent=message.cause.traceparent,
    )
    return values


def _message(row: Any) -> Message:
    values = dict(row)
    cause = Cause(
        source=values.pop("cause_source"),
        event_id=values.pop("cause_event_id"),
        event_type=values.pop("cause_event_type"),
        correlation_id=values.pop("cause_correlation_id"),
        traceparent=values.pop("cause_traceparent"),
    )
    for name in ("next_attempt_at", "claimed_at", "sent_at", "created_at", "read_at"):
        values[name] = aware(values[name])
    return Message(cause=cause, **values)


def _upsert(connection: Any, table: Any, values: dict[str, Any], keys: list[str]) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    updates = {name: value for name, value in values.items() if name not in keys}
    if not updates:
        return statement.on_conflict_do_nothing(index_elements=keys)
    return statement.on_conflict_do_update(index_elements=keys, set_=updates)


class PreferenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_many(
        self, municipality: str, person_ids: Iterable[str]
    ) -> dict[str, Preferences]:
        ids = sorted(set(person_ids))
        if not ids:
            return {}
        connection = await self._session.connection()
        p = preference_table.c
        rows = await connection.execute(
            select(preference_table).where(p.municipality == municipality, p.person_id.in_(ids))
        )
        return {row.person_id: _preferences(row) for row in rows}

    async def get(self, municipality: str, person_id: str) -> Preferences | None:
        return (await self.get_many(municipality, [person_id])).get(person_id)

    async def save(self, preferences: Preferences) -> None:
        connection = await self._session.connection()
        quiet = preferences.quiet_hours
        values = {
            "municipality": preferences.municipality,
            "person_id": preferences.person_id,
            "frequencies": {k.value: v.value for k, v in preferences.frequencies.items()},
            "sms": preferences.sms,
            "quiet_start": quiet.start.isoformat("minutes") if quiet else None,
            "quiet_end": quiet.end.isoformat("minutes") if quiet else None,
        }
        await connection.execute(
            _upsert(connection, preference_table, values, ["municipality", "person_id"])
        )

    async def delete(self, municipality: str, person_id: str) -> None:
        connection = await self._session.connection()
        p = preference_table.c
        await connection.execute(
            delete(preference_table).where(p.municipality == municipality, p.person_id == person_id)
        )


def _preferences(row: Any) -> Preferences:
    quiet = None
    if row.quiet_start and row.quiet_end:
        quiet = QuietHours(
            start=time.fromisoformat(row.quiet_start), end=time.fromisoformat(row.quiet_end)
        )
    return Preferences(
        municipality=row.municipality,
        person_id=row.person_id,
        frequencies={Category(k): Frequency(v) for k, v in (row.frequencies or {}).items()},
        sms=row.sms,
        quiet_hours=quiet,
    )


class SupporterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def set(
        self, municipality: str, initiative_id: str, supporter_id: str, *, supported: bool
    ) -> None:
        connection = await self._session.connection()
        values = {
            "municipality": municipality,
            "initiative_id": initiative_id,
            "supporter_id": supporter_id,
        }
        if supported:
            await connection.execute(_upsert(connection, supporter_table, values, list(values)))
            return
        s = supporter_table.c
        await connection.execute(
            delete(supporter_table).where(
                s.municipality == municipality,
                s.initiative_id == initiative_id,
                s.supporter_id == supporter_id,
            )
        )

    async def page(
        self, municipality: str, initiative_id: str, *, after: str | None, limit: int
    ) -> list[str]:
        """Supporters in id order after ``after``: a cursor that survives a restart."""
        connection = await self._session.connection()
        s = supporter_table.c
        query = select(s.supporter_id).where(
            s.municipality == municipality, s.initiative_id == initiative_id
        )
        if after is not None:
            query = query.where(s.supporter_id > after)
        rows = await connection.execute(query.order_by(s.supporter_id).limit(limit))
        return [row.supporter_id for row in rows]


class FollowRepository:
    """Who follows which neighbourhood or budget (pseudonymous ids only)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, follow: Follow) -> Follow:
        """Follow once: following again keeps the first ``since``."""
        connection = await self._session.connection()
        f = follow_table.c
        key = (
            f.municipality == follow.municipality,
            f.target == follow.target.value,
            f.target_id == follow.target_id,
            f.person_id == follow.person_id,
        )
        existing = (await connection.execute(select(follow_table).where(*key))).first()
        if existing is not None:
            return _follow(existing)
        await connection.execute(insert(follow_table).values(**follow.model_dump(mode="python")))
        return follow

    async def remove(
        self, municipality: str, person_id: str, target: FollowTarget, target_id: str
    ) -> bool:
        connection = await self._session.connection()
        f = follow_table.c
        result = await connection.execute(
            delete(follow_table).where(
                f.municipality == municipality,
                f.person_id == person_id,
                f.target == target.value,
                f.target_id == target_id,
            )
        )
        return bool(result.rowcount)

    async def of_person(self, municipality: str, person_id: str) -> list[Follow]:
        connection = await self._session.connection()
        f = follow_table.c
        rows = await connection.execute(
            select(follow_table)
            .where(f.municipality == municipality, f.person_id == person_id)
            .order_by(f.target, f.target_id)
        )
        return [_follow(row) for row in rows]

    async def erase_for(self, municipality: str, person_id: str) -> int:
        """The right to erasure: everything the person follows goes."""
        connection = await self._session.connection()
        f = follow_table.c
        result = await connection.execute(
            delete(follow_table).where(f.municipality == municipality, f.person_id == person_id)
        )
        return int(result.rowcount or 0)

    async def page(
        self,
        municipality: str,
        target: FollowTarget,
        target_id: str,
        *,
        after: str | None,
        limit: int,
    ) -> list[str]:
        """Followers in id order after ``after``: a cursor that survives a restart."""
        connection = await self._session.connection()
        f = follow_table.c
        query = select(f.person_id).where(
            f.municipality == municipality, f.target == target.value, f.target_id == target_id
        )
        if after is not None:
            query = query.where(f.person_id > after)
        rows = await connection.execute(query.order_by(f.person_id).limit(limit))
        return [row.person_id for row in rows]


def _follow(row: Any) -> Follow:
    return Follow(
        municipality=row.municipality,
        person_id=row.person_id,
        target=FollowTarget(row.target),
        target_id=row.target_id,
        since=row.since if row.since.tzinfo else row.since.replace(tzinfo=UTC),
    )


class BudgetHolderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(self, holder: BudgetHolder) -> None:
        connection = await self._session.connection()
        await connection.execute(
            _upsert(
                connection, budget_holder_table, holder.model_dump(), ["municipality", "person_id"]
            )
        )

    async def delete(self, municipality: str, person_id: str) -> bool:
        connection = await self._session.connection()
        b = budget_holder_table.c
        result = await connection.execute(
            delete(budget_holder_table).where(
                b.municipality == municipality, b.person_id == person_id
            )
        )
        return bool(result.rowcount)

    async def all(self, municipality: str) -> list[BudgetHolder]:
        connection = await self._session.connection()
        b = budget_holder_table.c
        rows = await connection.execute(
            select(budget_holder_table).where(b.municipality == municipality).order_by(b.person_id)
        )
        return [BudgetHolder.model_validate(dict(row._mapping)) for row in rows]


class RuleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def for_event(self, municipality: str, event_type: str) -> list[Rule]:
        """The defaults and the municipality's own rules for one event type."""
        connection = await self._session.connection()
        r = rule_table.c
        rows = await connection.execute(
            select(rule_table).where(
                r.event_type == event_type,
                r.municipality.in_([ALL_MUNICIPALITIES, municipality]),
            )
        )
        return [_rule(row) for row in rows]

    async def all(self, municipality: str) -> list[Rule]:
        connection = await self._session.connection()
        r = rule_table.c
        rows = await connection.execute(
            select(rule_table)
            .where(r.municipality.in_([ALL_MUNICIPALITIES, municipality]))
            .order_by(r.event_type, r.audience, r.notice, r.municipality)
        )
        return [_rule(row) for row in rows]

    async def save(self, rule: Rule) -> None:
        connection = await self._session.connection()
        values = {
            "municipality": rule.municipality,
            "event_type": rule.event_type,
            "audience": rule.audience.value,
            "notice": rule.notice.value,
            "condition": dict(rule.condition),
            "enabled": rule.enabled,
        }
        await connection.execute(
            _upsert(
                connection,
                rule_table,
                values,
                ["municipality", "event_type", "audience", "notice"],
            )
        )


def _rule(row: Any) -> Rule:
    return Rule(
        municipality=row.municipality,
        event_type=row.event_type,
        audience=Audience(row.audience),
        notice=NoticeKind(row.notice),
        condition=row.condition or {},
        enabled=row.enabled,
    )


class FanoutRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_once(self, job: FanoutJob) -> bool:
        connection = await self._session.connection()
        values = {
            "id": job.id,
            "municipality": job.municipality,
            "audience": job.audience.value,
            "kind": job.kind.value,
            "scope_id": job.scope_id,
            "facts": json.dumps(job.facts, default=_json_default),
            "cause_source": job.cause.source,
            "cause_event_id": job.cause.event_id,
            "cause_event_type": job.cause.event_type,
            "cause_correlation_id": job.cause.correlation_id,
            "cause_traceparent": job.cause.traceparent,
            "cursor": job.cursor,
            "done": job.done,
            "created_at": job.created_at,
        }
        result = await connection.execute(_upsert(connection, fanout_table, values, ["id"]))
        return bool(result.rowcount)

    async def claim_next(self) -> FanoutJob | None:
        """The oldest unfinished job, locked on PostgreSQL so one replica works on it."""
        connection = await self._session.connection()
        f = fanout_table.c
        query = select(fanout_table).where(f.done.is_(False)).order_by(f.created_at).limit(1)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = (await connection.execute(query)).first()
        if row is None:
            return None
        return FanoutJob(
            id=row.id,
            municipality=row.municipality,
            audience=Audience(row.audience),
            kind=NoticeKind(row.kind),
            scope_id=row.scope_id,
            facts=json.loads(row.facts),
            cause=Cause(
                source=row.cause_source,
                event_id=row.cause_event_id,
                event_type=row.cause_event_type,
                correlation_id=row.cause_correlation_id,
                traceparent=row.cause_traceparent,
            ),
            cursor=row.cursor,
            done=row.done,
            created_at=aware(row.created_at),
        )

    async def advance(self, job_id: str, cursor: str | None, *, done: bool) -> None:
        connection = await self._session.connection()
        await connection.execute(
            update(fanout_table).where(fanout_table.c.id == job_id).values(cursor=cursor, done=done)
        )

    async def pending(self) -> int:
        connection = await self._session.connection()
        result = await connection.execute(
            select(fanout_table.c.id).where(fanout_table.c.done.is_(False))
        )
        return len(result.all())


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} as a fact")


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_subscription(self, subscription: WebhookSubscription) -> None:
        connection = await self._session.connection()
        values = subscription.model_dump()
        values.update(
            content_mode=subscription.content_mode.value, status=subscription.status.value
        )
        await connection.execute(insert(subscription_table).values(**values))

    async def subscription(
        self, municipality: str, subscription_id: str
    ) -> WebhookSubscription | None:
        connection = await self._session.connection()
        w = subscription_table.c
        row = (
            await connection.execute(
                select(subscription_table).where(
                    w.id == subscription_id, w.municipality == municipality
                )
            )
        ).first()
        return _subscription(row) if row else None

    async def subscriptions(
        self, municipality: str, *, active_only: bool = False
    ) -> list[WebhookSubscription]:
        connection = await self._session.connection()
        w = subscription_table.c
        query = select(subscription_table).where(w.municipality == municipality)
        if active_only:
            query = query.where(w.status == SubscriptionStatus.ACTIVE.value)
        rows = await connection.execute(query.order_by(w.created_at, w.id))
        return [_subscription(row) for row in rows]

    async def delete_subscription(self, municipality: str, subscription_id: str) -> bool:
        connection = await self._session.connection()
        w = subscription_table.c
        result = await connection.execute(
            delete(subscription_table).where(
                w.id == subscription_id, w.municipality == municipality
            )
        )
        await connection.execute(
            delete(delivery_table).where(
                delivery_table.c.subscription_id == subscription_id,
                delivery_table.c.status == DeliveryStatus.PENDING.value,
            )
        )
        return bool(result.rowcount)

    async def reactivate(self, municipality: str, subscription_id: str, now: datetime) -> bool:
        """Active again; what waited while it was suspended is due now."""
        connection = await self._session.connection()
        w = subscription_table.c
        result = await connection.execute(
            update(subscription_table)
            .where(w.id == subscription_id, w.municipality == municipality)
            .values(
                status=SubscriptionStatus.ACTIVE.value, consecutive_failures=0, suspended_at=None
            )
        )
        d = delivery_table.c
        await connection.execute(
            update(delivery_table)
            .where(d.subscription_id == subscription_id, d.status == DeliveryStatus.PENDING.value)
            .values(next_attempt_at=now)
        )
        return bool(result.rowcount)

    async def add_delivery_once(self, delivery: WebhookDelivery) -> bool:
        connection = await self._session.connection()
        values = delivery.model_dump()
        values.update(status=delivery.status.value, event=json.dumps(delivery.event))
        result = await connection.execute(_upsert(connection, delivery_table, values, ["id"]))
        return bool(result.rowcount)

    async def claim_due(
        self, *, now: datetime, stale_before: datetime, limit: int
    ) -> list[tuple[WebhookDelivery, WebhookSubscription]]:
        """Mark due deliveries of active subscriptions 'sending'; commit before calling out."""
        connection = await self._session.connection()
        d, w = delivery_table.c, subscription_table.c
        query = (
            select(delivery_table)
            .join(subscription_table, w.id == d.subscription_id)
            .where(
                w.status == SubscriptionStatus.ACTIVE.value,
                or_(
                    and_(d.status == DeliveryStatus.PENDING.value, d.next_attempt_at <= now),
                    and_(d.status == DeliveryStatus.SENDING.value, d.claimed_at <= stale_before),
                ),
            )
            .order_by(d.next_attempt_at, d.created_at)
            .limit(limit)
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(of=delivery_table, skip_locked=True)
        deliveries = [_delivery(row) for row in await connection.execute(query)]
        if not deliveries:
            return []
        await connection.execute(
            update(delivery_table)
            .where(d.id.in_([x.id for x in deliveries]))
            .values(status=DeliveryStatus.SENDING.value, attempts=d.attempts + 1, claimed_at=now)
        )
        ids = sorted({x.subscription_id for x in deliveries})
        subscriptions = {
            row.id: _subscription(row)
            for row in await connection.execute(select(subscription_table).where(w.id.in_(ids)))
        }
        return [
            (
                x.model_copy(
                    update={
                        "status": DeliveryStatus.SENDING,
                        "attempts": x.attempts + 1,
                        "claimed_at": now,
                    }
                ),
                subscriptions[x.subscription_id],
            )
            for x in deliveries
        ]

    async def release(self, delivery_ids: Sequence[str], now: datetime) -> None:
        """Claimed but not called (their subscription was just suspended): back in line."""
        if not delivery_ids:
            return
        connection = await self._session.connection()
        d = delivery_table.c
        await connection.execute(
            update(delivery_table)
            .where(d.id.in_(list(delivery_ids)), d.status == DeliveryStatus.SENDING.value)
            .values(
                status=DeliveryStatus.PENDING.value, attempts=d.attempts - 1, next_attempt_at=now
            )
        )

    async def log_attempt(self, attempt: DeliveryAttempt) -> None:
        connection = await self._session.connection()
        await connection.execute(insert(attempt_table).values(**attempt.model_dump()))

    async def finish(
        self,
        delivery_id: str,
        *,
        status: DeliveryStatus,
        now: datetime,
        status_code: int | None,
        error: str | None,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        connection = await self._session.connection()
        d = delivery_table.c
        result = await connection.execute(
            update(delivery_table)
            .where(d.id == delivery_id, d.status == DeliveryStatus.SENDING.value)
            .values(
                status=status.value,
                delivered_at=now if status is DeliveryStatus.DELIVERED else None,
                last_status_code=status_code,
                last_error=error,
                next_attempt_at=next_attempt_at,
            )
        )
        return bool(result.rowcount)

    async def count_outcome(self, subscription_id: str, *, success: bool) -> int:
        """Reset or bump the subscription's run of failed calls; return the run's length."""
        connection = await self._session.connection()
        w = subscription_table.c
        new = 0 if success else w.consecutive_failures + 1
        await connection.execute(
            update(subscription_table)
            .where(w.id == subscription_id)
            .values(consecutive_failures=new)
        )
        return int(
            await connection.scalar(select(w.consecutive_failures).where(w.id == subscription_id))
            or 0
        )

    async def suspend(self, subscription_id: str, now: datetime) -> bool:
        connection = await self._session.connection()
        w = subscription_table.c
        result = await connection.execute(
            update(subscription_table)
            .where(w.id == subscription_id, w.status == SubscriptionStatus.ACTIVE.value)
            .values(status=SubscriptionStatus.SUSPENDED.value, suspended_at=now)
        )
        return bool(result.rowcount)

    async def deliveries(
        self, subscription_id: str, *, status: DeliveryStatus | None = None, limit: int = 100
    ) -> list[WebhookDelivery]:
        connection = await self._session.connection()
        d = delivery_table.c
        query = select(delivery_table).where(d.subscription_id == subscription_id)
        if status is not None:
            query = query.where(d.status == status.value)
        rows = await connection.execute(query.order_by(d.created_at, d.id).limit(limit))
        return [_delivery(row) for row in rows]

    async def attempts(self, delivery_ids: Sequence[str]) -> list[DeliveryAttempt]:
        if not delivery_ids:
            return []
        connection = await self._session.connection()
        a = attempt_table.c
        rows = await connection.execute(
            select(attempt_table)
            .where(a.delivery_id.in_(list(delivery_ids)))
            .order_by(a.delivery_id, a.attempt, a.id)
        )
        return [
            DeliveryAttempt(
                delivery_id=row.delivery_id,
                attempt=row.attempt,
                at=aware(row.at),
                status_code=row.status_code,
                error=row.error,
                duration_ms=row.duration_ms,
            )
            for row in rows
        ]


def _subscription(row: Any) -> WebhookSubscription:
    values = dict(row._mapping)
    values["content_mode"] = ContentMode(values["content_mode"])
    values["status"] = SubscriptionStatus(values["status"])
    for name in ("suspended_at", "created_at"):
        values[name] = aware(values[name])
    return WebhookSubscription.model_validate(values)


def _delivery(row: Any) -> WebhookDelivery:
    values = dict(row._mapping)
    values["event"] = json.loads(values["event"])
    values["status"] = DeliveryStatus(values["status"])
    for name in ("next_attempt_at", "claimed_at", "delivered_at", "created_at"):
        values[name] = aware(values[name])
    return WebhookDelivery.model_validate(values)
