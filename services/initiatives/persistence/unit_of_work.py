from __future__ import annotations

from services.initiatives.persistence.repository import (
    InitiativeRepository,
    InitiativeTypeRepository,
    ReportRepository,
)
from shared.messaging.unit_of_work import UnitOfWork


class InitiativesUnitOfWork(UnitOfWork):
    initiatives: InitiativeRepository
    types: InitiativeTypeRepository
    reports: ReportRepository

    async def __aenter__(self) -> InitiativesUnitOfWork:
        await super().__aenter__()
        self.initiatives = InitiativeRepository(self.session)
        self.types = InitiativeTypeRepository(self.session)
        self.reports = ReportRepository(self.session)
        return self
