"""Who is told what, table-driven over every event type notifications consumes.

Each event goes through the consumer's routes, the rules seeded by the migrations, the views
built from earlier events, the fan-out worker and the real templates (StrictUndefined, in
Dutch and English); then the in-app feed says exactly who heard what about that one event.
A small SQLite database stands in for PostgreSQL: the point here is the rules, not the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.notifications.app import create_app
from services.notifications.domain import rules
from services.notifications.entrypoints import consumers
from services.notifications.fanout import FanoutWorker
from services.notifications.persistence.unit_of_work import NotificationsUnitOfWork
from services.notifications.settings import NotificationsSettings
from shared.auth import Role
from shared.contracts import advisory, budgets, initiatives
from shared.contracts.base import EventData
from shared.contracts.envelope import Envelope
from shared.contracts.registry import EVENTS_BY_PRODUCER
from shared.messaging.topology import CONSUMES
from shared.migrations import upgrade_to_head
from shared.testing.helpers import settings_for, token

M = "GM0362"
BASE = f"/v1/municipalities/{M}"
STAFF = token(Role.CIVIL_SERVANT, subject="ambtenaar-1")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AREA, OTHER_AREA, BUDGET = "BU03620001", "BU03629999", "budget-centrum-2026"
INITIATOR, SUPPORTERS = "initiator-1", ("supporter-1", "supporter-2")
CHAIR, SECRETARY, MEMBER = "council-chair", "council-secretary", "council-member"
HOLDER, REPORTER = "holder-1", "reporter-1"
DRAFTER, CO_SIGNERS = "drafter-1", ("co-signer-1", "co-signer-2")
CONTRIBUTORS = ("contributor-1", "contributor-2")
FOLLOWS = {
    "follows-area": [("neighbourhood", AREA)],
    "follows-budget": [("budget", BUDGET)],
    "follows-both": [("neighbourhood", AREA), ("budget", BUDGET)],
    "follows-elsewhere": [("neighbourhood", OTHER_AREA), ("budget", "budget-noord-2026")],
}
ENGLISH = {
    INITIATOR,
    "supporter-2",
    SECRETARY,
    "follows-both",
    REPORTER,
    "co-signer-2",
    "contributor-2",
}
PEOPLE = (
    INITIATOR,
    *SUPPORTERS,
    CHAIR,
    SECRETARY,
    MEMBER,
    HOLDER,
    REPORTER,
    DRAFTER,
    *CO_SIGNERS,
    *CONTRIBUTORS,
    *FOLLOWS,
    "bystander",
)


def _initiative_facts() -> dict[str, Any]:
    return {
        "municipality": M,
        "initiative_id": "init-1",
        "title": "Bankjes in het park",
        "neighbourhood": AREA,
        "theme": "groen",
        "initiative_type": "buurt-klein",
        "requested_amount_cents": 80_000,
        "funding_source": initiatives.FundingSource.NEIGHBOURHOOD_BUDGET,
        "initiator_id": INITIATOR,
    }


def _round(**extra: Any) -> dict[str, Any]:
    return {"municipality": M, "round_id": "round-1", "subject_kind": "initiative", **extra}


ON_INIT = {"municipality": M, "initiative_id": "init-1"}
# The drafter signed their own alternative budget too: they hear it once, as its drafter.
ON_ALTERNATIVE = {
    "municipality": M,
    "alternative_budget_id": "alt-1",
    "budget_id": BUDGET,
    "neighbourhood": AREA,
    "drafter_id": DRAFTER,
    "co_signer_ids": [DRAFTER, *CO_SIGNERS],
}
CONSULTATION = {"municipality": M, "consultation_id": "cons-1"}
COUNCIL = {"council_id": "council-1", "subject_id": "init-1", "request_id": "req-1"}
SETUP: tuple[EventData, ...] = (
    initiatives.InitiativeSubmitted(**_initiative_facts(), submitted_at=NOW),
    *(
        initiatives.SupportRegistered(**ON_INIT, supporter_id=person, support_count=n)
        for n, person in enumerate((*SUPPORTERS, "supporter-gone"), start=1)
    ),
    initiatives.SupportWithdrawn(**ON_INIT, supporter_id="supporter-gone", support_count=2),
    *(
        advisory.CouncilMemberAppointed(
            municipality=M,
            council_id="council-1",
            member_id=person,
            role=role,
            council_kind=advisory.CouncilKind.NEIGHBOURHOOD_COUNCIL,
        )
        for person, role in (
            (CHAIR, advisory.MemberRole.CHAIR),
            (SECRETARY, advisory.MemberRole.SECRETARY),
            (MEMBER, advisory.MemberRole.MEMBER),
        )
    ),
    advisory.ConsultationOpened(
        **CONSULTATION,
        title="Speelruimteplan",
        summary="Waar kinderen spelen.",
        link="https://gemeente.example/speelruimteplan.pdf",
        council_ids=["council-1"],
        open_to_residents=True,
        closes_at=NOW + timedelta(days=42),
    ),
    # Budget notices wait for the decision; this one is told too (its row is below).
    initiatives.InitiativeDecided(
        **_initiative_facts(),
        decision=initiatives.Decision.APPROVED,
        reasons="Past bij het buurtplan.",
        conditions=["Informeer de buren"],
        decided_by=HOLDER,
        decided_at=NOW,
    ),
)
DECIDED = SETUP[-1]

Told = dict[str, str]
ALL_SUPPORTERS = dict.fromkeys(SUPPORTERS)
BUDGET_FOLLOWERS = ("follows-budget", "follows-both")
AREA_FOLLOWERS = ("follows-area", "follows-both")

# Every event type notifications consumes -> (an event of it, who hears which notice).
TABLE: dict[str, tuple[EventData, Told]] = {
    e.event_type(): (e, told)
    for e, told in (
        (SETUP[0], {INITIATOR: "initiative_submitted"}),
        (SETUP[1], {}),
        (SETUP[4], {}),
        (
            initiatives.SupportProgress(
                **ON_INIT, percentage=66, support_count=2, support_threshold=3
            ),
            {INITIATOR: "support_progress"},
        ),
        (
            initiatives.InitiativeReadyForReview(**_initiative_facts(), support_count=3),
            {INITIATOR: "initiative_in_review"},
        ),
        (
            initiatives.InitiativeReadyForDecision(
                **ON_INIT,
                advice_round_id="round-1",
                advice_positions=["positive"],
                requested_amount_cents=80_000,
            ),
            {INITIATOR: "awaiting_decision", HOLDER: "ready_for_decision"},
        ),
        (
            initiatives.InitiativeDecisionOverdue(
                **ON_INIT, decision_deadline=NOW, status="ready_for_decision"
            ),
            {INITIATOR: "decision_overdue"},
        ),
        # An approval reaches the initiator with the money (budget-allocated), in one message.
        (DECIDED, dict.fromkeys(SUPPORTERS, "supported_initiative_decided")),
        (
            initiatives.InitiativeResultsReported(
                **ON_INIT,
                summary="Vijf bankjes geplaatst.",
                results=[initiatives.MeasuredResult(indicator="bankjes", target=4, measured=5)],
            ),
            {
                INITIATOR: "results_reported",
                **dict.fromkeys(SUPPORTERS, "supported_initiative_results"),
            },
        ),
        (
            initiatives.InitiativeAccounted(
                **ON_INIT,
                budgeted_cents=80_000,
                spent_cents=78_000,
                disbursed_cents=80_000,
                account="Bonnen bijgevoegd.",
            ),
            {
                INITIATOR: "initiative_accounted",
                **dict.fromkeys(SUPPORTERS, "supported_initiative_accounted"),
            },
        ),
        (
            initiatives.InitiativeClosed(**ON_INIT, reason="Klaar."),
            {INITIATOR: "initiative_closed"},
        ),
        (
            initiatives.InitiativeWithdrawn(
                **ON_INIT, reason="Geen tijd.", previous_status="approved", initiator_id=INITIATOR
            ),
            {INITIATOR: "initiative_withdrawn"},
        ),
        (
            initiatives.InitiativeExpired(
                **ON_INIT,
                support_count=2,
                support_threshold=30,
                support_deadline=NOW,
                initiator_id=INITIATOR,
            ),
            {INITIATOR: "initiative_expired"},
        ),
        (
            initiatives.MilestoneOverdue(
                **ON_INIT,
                milestone_id="m-1",
                milestone="Bankjes besteld",
                due_date=date(2026, 3, 1),
                initiator_id=INITIATOR,
            ),
            {INITIATOR: "milestone_overdue"},
        ),
        (
            initiatives.ReportReceived(
                municipality=M,
                report_id="rep-1",
                neighbourhood=AREA,
                reporter_id=REPORTER,
                category="groen",
                summary="Kapotte bank",
            ),
            {},
        ),
        (
            initiatives.ReportHandled(
                municipality=M,
                report_id="rep-1",
                neighbourhood=AREA,
                reporter_id=REPORTER,
                outcome=initiatives.ReportOutcome.INITIATIVE,
                reason="Bewoners pakken het op.",
                initiative_id="init-1",
                handled_by="ambtenaar-1",
            ),
            {REPORTER: "report_handled"},
        ),
        (SETUP[5], {}),
        (SETUP[-2], {}),
        (advisory.ConsultationClosed(**CONSULTATION, closed_at=NOW, points=7), {}),
        # The councils asked (kept from consultation-opened) hear, and so do the residents the
        # event names as having given input; a member who also gave input as a resident hears
        # what became of their own input.
        (
            advisory.ConsultationAnswered(
                **CONSULTATION,
                answered_at=NOW,
                adopted=4,
                partly_adopted=2,
                not_adopted=1,
                contributor_ids=[*CONTRIBUTORS, MEMBER],
            ),
            {
                **dict.fromkeys((CHAIR, SECRETARY), "consultation_answered"),
                **dict.fromkeys((*CONTRIBUTORS, MEMBER), "consultation_input_answered"),
            },
        ),
        (
            budgets.AlternativeBudgetSubmitted(
                **ON_ALTERNATIVE,
                year=2026,
                submitted_by=DRAFTER,
                lines=[
                    budgets.AlternativeBudgetLine(
                        theme="groen", amount_cents=600_000, motivation="Bomen."
                    ),
                    budgets.AlternativeBudgetLine(
                        theme="jeugd", amount_cents=400_000, motivation="Speelplek."
                    ),
                ],
                total_cents=1_000_000,
                submitted_at=NOW,
            ),
            {
                DRAFTER: "alternative_budget_submitted",
                **dict.fromkeys(CO_SIGNERS, "alternative_budget_submitted"),
            },
        ),
        (
            budgets.AlternativeBudgetAdopted(
                **ON_ALTERNATIVE,
                adoption=budgets.AdoptionExtent.PARTLY,
                lines=[
                    budgets.AdoptedLine(
                        theme="groen", proposed_cents=600_000, adopted_cents=600_000
                    ),
                    budgets.AdoptedLine(
                        theme="jeugd",
                        proposed_cents=400_000,
                        adopted_cents=250_000,
                        reasons="Speelplek kost minder.",
                    ),
                ],
                reasons="Past grotendeels bij het buurtplan.",
                decided_on=date(2026, 3, 12),
                recorded_by="ambtenaar-1",
            ),
            {
                DRAFTER: "alternative_budget_adopted",
                **dict.fromkeys(CO_SIGNERS, "alternative_budget_adopted"),
            },
        ),
        (
            budgets.AlternativeBudgetNotAdopted(
                **ON_ALTERNATIVE,
                reasons="Het geld is nodig voor onderhoud.",
                decided_on=date(2026, 3, 12),
                recorded_by="ambtenaar-1",
            ),
            {
                DRAFTER: "alternative_budget_not_adopted",
                **dict.fromkeys(CO_SIGNERS, "alternative_budget_not_adopted"),
            },
        ),
        # Only the co-signers hear of a withdrawal: the drafter withdrew it (and is never told
        # as their own co-signer).
        (
            budgets.AlternativeBudgetWithdrawn(
                **ON_ALTERNATIVE,
                previous_status="submitted",
                reason="We proberen het volgend jaar opnieuw.",
                withdrawn_by=DRAFTER,
                withdrawn_at=NOW,
            ),
            dict.fromkeys(CO_SIGNERS, "alternative_budget_withdrawn"),
        ),
        (
            advisory.CouncilMemberLeft(municipality=M, council_id="council-9", member_id="x"),
            {},
        ),
        (
            advisory.AdviceRequested(
                **_round(**COUNCIL),
                council_kind=advisory.CouncilKind.NEIGHBOURHOOD_COUNCIL,
                title="Bankjes in het park",
                deadline=NOW + timedelta(days=14),
            ),
            dict.fromkeys((CHAIR, SECRETARY, MEMBER), "advice_requested"),
        ),
        (
            advisory.AdviceDeadlineApproaching(
                **_round(**COUNCIL), deadline=NOW + timedelta(days=3), days_before=3
            ),
            dict.fromkeys((CHAIR, SECRETARY, MEMBER), "advice_deadline_approaching"),
        ),
        # Chair and secretary hear the escalation instead of the members' reminder.
        (
            advisory.AdviceOverdue(
                **_round(**COUNCIL), deadline=NOW, escalate_to=[CHAIR, SECRETARY]
            ),
            {
                CHAIR: "advice_overdue_escalated",
                SECRETARY: "advice_overdue_escalated",
                MEMBER: "advice_overdue",
            },
        ),
        # They heard it at the overdue advice: the round's closing does not tell them again.
        (
            advisory.AdviceRoundCompleted(
                **_round(subject_id="init-1"),
                advice=[advisory.GivenAdvice(council_id="council-1", position=None, motivation="")],
                closed_after_escalation=True,
                completed_at=NOW,
            ),
            {},
        ),
        (
            budgets.BudgetAllocated(
                **ON_INIT,
                budget_id=BUDGET,
                neighbourhood=AREA,
                amount_cents=80_000,
                available_after_cents=920_000,
            ),
            {
                INITIATOR: "budget_allocated",
                **dict.fromkeys(BUDGET_FOLLOWERS, "followed_budget_allocated"),
            },
        ),
        (
            budgets.AllocationRejected(
                **ON_INIT,
                budget_id=BUDGET,
                requested_cents=80_000,
                available_cents=0,
                shortfall_cents=80_000,
                fund_could_cover=False,
                reason="Budget op.",
            ),
            {INITIATOR: "allocation_rejected"},
        ),
        (
            budgets.FundsReleased(
                **ON_INIT,
                budget_id=BUDGET,
                amount_cents=2_000,
                reason=budgets.ReleaseReason.UNDERSPEND,
                still_reserved_cents=0,
                available_after_cents=922_000,
            ),
            dict.fromkeys(BUDGET_FOLLOWERS, "funds_released"),
        ),
        (
            budgets.FundsDisbursed(**ON_INIT, budget_id=BUDGET, amount_cents=78_000),
            dict.fromkeys(BUDGET_FOLLOWERS, "funds_disbursed"),
        ),
        # Spending is told to who follows the budget and who follows the initiative's area.
        (
            budgets.SpendingReported(
                **ON_INIT, budget_id=BUDGET, amount_cents=45_000, description="Bankjes"
            ),
            dict.fromkeys(("follows-area", *BUDGET_FOLLOWERS), "spending_reported"),
        ),
        (
            budgets.BudgetOpened(
                municipality=M,
                budget_id=BUDGET,
                kind="neighbourhood_budget",
                neighbourhood=AREA,
                opening_amount_cents=1_000_000,
                opened_at=NOW,
            ),
            {},
        ),
        (
            budgets.RoundPhaseChanged(
                municipality=M,
                round_id="round-7",
                neighbourhood=AREA,
                previous_phase="review",
                phase="voting",
                changed_at=NOW,
            ),
            dict.fromkeys(AREA_FOLLOWERS, "round_phase_changed"),
        ),
        (
            budgets.BallotCast(
                municipality=M,
                round_id="round-7",
                neighbourhood=AREA,
                voter_id="follows-area",
                channel="online",
                replaced_earlier=False,
                cast_at=NOW,
            ),
            {},
        ),
        (
            budgets.RoundResultsPublished(
                municipality=M,
                round_id="round-7",
                neighbourhood=AREA,
                rule="mes",
                ballots=2,
                budget_cents=1_000_000,
                funded_cost_cents=600_000,
                projects=[
                    budgets.ProjectOutcome(
                        project_id="p-1",
                        title="Speeltuin",
                        cost_cents=600_000,
                        votes=2,
                        funded=True,
                    ),
                    budgets.ProjectOutcome(
                        project_id="p-2",
                        title="Fietsrek",
                        cost_cents=500_000,
                        votes=1,
                        funded=False,
                    ),
                ],
            ),
            dict.fromkeys(AREA_FOLLOWERS, "round_results_published"),
        ),
    )
}


class Service:
    def __init__(self, app: Any, client: httpx.AsyncClient) -> None:
        self.app, self.client = app, client

    def uow(self) -> NotificationsUnitOfWork:
        uow = self.app.state.unit_of_work()
        assert isinstance(uow, NotificationsUnitOfWork)
        return uow

    async def consume(self, *events: EventData) -> list[Envelope]:
        envelopes = [
            Envelope.wrap(e, source=f"urn:nld:gemeente-{M}:systeem:inspraak-{e.producer}")
            for e in events
        ]
        async with self.uow() as uow:
            for envelope in envelopes:
                await consumers.routes.handlers[envelope.type](envelope, uow)
            await uow.commit()
        await FanoutWorker(unit_of_work=self.uow, batch_size=2, idle_seconds=0.1).drain()
        return envelopes

    async def told_about(self, envelope: Envelope) -> Told:
        found: Told = {}
        async with self.uow() as uow:
            for person in PEOPLE:
                for message in await uow.messages.list_for(M, person, feed=True):
                    if message.cause.event_id == envelope.id and message.channel.value == "feed":
                        assert person not in found, f"{person} told twice about {envelope.type}"
                        found[person] = message.kind.value
        return found


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    url = f"sqlite+aiosqlite:///{tmp_path}/notifications.sqlite3"
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    settings = settings_for(
        NotificationsSettings, kafka="127.0.0.1:1", namespace="t.", database_url=url
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        service = Service(app, client)
        for person in PEOPLE:
            language = "en" if person in ENGLISH else "nl"
            response = await client.put(
                f"{BASE}/contacts/{person}",
                json={"email": f"{person}@example.org", "language": language},
                headers=STAFF,
            )
            assert response.status_code == 200, response.text
        for person, targets in FOLLOWS.items():
            for target, target_id in targets:
                response = await client.put(
                    f"{BASE}/contacts/{person}/follows/{target}/{target_id}",
                    headers=token(Role.RESIDENT, subject=person),
                )
                assert response.status_code == 200, response.text
        holder = await client.put(f"{BASE}/budget-holders/{HOLDER}", json={}, headers=STAFF)
        assert holder.status_code == 200, holder.text
        yield service
    await app.state.runtime.engine.dispose()


def test_the_table_covers_every_event_type_notifications_acts_on() -> None:
    """Every event with a use case here or a default rule has its row; the others only go on
    to webhook subscribers (asserted here too: the table names nothing this service ignores).
    """
    consumed = {
        model.event_type()
        for producer in CONSUMES["notifications"]
        for model in EVENTS_BY_PRODUCER[producer]
    }
    acted_on = set(consumers.told.handlers) | {r.event_type for r in rules.DEFAULT_RULES}
    assert acted_on <= set(TABLE) <= consumed


async def test_every_event_reaches_exactly_the_people_its_rules_name(service: Service) -> None:
    setup = await service.consume(*SETUP)
    outcome: dict[str, Told] = {}
    for event_type, (event, _) in TABLE.items():
        if event is DECIDED:
            outcome[event_type] = await service.told_about(setup[-1])
            continue
        if any(event is earlier for earlier in SETUP):
            outcome[event_type] = await service.told_about(setup[SETUP.index(event)])
            continue
        [envelope] = await service.consume(event)
        outcome[event_type] = await service.told_about(envelope)

    assert outcome == {event_type: told for event_type, (_, told) in TABLE.items()}


async def test_a_municipality_switches_a_new_default_off_for_itself_only(
    service: Service,
) -> None:
    off = await service.client.put(
        f"{BASE}/notification-rules",
        json={
            "event_type": rules.ROUND_RESULTS_PUBLISHED,
            "audience": "followers",
            "notice": "round_results_published",
            "enabled": False,
        },
        headers=STAFF,
    )
    assert off.status_code == 200, off.text
    event, _ = TABLE[rules.ROUND_RESULTS_PUBLISHED]
    [envelope] = await service.consume(event)
    assert await service.told_about(envelope) == {}


async def test_escalation_reaches_named_officers_this_service_never_saw_appointed(
    service: Service,
) -> None:
    """``escalate_to`` is advisory's word on who the officers are, also ahead of the view."""
    await service.consume(*SETUP)
    overdue = advisory.AdviceOverdue(
        **_round(**COUNCIL), deadline=NOW, escalate_to=["new-chair", SECRETARY]
    )
    [envelope] = await service.consume(overdue)

    async with service.uow() as uow:
        [message] = [
            m
            for m in await uow.messages.list_for(M, "new-chair", feed=True)
            if m.cause.event_id == envelope.id and m.channel.value == "feed"
        ]
    assert message.kind.value == "advice_overdue_escalated"
    assert "voorzitter of secretaris van de wijkraad" in message.body
    told = await service.told_about(envelope)
    # The chair the view knows but advisory did not name hears the members' reminder.
    assert told == {
        SECRETARY: "advice_overdue_escalated",
        CHAIR: "advice_overdue",
        MEMBER: "advice_overdue",
    }


