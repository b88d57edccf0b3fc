"""Loads and stores initiatives, their supporters, initiative types and neighbourhood reports."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.initiatives.domain.model import Initiative, InitiativeType
from services.initiatives.domain.reports import Report
from services.initiatives.persistence.tables import (
    JSON_COLUMNS,
    InitiativeRow,
    InitiativeTypeRow,
    ReportRow,
    SupporterRow,
)
from shared import clock


class InitiativeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._loaded_supporters: dict[str, set[str]] = {}

    async def get(
        self,
        municipality: str,
        initiative_id: str,
        *,
        lock: bool = False,
        supporters: Iterable[str] = (),
    ) -> Initiative | None:
        """The initiative, knowing of ``supporters`` whether they support it.

        Only the residents a command is about are looked up: loading every supporter would make
        each support cost more than the one before (the count is a column of its own).
        """
        query = select(InitiativeRow).where(
            InitiativeRow.id == initiative_id, InitiativeRow.municipality == municipality
        )
        if lock:
            query = query.with_for_update()
        row = (await self._session.exec(query)).first()
        if row is None:
            return None
        initiative = Initiative.model_validate(row, from_attributes=True)
        asked = set(supporters)
        known = (
            set(
                (
                    await self._session.exec(
                        select(SupporterRow.supporter_id).where(
                            SupporterRow.initiative_id == initiative_id,
                            col(SupporterRow.supporter_id).in_(asked),
                        )
                    )
                ).all()
            )
            if asked
            else set()
        )
        initiative.supporters = set(known)
        self._loaded_supporters[initiative_id] = known
        return initiative

    async def list(
        self,
        municipality: str,
        *,
        status: str | None = None,
        neighbourhood: str | None = None,
        initiative_type: str | None = None,
        theme: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Initiative]:
        query = select(InitiativeRow).where(InitiativeRow.municipality == municipality)
        for column, value in (
            (InitiativeRow.status, status),
            (InitiativeRow.neighbourhood, neighbourhood),
            (InitiativeRow.initiative_type, initiative_type),
            (InitiativeRow.theme, theme),
        ):
            if value:
                query = query.where(column == value)
        query = query.order_by(col(InitiativeRow.id)).limit(limit).offset(offset)
        rows = (await self._session.exec(query)).all()
        return [Initiative.model_validate(row, from_attributes=True) for row in rows]

    async def save(self, initiative: Initiative) -> None:
        values = initiative.model_dump(exclude=set(JSON_COLUMNS))
        values.update(initiative.model_dump(mode="json", include=set(JSON_COLUMNS)))
        row = await self._session.get(InitiativeRow, initiative.id)
        if row is None:
            self._session.add(InitiativeRow(**values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
            row.version += 1
            self._session.add(row)
        await self._save_supporters(initiative)

    async def _save_supporters(self, initiative: Initiative) -> None:
        before = self._loaded_supporters.get(initiative.id, set())
        added, removed = initiative.supporters - before, before - initiative.supporters
        if not (added or removed):
            return
        await self._session.flush()  # the initiative row first
        connection = await self._session.connection()
        if removed:
            await connection.execute(
                delete(SupporterRow).where(
                    col(SupporterRow.initiative_id) == initiative.id,
                    col(SupporterRow.supporter_id).in_(removed),
                )
            )
        if added:
            now = clock.now()
            channels = {
                getattr(e, "supporter_id", None): getattr(e, "channel", "digital")
                for e in initiative.pending_events
            }
            await connection.execute(
                insert(SupporterRow),
                [
                    {
                        "initiative_id": initiative.id,
                        "supporter_id": supporter,
                        "channel": channels.get(supporter, "digital"),
                        "supported_at": now,
                    }
                    for supporter in sorted(added)
                ],
            )
        self._loaded_supporters[initiative.id] = set(initiative.supporters)


class InitiativeTypeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, municipality: str, code: str) -> InitiativeType | None:
        row = (
            await self._session.exec(
                select(InitiativeTypeRow).where(
                    InitiativeTypeRow.municipality == municipality, InitiativeTypeRow.code == code
                )
            )
        ).first()
        return InitiativeType.model_validate(row, from_attributes=True) if row else None

    async def list(self, municipality: str) -> list[InitiativeType]:
        rows = (
            await self._session.exec(
                select(InitiativeTypeRow)
                .where(InitiativeTypeRow.municipality == municipality)
                .order_by(col(InitiativeTypeRow.code))
            )
        ).all()
        return [InitiativeType.model_validate(row, from_attributes=True) for row in rows]

    async def save(self, kind: InitiativeType) -> None:
        row = (
            await self._session.exec(
                select(InitiativeTypeRow).where(
                    InitiativeTypeRow.municipality == kind.municipality,
                    InitiativeTypeRow.code == kind.code,
                )
            )
        ).first()
        values = kind.model_dump(mode="json")
        if row is None:
            row = InitiativeTypeRow(**values)
        else:
            for name, value in values.items():
                setattr(row, name, value)
        self._session.add(row)


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, municipality: str, report_id: str, *, lock: bool = False) -> Report | None:
        query = select(ReportRow).where(
            ReportRow.id == report_id, ReportRow.municipality == municipality
        )
        if lock:
            query = query.with_for_update()
        row = (await self._session.exec(query)).first()
        return Report.model_validate(row, from_attributes=True) if row else None

    async def list(
        self,
        municipality: str,
        *,
        status: str | None = None,
        neighbourhood: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Report]:
        query = select(ReportRow).where(ReportRow.municipality == municipality)
        if status:
            query = query.where(ReportRow.status == status)
        if neighbourhood:
            query = query.where(ReportRow.neighbourhood == neighbourhood)
        query = query.order_by(col(ReportRow.received_at)).limit(limit).offset(offset)
        rows = (await self._session.exec(query)).all()
        return [Report.model_validate(row, from_attributes=True) for row in rows]

    async def save(self, report: Report) -> None:
        values = report.model_dump()
        row = await self._session.get(ReportRow, report.id)
        if row is None:
            row = ReportRow(**values)
        else:
            for name, value in values.items():
                setattr(row, name, value)
        self._session.add(row)
