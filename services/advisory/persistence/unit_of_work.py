from __future__ import annotations

from services.advisory.persistence.repository import (
    AdviceRoundRepository,
    AgendaItemRepository,
    ConsultationRepository,
    CouncilRepository,
    MeetingRepository,
    RoutingRuleRepository,
)
from shared.messaging.unit_of_work import UnitOfWork


class AdvisoryUnitOfWork(UnitOfWork):
    councils: CouncilRepository
    routing_rules: RoutingRuleRepository
    rounds: AdviceRoundRepository
    consultations: ConsultationRepository
    agenda_items: AgendaItemRepository
    meetings: MeetingRepository

    async def __aenter__(self) -> AdvisoryUnitOfWork:
        await super().__aenter__()
        self.councils = CouncilRepository(self.session, self.cache, self.new_rows)
        self.routing_rules = RoutingRuleRepository(self.session, self.cache, self.new_rows)
        self.rounds = AdviceRoundRepository(self.session, self.cache, self.new_rows)
        self.consultations = ConsultationRepository(self.session, self.cache, self.new_rows)
        self.agenda_items = AgendaItemRepository(self.session, self.cache, self.new_rows)
        self.meetings = MeetingRepository(self.session, self.cache, self.new_rows)
        return self