async def test_the_drafter_and_each_co_signer_hear_in_their_own_words_and_language(
    service: Service,
) -> None:
    event, _ = TABLE[rules.ALTERNATIVE_BUDGET_ADOPTED]
    [envelope] = await service.consume(event)

    bodies: dict[str, str] = {}
    async with service.uow() as uow:
        for person in (DRAFTER, *CO_SIGNERS):
            [message] = [
                m
                for m in await uow.messages.list_for(M, person, feed=True)
                if m.cause.event_id == envelope.id and m.channel.value == "feed"
            ]
            bodies[person] = message.body
    assert "U heeft deze alternatieve begroting opgesteld." in bodies[DRAFTER]
    assert "- jeugd: € 2.500,00 (voorgesteld: € 4.000,00)" in bodies[DRAFTER]
    assert "U heeft deze alternatieve begroting mede ondertekend." in bodies["co-signer-1"]
    assert "You co-signed this alternative budget." in bodies["co-signer-2"]
    assert "Together that is €8,500.00." in bodies["co-signer-2"]


async def test_an_answer_to_a_consultation_never_seen_opened_tells_nobody_and_does_not_fail(
    service: Service,
) -> None:
    await service.consume(*SETUP[5:8])
    answered = advisory.ConsultationAnswered(
        municipality=M,
        consultation_id="cons-unknown",
        answered_at=NOW,
        adopted=1,
        partly_adopted=0,
        not_adopted=0,
    )
    [envelope] = await service.consume(answered)
    assert await service.told_about(envelope) == {}


