from __future__ import annotations

from services.budgets.persistence.repository import (
    AllocationRepository,
    BudgetRepository,
    LedgerRepository,
)
from shared.messaging.unit_of_work import UnitOfWork


class BudgetsUnitOfWork(UnitOfWork):
    budgets: BudgetRepository
    ledger: LedgerRepository
    allocations: AllocationRepository

    async def __aenter__(self) -> BudgetsUnitOfWork:
        await super().__aenter__()
        self.budgets = BudgetRepository(self.session)
        self.ledger = LedgerRepository(self.session)
        self.allocations = AllocationRepository(self.session)
        return self
