"""Loads and stores initiatives and initiative types."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.initiatives.domain.model import Initiative, InitiativeType
from services.initiatives.persistence.tables import InitiativeRow, InitiativeTypeRow


class InitiativeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(
        self, municipality: str, initiative_id: str, *, lock: bool = False
    ) -> Initiative | None:
        query = select(InitiativeRow).where(
            InitiativeRow.id == initiative_id, InitiativeRow.municipality == municipality
        )
        if lock:
            query = query.with_for_update()
        row = (await self._session.exec(query)).first()
        return Initiative.model_validate(row, from_attributes=True) if row else None

    async def list(
        self, municipality: str, *, status: str | None, limit: int, offset: int
    ) -> list[Initiative]:
        query = select(InitiativeRow).where(InitiativeRow.municipality == municipality)
        if status:
            query = query.where(InitiativeRow.status == status)
        query = query.order_by(InitiativeRow.id).limit(limit).offset(offset)
        rows = (await self._session.exec(query)).all()
        return [Initiative.model_validate(row, from_attributes=True) for row in rows]

    async def save(self, initiative: Initiative) -> None:
        values = initiative.model_dump(mode="json")
        row = await self._session.get(InitiativeRow, initiative.id)
        if row is None:
            self._session.add(InitiativeRow(**values))
            return
        for name, value in values.items():
            setattr(row, name, value)
        row.version += 1
        self._session.add(row)


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
                .order_by(InitiativeTypeRow.code)
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
