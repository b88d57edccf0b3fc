from __future__ import annotations

from services.advisory.persistence.repository import AdviceRoundRepository, CouncilRepository
from shared.messaging.unit_of_work import UnitOfWork


class AdvisoryUnitOfWork(UnitOfWork):
    councils: CouncilRepository
    rounds: AdviceRoundRepository

    async def __aenter__(self) -> AdvisoryUnitOfWork:
        await super().__aenter__()
        self.councils = CouncilRepository(self.session)
        self.rounds = AdviceRoundRepository(self.session)
        return self
