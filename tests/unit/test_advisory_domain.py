"""Advisory rules: routing, deadlines in Amsterdam working days, advice and completion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.advisory.domain.consultations import Consultation, Point, PointOrigin
from services.advisory.domain.deadlines import advice_deadline, is_working_day
from services.advisory.domain.exceptions import AlreadyAdvised, NotAMember
from services.advisory.domain.model import (
    Advice,
    AdviceRequest,
    AdviceRound,
    Council,
    CouncilKind,
    MemberRole,
    Position,
    RoundStatus,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_weekends_and_dutch_public_holidays_are_not_working_days() -> None:
    assert not is_working_day(datetime(2026, 11, 28).date())  # Saturday
    assert not is_working_day(datetime(2026, 12, 25).date())  # Christmas
    assert not is_working_day(datetime(2027, 4, 27).date())  # King's Day
    assert is_working_day(datetime(2026, 11, 24).date())


def test_a_deadline_ends_at_the_end_of_its_last_working_day_in_amsterdam() -> None:
    # Friday 18 December 2026 + 5 working days: 21-24 December, then Christmas (Friday) and the
    # weekend (with Boxing Day) do not count, so the fifth is Monday 28 December.
    friday = datetime(2026, 12, 18, 10, 0, tzinfo=UTC)
    deadline = advice_deadline(friday, 5, working_days=True)
    assert deadline == datetime(2026, 12, 28, 22, 59, 59, tzinfo=UTC)  # 23:59:59 CET


def test_calendar_days_count_weekends_and_respect_summer_time() -> None:
    deadline = advice_deadline(datetime(2026, 6, 5, 10, 0, tzinfo=UTC), 2, working_days=False)
    assert deadline == datetime(2026, 6, 7, 21, 59, 59, tzinfo=UTC)  # 23:59:59 CEST


def council() -> Council:
    body = Council(
        id="c-1",
        municipality="GM0362",
        name="Wijkraad Centrum",
        kind=CouncilKind.NEIGHBOURHOOD_COUNCIL,
        neighbourhoods=["BU03620001"],
        advice_days=10,
    )
    body.appoint("anna", MemberRole.CHAIR)
    return body


def test_councils_cover_their_neighbourhoods_and_youth_councils_their_themes() -> None:
    assert council().covers("BU03620001", "groen")
    assert not council().covers("BU03620009", "groen")
    youth = Council(
        id="c-2",
        municipality="GM0362",
        name="Jongerenraad",
        kind=CouncilKind.YOUTH_COUNCIL,
        themes=["jeugd"],
        advice_days=10,
    )
    assert youth.covers("BU03620009", "jeugd") and not youth.covers("BU03620001", "groen")


def test_appointing_twice_changes_nothing_and_a_new_role_is_a_change() -> None:
    body = council()
    assert not body.appoint("anna", MemberRole.CHAIR)
    assert body.appoint("anna", MemberRole.SECRETARY)
    assert body.dismiss("anna") and not body.is_member("anna")


def advice(by: str = "anna") -> Advice:
    return Advice(position=Position.POSITIVE, motivation="Goed plan.", given_by=by, given_at=NOW)


def advice_round(*councils: str) -> AdviceRound:
    return AdviceRound(
        id="r-1",
        municipality="GM0362",
        subject_kind="initiative",
        subject_id="i-1",
        title="Bankjes",
        status=RoundStatus.OPEN,
        requests=[
            AdviceRequest(
                id=f"q-{c}",
                council_id=c,
                council_kind=CouncilKind.NEIGHBOURHOOD_COUNCIL,
                deadline=NOW,
            )
            for c in councils
        ],
    )


def test_the_round_completes_when_every_council_has_advised() -> None:
    other = council().model_copy(update={"id": "c-9"})
    rounds = advice_round("c-1", "c-9")
    assert not rounds.give_advice("q-c-1", council(), advice())
    assert rounds.give_advice("q-c-9", other, advice())
    assert rounds.status is RoundStatus.COMPLETED and rounds.completed_at == NOW


def test_only_members_advise_and_only_once() -> None:
    rounds = advice_round("c-1", "c-9")
    with pytest.raises(NotAMember):
        rounds.give_advice("q-c-1", council(), advice(by="stranger"))
    rounds.give_advice("q-c-1", council(), advice())
    with pytest.raises(AlreadyAdvised):
        rounds.give_advice("q-c-1", council(), advice())


def test_the_contributors_of_a_consultation_are_its_residents_each_once() -> None:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    consultation = Consultation(
        id="cons-1",
        municipality="GM0362",
        title="Speelruimteplan",
        summary="Waar kinderen spelen.",
        link="https://gemeente.example/speelruimteplan",
        council_ids=["c-1"],
        open_to_residents=True,
        opened_by="ambtenaar-1",
        opened_at=at,
        closes_at=datetime(2026, 4, 2, 9, 0, tzinfo=UTC),
    )
    for n, resident in enumerate(("resident-8", "resident-7", "resident-8")):
        consultation.add_input(
            Point(
                id=f"p-{n}",
                origin=PointOrigin.RESIDENT,
                contributor=resident,
                text="Meer schaduw.",
                submitted_at=at,
            )
        )
    consultation.add_council_advice("c-1", advice(), ["p-advice"])

    assert consultation.contributors() == ["resident-8", "resident-7"]
