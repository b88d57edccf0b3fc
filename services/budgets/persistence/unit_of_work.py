from __future__ import annotations

from services.budgets.persistence.alternatives import AlternativeBudgetRepository
from services.budgets.persistence.repository import (
    AllocationRepository,
    BudgetRepository,
    CostPlanRepository,
    LedgerRepository,
)
from services.budgets.persistence.rounds import RoundRepository
from shared.messaging.unit_of_work import UnitOfWork


class BudgetsUnitOfWork(UnitOfWork):
    budgets: BudgetRepository
    ledger: LedgerRepository
    allocations: AllocationRepository
    cost_plans: CostPlanRepository
    rounds: RoundRepository
    alternatives: AlternativeBudgetRepository

    async def __aenter__(self) -> BudgetsUnitOfWork:
        await super().__aenter__()
        self.budgets = BudgetRepository(self.session)
        self.ledger = LedgerRepository(self.session)
        self.allocations = AllocationRepository(self.session)
        self.cost_plans = CostPlanRepository(self.session)
        self.rounds = RoundRepository(self.session)
        self.alternatives = AlternativeBudgetRepository(self.session)
        return self
