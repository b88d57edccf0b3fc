"""Loads and stores councils, routing rules, advice rounds, consultations, agenda items and
meetings."""

from __future__ import annotations

import builtins
from collections.abc import Collection
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
from shared.messaging.new_rows import NewRows
from shared.messaging.read_cache import ReadCache

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
    """One aggregate per row, scoped by municipality.

    ``reference`` lists a municipality's aggregates once per unit of work (``cache``); every
    write through the repository forgets that municipality's cached list. Given the unit of
    work's ``new_rows``, :meth:`add` collects a new aggregate's row there for one insert per
    table at commit; every read of the table writes the collected rows first, so it sees them
    as it would have seen flushed ORM objects.
    """

    model: type[M]
    row: Any
    order: str = "id"

    def __init__(
        self,
        session: AsyncSession,
        cache: ReadCache | None = None,
        new_rows: NewRows | None = None,
    ) -> None:
        self._session = session
        self._cache = cache if cache is not None else ReadCache()
        self._new_rows = new_rows

    def _to_model(self, row: Any) -> M:
        return self.model.model_validate(row, from_attributes=True)

    async def get(self, municipality: str, key: str, *, lock: bool = False) -> M | None:
        await self._write_new_rows()
        query = select(self.row).where(self.row.id == key, self.row.municipality == municipality)
        row = (await self._session.exec(query.with_for_update() if lock else query)).first()
        return self._to_model(row) if row else None

    async def list(self, municipality: str, **equal: Any) -> list[M]:
        await self._write_new_rows()
        query = select(self.row).where(self.row.municipality == municipality)
        for name, value in equal.items():
            if value is not None:
                query = query.where(getattr(self.row, name) == value)
        rows = (await self._session.exec(query.order_by(getattr(self.row, self.order)))).all()
        return [self._to_model(row) for row in rows]

    async def reference(self, municipality: str) -> builtins.list[M]:
        """All of a municipality's aggregates, loaded once per unit of work: for reference
        data read for every event of a batch. The models are shared: do not change them."""
        kind = self.row.__tablename__
        return await self._cache.get((kind, municipality), lambda: self.list(municipality))

    async def save(self, model: M) -> None:
        self._forget(getattr(model, "municipality"))  # noqa: B009
        key = getattr(model, "id")  # noqa: B009
        # Added in this unit of work and not written yet: the insert takes the new values.
        if self._new_rows is not None and self._new_rows.replace(
            self.row.__table__, key, model.model_dump(mode="json")
        ):
            return
        await _store(self._session, self.row, key, model)

    async def add(self, model: M) -> None:
        """Store an aggregate that is new (a fresh id): no lookup of a row that cannot exist."""
        self._forget(getattr(model, "municipality"))  # noqa: B009
        values = model.model_dump(mode="json")
        if self._new_rows is None:
            self._session.add(self.row(**values))
            return
        self._new_rows.add(self.row.__table__, values["id"], values)

    async def _write_new_rows(self) -> None:
        """Insert this table's collected rows now, before a query that must see them."""
        if self._new_rows is not None and len(self._new_rows):
            await self._new_rows.write(await self._session.connection(), self.row.__table__)

    def _forget(self, municipality: str) -> None:
        self._cache.invalidate(self.row.__tablename__, municipality)


class CouncilRepository(_Repository[Council]):
    model, row, order = Council, CouncilRow, "name"


class RoutingRuleRepository(_Repository[RoutingRule]):
    model, row = RoutingRule, RoutingRuleRow

    async def delete(self, municipality: str, rule_id: str) -> bool:
        self._forget(municipality)
        await self._write_new_rows()
        result = await self._session.exec(
            delete(RoutingRuleRow).where(
                col(RoutingRuleRow.id) == rule_id, col(RoutingRuleRow.municipality) == municipality
            )
        )
        return bool(result.rowcount)


class AdviceRoundRepository(_Repository[AdviceRound]):
    model, row = AdviceRound, AdviceRoundRow

    def __init__(
        self,
        session: AsyncSession,
        cache: ReadCache | None = None,
        new_rows: NewRows | None = None,
    ) -> None:
        super().__init__(session, cache, new_rows)
        # Per unit of work: subjects known to have a round, and subjects already looked up.
        self._subjects_present: set[tuple[str, str, str]] = set()
        self._subjects_checked: set[tuple[str, str, str]] = set()

    async def add(self, model: AdviceRound) -> None:
        self._subjects_present.add((model.municipality, model.subject_kind, model.subject_id))
        await super().add(model)

    async def save(self, model: AdviceRound) -> None:
        # Perhaps not flushed yet: remembered, so has_subject need not flush to see it.
        self._subjects_present.add((model.municipality, model.subject_kind, model.subject_id))
        await super().save(model)

    async def look_up_subjects(
        self, municipality: str, kind: str, subject_ids: Collection[str]
    ) -> None:
        """Find out in one query which of these subjects have a round, for :meth:`has_subject`
        (a consumer's batch asks for all its events at once instead of once per event)."""
        checked = self._subjects_checked
        unknown = [s for s in dict.fromkeys(subject_ids) if (municipality, kind, s) not in checked]
        if not unknown:
            return
        with self._session.no_autoflush:
            found = await self._session.exec(
                select(AdviceRoundRow.subject_id).where(
                    AdviceRoundRow.municipality == municipality,
                    AdviceRoundRow.subject_kind == kind,
                    col(AdviceRoundRow.subject_id).in_(unknown),
                )
            )
            self._subjects_present.update((municipality, kind, s) for s in found.all())
        self._subjects_checked.update((municipality, kind, s) for s in unknown)

    async def has_subject(self, municipality: str, kind: str, subject_id: str) -> bool:
        """Whether a round on this subject exists, without flushing the session.

        A consumed batch adds many rounds; an autoflush before each lookup wrote them one by
        one. Rounds this unit of work added are known here, and so are the subjects looked up
        beforehand, so only the rest need a query, which need not see unflushed rows.
        """
        subject = (municipality, kind, subject_id)
        if subject in self._subjects_present:
            return True
        if subject in self._subjects_checked:
            return False
        await self.look_up_subjects(municipality, kind, [subject_id])
        return subject in self._subjects_present

    async def for_subject(
        self, municipality: str, kind: str, subject_id: str
    ) -> AdviceRound | None:
        await self._write_new_rows()
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