async def test_residents_named_by_an_answer_are_told_also_when_the_opening_was_never_seen(
    service: Service,
) -> None:
    """The councils are known only from consultation-opened; the residents the event itself
    names, so they hear the answer regardless."""
    answered = advisory.ConsultationAnswered(
        municipality=M,
        consultation_id="cons-unknown",
        answered_at=NOW,
        adopted=1,
        partly_adopted=0,
        not_adopted=2,
        contributor_ids=list(CONTRIBUTORS),
    )
    [envelope] = await service.consume(answered)

    assert await service.told_about(envelope) == dict.fromkeys(
        CONTRIBUTORS, "consultation_input_answered"
    )
    async with service.uow() as uow:
        [message] = [
            m
            for m in await uow.messages.list_for(M, "contributor-2", feed=True)
            if m.cause.event_id == envelope.id and m.channel.value == "feed"
        ]
    assert message.subject == "What the municipality did with your input: cons-unknown"
    assert "/GM0362/consultations/cons-unknown/participation-paragraph" in message.body
    # Who else gave input is not in anyone's message.
    assert "contributor-1" not in message.body


async def test_co_signers_hear_the_withdrawal_with_the_drafters_reason(service: Service) -> None:
    event, _ = TABLE[rules.ALTERNATIVE_BUDGET_WITHDRAWN]
    [envelope] = await service.consume(event)

    bodies: dict[str, str] = {}
    async with service.uow() as uow:
        for person in CO_SIGNERS:
            [message] = [
                m
                for m in await uow.messages.list_for(M, person, feed=True)
                if m.cause.event_id == envelope.id and m.channel.value == "feed"
            ]
            bodies[person] = message.body
    assert "De opsteller schrijft: We proberen het volgend jaar opnieuw." in bodies["co-signer-1"]
    assert "De raad neemt er nu geen besluit meer over." in bodies["co-signer-1"]
    assert "The drafter writes: We proberen het volgend jaar opnieuw." in bodies["co-signer-2"]
