"""Loads and stores budgets, ledger entries and allocations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import case, delete, func
from sqlalchemy import select as select_rows
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.budgets.domain.earmarks import EarmarkPosition
from services.budgets.domain.model import (
    Account,
    Allocation,
    AllocationOutcome,
    Balances,
    Budget,
    BudgetKind,
    EntryKind,
    LedgerEntry,
    Movement,
    ReleaseReason,
)
from services.budgets.domain.payments import InitiativePosition
from services.budgets.persistence.tables import (
    AllocationRow,
    BudgetRow,
    CostPlanLineRow,
    LedgerEntryRow,
)


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their offset; they were written in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _budget(row: BudgetRow) -> Budget:
    return Budget(
        id=row.id,
        municipality=row.municipality,
        kind=BudgetKind(row.kind),
        neighbourhood=row.neighbourhood,
        year=row.year,
        max_per_initiative_cents=row.max_per_initiative_cents,
        opened_at=_aware(row.opened_at),
        opened_by=row.opened_by,
    )


class BudgetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, municipality: str, budget_id: str, *, lock: bool = False) -> Budget | None:
        query = select(BudgetRow).where(
            BudgetRow.id == budget_id, BudgetRow.municipality == municipality
        )
        if lock:
            query = query.with_for_update()
        row = (await self._session.exec(query)).first()
        return _budget(row) if row else None

    async def find(self, municipality: str, scope: str, *, lock: bool = False) -> Budget | None:
        """The municipality's budget for a scope (``BU.../year`` or the fund), if any.

        With ``lock`` the budget's row stays locked until the transaction ends: whoever
        reserves from a budget holds this lock while deriving its balance and appending.
        """
        query = select(BudgetRow).where(
            BudgetRow.municipality == municipality, BudgetRow.scope == scope
        )
        if lock:
            query = query.with_for_update()
        row = (await self._session.exec(query)).first()
        return _budget(row) if row else None

    async def list(
        self,
        municipality: str,
        *,
        kind: BudgetKind | None = None,
        year: int | None = None,
        neighbourhood: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Budget]:
        query = select(BudgetRow).where(BudgetRow.municipality == municipality)
        if kind is not None:
            query = query.where(BudgetRow.kind == kind.value)
        if year is not None:
            query = query.where(BudgetRow.year == year)
        if neighbourhood is not None:
            query = query.where(BudgetRow.neighbourhood == neighbourhood)
        query = (
            query.order_by(
                col(BudgetRow.kind),
                col(BudgetRow.neighbourhood),
                col(BudgetRow.year),
                col(BudgetRow.id),
            )
            .limit(limit)
            .offset(offset)
        )
        return [_budget(row) for row in (await self._session.exec(query)).all()]

    def add(self, budget: Budget) -> None:
        self._session.add(
            BudgetRow(
                id=budget.id,
                municipality=budget.municipality,
                kind=budget.kind.value,
                scope=budget.scope,
                neighbourhood=budget.neighbourhood,
                year=budget.year,
                max_per_initiative_cents=budget.max_per_initiative_cents,
                opened_at=budget.opened_at,
                opened_by=budget.opened_by,
            )
        )


class LedgerRepository:
    """The append-only ledger: entries go in, sums come out."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def append(self, entry: LedgerEntry) -> None:
        self._session.add(
            LedgerEntryRow(
                budget_id=entry.budget_id,
                municipality=entry.municipality,
                initiative_id=entry.initiative_id,
                kind=entry.kind.value,
                debit_account=entry.debit_account.value,
                credit_account=entry.credit_account.value,
                amount_cents=entry.amount_cents,
                at=entry.at,
                note=entry.note,
                cost_line=entry.cost_line,
                release_reason=entry.release_reason.value if entry.release_reason else None,
                corrects_entry_id=entry.corrects_entry_id,
                recorded_by=entry.recorded_by,
                earmark=entry.earmark,
            )
        )

    async def balances(self, budget_id: str) -> Balances:
        return (await self.balances_of([budget_id]))[budget_id]

    async def balances_of(self, budget_ids: Sequence[str]) -> dict[str, Balances]:
        """Each budget's balances, summed by the database from its entries."""
        movements: dict[str, list[Movement]] = defaultdict(list)
        if budget_ids:
            # Pending entries of this transaction count too.
            await self._session.flush()
            entries = LedgerEntryRow.__table__.c  # type: ignore[attr-defined]
            query = (
                select_rows(
                    entries.budget_id,
                    entries.kind,
                    entries.debit_account,
                    entries.credit_account,
                    func.sum(entries.amount_cents),
                )
                .where(entries.budget_id.in_(budget_ids))
                .group_by(
                    entries.budget_id, entries.kind, entries.debit_account, entries.credit_account
                )
            )
            connection = await self._session.connection()
            for budget_id, kind, debit, credit, total in await connection.execute(query):
                movements[budget_id].append(
                    Movement(
                        kind=EntryKind(kind),
                        debit_account=Account(debit),
                        credit_account=Account(credit),
                        amount_cents=int(total),  # PostgreSQL sums bigints as numeric
                    )
                )
        return {budget_id: Balances.derive(movements[budget_id]) for budget_id in budget_ids}

    async def entries(self, budget_id: str, *, limit: int, offset: int) -> list[LedgerEntry]:
        query = (
            select(LedgerEntryRow)
            .where(LedgerEntryRow.budget_id == budget_id)
            .order_by(col(LedgerEntryRow.id))
            .limit(limit)
            .offset(offset)
        )
        return [_entry(row) for row in (await self._session.exec(query)).all()]

    async def entries_of_initiative(
        self, municipality: str, initiative_id: str
    ) -> list[LedgerEntry]:
        query = (
            select(LedgerEntryRow)
            .where(
                LedgerEntryRow.municipality == municipality,
                LedgerEntryRow.initiative_id == initiative_id,
            )
            .order_by(col(LedgerEntryRow.id))
        )
        return [_entry(row) for row in (await self._session.exec(query)).all()]

    async def entry(self, budget_id: str, entry_id: int) -> LedgerEntry | None:
        query = select(LedgerEntryRow).where(
            LedgerEntryRow.budget_id == budget_id, LedgerEntryRow.id == entry_id
        )
        row = (await self._session.exec(query)).first()
        return _entry(row) if row else None

    async def reversed_cents(self, entry_id: int) -> int:
        """How much of an entry later corrections have already undone."""
        await self._session.flush()
        query = select(func.coalesce(func.sum(LedgerEntryRow.amount_cents), 0)).where(
            LedgerEntryRow.corrects_entry_id == entry_id
        )
        return int((await self._session.exec(query)).one())

    async def position(self, budget_id: str, initiative_id: str) -> InitiativePosition:
        """One initiative's position within a budget, summed by the database."""
        movements = await self._movements(budget_id, initiative_id)
        return InitiativePosition.derive(movements.get(initiative_id, []))

    async def positions(
        self, budget_ids: Sequence[str]
    ) -> dict[tuple[str, str], InitiativePosition]:
        """Every initiative's position in these budgets, keyed by (budget id, initiative id)."""
        result: dict[tuple[str, str], InitiativePosition] = {}
        for budget_id in budget_ids:
            for initiative_id, movements in (await self._movements(budget_id, None)).items():
                result[(budget_id, initiative_id)] = InitiativePosition.derive(movements)
        return result

    async def _movements(
        self, budget_id: str, initiative_id: str | None
    ) -> dict[str, list[Movement]]:
        await self._session.flush()
        entries = LedgerEntryRow.__table__.c  # type: ignore[attr-defined]
        query = (
            select_rows(
                entries.initiative_id,
                entries.kind,
                entries.debit_account,
                entries.credit_account,
                func.sum(entries.amount_cents),
            )
            .where(entries.budget_id == budget_id, entries.initiative_id.is_not(None))
            .group_by(
                entries.initiative_id, entries.kind, entries.debit_account, entries.credit_account
            )
        )
        if initiative_id is not None:
            query = query.where(entries.initiative_id == initiative_id)
        movements: dict[str, list[Movement]] = defaultdict(list)
        connection = await self._session.connection()
        for initiative, kind, debit, credit, total in await connection.execute(query):
            movements[initiative].append(
                Movement(
                    kind=EntryKind(kind),
                    debit_account=Account(debit),
                    credit_account=Account(credit),
                    amount_cents=int(total),
                )
            )
        return movements

    async def earmarks_of(
        self, budget_ids: Sequence[str], *, theme: str | None = None
    ) -> dict[str, dict[str, EarmarkPosition]]:
        """Each budget's earmarks by theme (or only ``theme``'s), summed by the database from
        the entries naming them."""
        found: dict[str, dict[str, EarmarkPosition]] = {budget_id: {} for budget_id in budget_ids}
        if not budget_ids:
            return found
        await self._session.flush()
        entries = LedgerEntryRow.__table__.c  # type: ignore[attr-defined]
        query = (
            select_rows(
                entries.budget_id,
                entries.earmark,
                entries.kind,
                entries.debit_account,
                entries.credit_account,
                func.sum(entries.amount_cents),
            )
            .where(entries.budget_id.in_(budget_ids), entries.earmark.is_not(None))
            .group_by(
                entries.budget_id,
                entries.earmark,
                entries.kind,
                entries.debit_account,
                entries.credit_account,
            )
        )
        if theme is not None:
            query = query.where(entries.earmark == theme)
        movements: dict[tuple[str, str], list[Movement]] = defaultdict(list)
        connection = await self._session.connection()
        for budget_id, named, kind, debit, credit, total in await connection.execute(query):
            movements[(budget_id, named)].append(
                Movement(
                    kind=EntryKind(kind),
                    debit_account=Account(debit),
                    credit_account=Account(credit),
                    amount_cents=int(total),
                )
            )
        for (budget_id, named), moved in sorted(movements.items()):
            found[budget_id][named] = EarmarkPosition.derive(named, moved)
        return found

    async def earmarks(self, budget_id: str) -> dict[str, EarmarkPosition]:
        return (await self.earmarks_of([budget_id]))[budget_id]

    async def earmark(self, budget_id: str, theme: str) -> EarmarkPosition | None:
        """One theme's earmark in a budget, if it has one."""
        return (await self.earmarks_of([budget_id], theme=theme))[budget_id].get(theme)

    async def earmark_of_initiative(self, budget_id: str, initiative_id: str) -> str | None:
        """The earmark an initiative was reserved under, if any: its later entries name it too."""
        query = select(LedgerEntryRow.earmark).where(
            LedgerEntryRow.budget_id == budget_id,
            LedgerEntryRow.initiative_id == initiative_id,
            LedgerEntryRow.kind == EntryKind.RESERVED.value,
            col(LedgerEntryRow.earmark).is_not(None),
        )
        return (await self._session.exec(query)).first()

    async def spending_by_cost_line(
        self, municipality: str, initiative_ids: Sequence[str]
    ) -> dict[tuple[str, str], int]:
        """Net actual costs per (initiative, cost line): reports minus their corrections."""
        await self._session.flush()
        entries = LedgerEntryRow.__table__.c  # type: ignore[attr-defined]
        sign = case((entries.kind == EntryKind.CORRECTION.value, -1), else_=1)
        query = (
            select_rows(
                entries.initiative_id, entries.cost_line, func.sum(sign * entries.amount_cents)
            )
            .where(
                entries.municipality == municipality,
                entries.initiative_id.in_(initiative_ids),
                entries.cost_line.is_not(None),
            )
            .group_by(entries.initiative_id, entries.cost_line)
        )
        connection = await self._session.connection()
        return {
            (initiative, line): int(total)
            for initiative, line, total in await connection.execute(query)
        }


