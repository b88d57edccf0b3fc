"""Loads and stores councils, routing rules, advice rounds, consultations, agenda items and
meetings."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlmodel import SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.advisory.domain.agenda import AgendaItem, Meeting
from services.advisory.domain.consultations import Consultation
from services.advisory.domain.model import AdviceRound, Council
from services.advisory.domain.routing import RoutingRule
from services.advisory.persistence.tables import (
    AdviceRoundRow,
    AgendaItemRow,
    ConsultationRow,
    CouncilRow,
    MeetingRow,
    RoutingRuleRow,
)

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


class _Repository(Generic[M]):
    """One aggregate per row, scoped by municipality."""

    model: type[M]
    row: Any
    order: str = "id"

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _to_model(self, row: Any) -> M:
        return self.model.model_validate(row, from_attributes=True)

    async def get(self, municipality: str, key: str, *, lock: bool = False) -> M | None:
        query = select(self.row).where(self.row.id == key, self.row.municipality == municipality)
        row = (await self._session.exec(query.with_for_update() if lock else query)).first()
        return self._to_model(row) if row else None

    async def list(self, municipality: str, **equal: Any) -> list[M]:
        query = select(self.row).where(self.row.municipality == municipality)
        for name, value in equal.items():
            if value is not None:
                query = query.where(getattr(self.row, name) == value)
        rows = (await self._session.exec(query.order_by(getattr(self.row, self.order)))).all()
        return [self._to_model(row) for row in rows]

    async def save(self, model: M) -> None:
        await _store(self._session, self.row, getattr(model, "id"), model)  # noqa: B009


class CouncilRepository(_Repository[Council]):
    model, row, order = Council, CouncilRow, "name"


class RoutingRuleRepository(_Repository[RoutingRule]):
    model, row = RoutingRule, RoutingRuleRow

    async def delete(self, municipality: str, rule_id: str) -> bool:
        result = await self._session.exec(
            delete(RoutingRuleRow).where(
                col(RoutingRuleRow.id) == rule_id, col(RoutingRuleRow.municipality) == municipality
            )
        )
        return bool(result.rowcount)


class AdviceRoundRepository(_Repository[AdviceRound]):
    model, row = AdviceRound, AdviceRoundRow

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
        return self._to_model(row) if row else None


class ConsultationRepository(_Repository[Consultation]):
    model, row = Consultation, ConsultationRow


class AgendaItemRepository(_Repository[AgendaItem]):
    model, row, order = AgendaItem, AgendaItemRow, "proposed_at"


class MeetingRepository(_Repository[Meeting]):
    model, row, order = Meeting, MeetingRow, "starts_at"
