"""Loads and stores councils and advice rounds."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.advisory.domain.model import AdviceRound, Council
from services.advisory.persistence.tables import AdviceRoundRow, CouncilRow

M = TypeVar("M", bound=BaseModel)


async def _store(
    session: AsyncSession, row_type: type[SQLModel], key: Any, model: BaseModel
) -> None:
    values = model.model_dump(mode="json")
    row = await session.get(row_type, key)
    if row is None:
        session.add(row_type(**values))
        return
    for name, value in values.items():
        setattr(row, name, value)
    session.add(row)


class CouncilRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(
        self, municipality: str, council_id: str, *, lock: bool = False
    ) -> Council | None:
        query = select(CouncilRow).where(
            CouncilRow.id == council_id, CouncilRow.municipality == municipality
        )
        row = (await self._session.exec(query.with_for_update() if lock else query)).first()
        return Council.model_validate(row, from_attributes=True) if row else None

    async def list(self, municipality: str) -> list[Council]:
        rows = (
            await self._session.exec(
                select(CouncilRow)
                .where(CouncilRow.municipality == municipality)
                .order_by(CouncilRow.name)
            )
        ).all()
        return [Council.model_validate(row, from_attributes=True) for row in rows]

    async def save(self, council: Council) -> None:
        await _store(self._session, CouncilRow, council.id, council)


class AdviceRoundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(
        self, municipality: str, round_id: str, *, lock: bool = False
    ) -> AdviceRound | None:
        query = select(AdviceRoundRow).where(
            AdviceRoundRow.id == round_id, AdviceRoundRow.municipality == municipality
        )
        row = (await self._session.exec(query.with_for_update() if lock else query)).first()
        return AdviceRound.model_validate(row, from_attributes=True) if row else None

    async def for_subject(
        self, municipality: str, kind: str, subject_id: str
    ) -> AdviceRound | None:
        row = (
            await self._session.exec(
                select(AdviceRoundRow).where(
                    AdviceRoundRow.municipality == municipality,
                    AdviceRoundRow.subject_kind == kind,
                    AdviceRoundRow.subject_id == subject_id,
                )
            )
        ).first()
        return AdviceRound.model_validate(row, from_attributes=True) if row else None

    async def list(self, municipality: str, status: str | None) -> list[AdviceRound]:
        query = select(AdviceRoundRow).where(AdviceRoundRow.municipality == municipality)
        if status:
            query = query.where(AdviceRoundRow.status == status)
        rows = (await self._session.exec(query.order_by(AdviceRoundRow.id))).all()
        return [AdviceRound.model_validate(row, from_attributes=True) for row in rows]

    async def save(self, advice_round: AdviceRound) -> None:
        await _store(self._session, AdviceRoundRow, advice_round.id, advice_round)
