"""Loads and stores alternative budgets (alternatieve begrotingen)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic import TypeAdapter
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.budgets.domain.alternative import (
    AlternativeBudget,
    CoSignature,
    CouncilDecision,
    Line,
    Status,
)
from services.budgets.persistence.tables import AlternativeBudgetRow

LINES = TypeAdapter(list[Line])
SIGNATURES = TypeAdapter(list[CoSignature])


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands timestamps back without their offset; they were written in UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _alternative(row: AlternativeBudgetRow) -> AlternativeBudget:
    created_at = _aware(row.created_at)
    assert created_at is not None
    return AlternativeBudget(
        id=row.id,
        municipality=row.municipality,
        budget_id=row.budget_id,
        neighbourhood=row.neighbourhood,
        year=row.year,
        title=row.title,
        drafter_id=row.drafter_id,
        lines=LINES.validate_json(row.lines),
        co_signatures=SIGNATURES.validate_json(row.co_signatures),
        status=Status(row.status),
        created_at=created_at,
        submitted_at=_aware(row.submitted_at),
        submitted_by=row.submitted_by,
        decision=CouncilDecision.model_validate_json(row.decision) if row.decision else None,
    )


class AlternativeBudgetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(
        self, municipality: str, alternative_id: str, *, lock: bool = False
    ) -> AlternativeBudget | None:
        """With ``lock`` the row stays locked until the transaction ends: changes serialise."""
        query = select(AlternativeBudgetRow).where(
            AlternativeBudgetRow.id == alternative_id,
            AlternativeBudgetRow.municipality == municipality,
        )
        if lock:
            query = query.with_for_update()
        row = (await self._session.exec(query)).first()
        return _alternative(row) if row else None

    async def of_budget(self, municipality: str, budget_id: str) -> list[AlternativeBudget]:
        query = (
            select(AlternativeBudgetRow)
            .where(
                AlternativeBudgetRow.municipality == municipality,
                AlternativeBudgetRow.budget_id == budget_id,
            )
            .order_by(col(AlternativeBudgetRow.created_at), col(AlternativeBudgetRow.id))
        )
        return [_alternative(row) for row in (await self._session.exec(query)).all()]

    async def save(self, alternative: AlternativeBudget) -> None:
        row = await self._session.get(AlternativeBudgetRow, alternative.id)
        if row is None:
            row = AlternativeBudgetRow(
                id=alternative.id,
                municipality=alternative.municipality,
                budget_id=alternative.budget_id,
                neighbourhood=alternative.neighbourhood,
                year=alternative.year,
                drafter_id=alternative.drafter_id,
                created_at=alternative.created_at,
                title="",
                status="",
                lines="[]",
                co_signatures="[]",
            )
        row.title = alternative.title
        row.status = alternative.status.value
        row.lines = json.dumps([line.model_dump(mode="json") for line in alternative.lines])
        row.co_signatures = json.dumps(
            [signature.model_dump(mode="json") for signature in alternative.co_signatures]
        )
        row.decision = alternative.decision.model_dump_json() if alternative.decision else None
        row.submitted_at = alternative.submitted_at
        row.submitted_by = alternative.submitted_by
        self._session.add(row)