def _entry(row: LedgerEntryRow) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        budget_id=row.budget_id,
        municipality=row.municipality,
        initiative_id=row.initiative_id,
        kind=EntryKind(row.kind),
        debit_account=Account(row.debit_account),
        credit_account=Account(row.credit_account),
        amount_cents=row.amount_cents,
        at=_aware(row.at),
        note=row.note,
        cost_line=row.cost_line,
        release_reason=ReleaseReason(row.release_reason) if row.release_reason else None,
        corrects_entry_id=row.corrects_entry_id,
        recorded_by=row.recorded_by,
        earmark=row.earmark,
    )


class CostPlanRepository:
    """Approved initiatives' cost plans; a new plan replaces the old one."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def replace(
        self, municipality: str, initiative_id: str, lines: Sequence[tuple[str, int]]
    ) -> None:
        rows = CostPlanLineRow.__table__  # type: ignore[attr-defined]
        connection = await self._session.connection()
        await connection.execute(
            delete(rows).where(
                rows.c.municipality == municipality, rows.c.initiative_id == initiative_id
            )
        )
        for position, (cost_line, planned) in enumerate(lines):
            self._session.add(
                CostPlanLineRow(
                    municipality=municipality,
                    initiative_id=initiative_id,
                    cost_line=cost_line,
                    planned_cents=planned,
                    position=position,
                )
            )

    async def lines(
        self, municipality: str, initiative_ids: Sequence[str]
    ) -> dict[str, list[tuple[str, int]]]:
        query = (
            select(CostPlanLineRow)
            .where(
                CostPlanLineRow.municipality == municipality,
                col(CostPlanLineRow.initiative_id).in_(initiative_ids),
            )
            .order_by(col(CostPlanLineRow.initiative_id), col(CostPlanLineRow.position))
        )
        plans: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for row in (await self._session.exec(query)).all():
            plans[row.initiative_id].append((row.cost_line, row.planned_cents))
        return plans


class AllocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(
        self, municipality: str, initiative_id: str, *, lock: bool = False
    ) -> Allocation | None:
        query = select(AllocationRow).where(
            AllocationRow.municipality == municipality,
            AllocationRow.initiative_id == initiative_id,
        )
        if lock:
            query = query.with_for_update()
        row = (await self._session.exec(query)).first()
        return _allocation(row) if row else None

    async def reserved_from(self, municipality: str, budget_ids: Sequence[str]) -> list[Allocation]:
        """The allocations that reserved money from these budgets."""
        query = (
            select(AllocationRow)
            .where(
                AllocationRow.municipality == municipality,
                col(AllocationRow.budget_id).in_(budget_ids),
                AllocationRow.outcome == AllocationOutcome.ALLOCATED.value,
            )
            .order_by(col(AllocationRow.decided_at), col(AllocationRow.initiative_id))
        )
        return [_allocation(row) for row in (await self._session.exec(query)).all()]

    async def save(self, allocation: Allocation) -> None:
        row = await self._session.get(
            AllocationRow, (allocation.municipality, allocation.initiative_id)
        )
        if row is None:
            row = AllocationRow(
                municipality=allocation.municipality,
                initiative_id=allocation.initiative_id,
                funding_source=allocation.funding_source.value,
                neighbourhood=allocation.neighbourhood,
                requested_cents=allocation.requested_cents,
                outcome=allocation.outcome.value,
                budget_id=allocation.budget_id,
                amount_cents=allocation.amount_cents,
                shortfall_cents=allocation.shortfall_cents,
                reason=allocation.reason[:1000],
                decided_at=allocation.decided_at,
                recorded_at=allocation.recorded_at,
            )
        else:  # a refused request tried again
            row.funding_source = allocation.funding_source.value
            row.neighbourhood = allocation.neighbourhood
            row.requested_cents = allocation.requested_cents
            row.outcome = allocation.outcome.value
            row.budget_id = allocation.budget_id
            row.amount_cents = allocation.amount_cents
            row.shortfall_cents = allocation.shortfall_cents
            row.reason = allocation.reason[:1000]
            row.decided_at = allocation.decided_at
            row.recorded_at = allocation.recorded_at
        self._session.add(row)


def _allocation(row: AllocationRow) -> Allocation:
    return Allocation(
        municipality=row.municipality,
        initiative_id=row.initiative_id,
        funding_source=BudgetKind(row.funding_source),
        neighbourhood=row.neighbourhood,
        requested_cents=row.requested_cents,
        outcome=AllocationOutcome(row.outcome),
        budget_id=row.budget_id,
        amount_cents=row.amount_cents,
        shortfall_cents=row.shortfall_cents,
        reason=row.reason,
        decided_at=_aware(row.decided_at),
        recorded_at=_aware(row.recorded_at),
    )
