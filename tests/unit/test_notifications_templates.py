"""What messages say, in Dutch and English: amounts, moments, the parts every message has."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from jinja2 import UndefinedError

from services.notifications.domain.model import Language, Notice, NoticeKind
from services.notifications.formatting import euro, local_datetime
from services.notifications.rendering import Renderer

BASE_URL = "https://inspraak.amstelveen.example/"
DEADLINE = datetime(2025, 12, 5, 16, 0, tzinfo=UTC)  # 17:00 in Amsterdam (CET)

FACTS: dict[NoticeKind, dict[str, object]] = {
    NoticeKind.ADVICE_REQUESTED: {
        "request_id": "req-1",
        "round_id": "round-1",
        "council_kind": "youth_council",
        "member_role": "chair",
        "subject_kind": "initiative",
        "subject_id": "init-1",
        "title": "Skatebaan bij het Stadshart",
        "deadline": DEADLINE,
    },
    NoticeKind.BUDGET_ALLOCATED: {
        "initiative_id": "init-1",
        "title": "Bankjes in het park",
        "reasons": "Het plan helpt ouderen in de buurt.",
        "conditions": ["Vraag een vergunning aan", "Informeer de buren"],
        "amount_cents": 125_000,
    },
    NoticeKind.ALLOCATION_REJECTED: {
        "initiative_id": "init-1",
        "title": "Bankjes in het park",
        "requested_cents": 125_000,
        "available_cents": 25_050,
        "shortfall_cents": 99_950,
        "fund_could_cover": True,
    },
    NoticeKind.INITIATIVE_REJECTED: {
        "initiative_id": "init-1",
        "title": "Bankjes in het park",
        "reasons": "Het park wordt volgend jaar opnieuw ingericht.",
    },
}
FACTS[NoticeKind.ADVICE_OVERDUE] = {
    **{k: v for k, v in FACTS[NoticeKind.ADVICE_REQUESTED].items() if k != "council_kind"},
    "council_kind": "neighbourhood_council",
    "member_role": "member",
}
FACTS[NoticeKind.ADVICE_ESCALATED] = {
    "round_id": "round-1",
    "council_kind": "youth_council",
    "member_role": "secretary",
    "subject_kind": "initiative",
    "subject_id": "init-1",
    "initiative_id": "init-1",
    "title": "Bankjes in het park",
}
FACTS[NoticeKind.SUPPORTED_INITIATIVE_DECIDED] = {
    "initiative_id": "init-1",
    "title": "Bankjes in het park",
    "decision": "approved",
    "reasons": "Het plan helpt ouderen.",
    "conditions": ["Informeer de buren"],
}
FACTS[NoticeKind.READY_FOR_DECISION] = {
    "initiative_id": "init-1",
    "title": "Bankjes in het park",
    "requested_amount_cents": 125_000,
    "advice_positions": ["positive", "conditional"],
}
FACTS[NoticeKind.WEBHOOK_SUSPENDED] = {
    "subscription_id": "sub-1",
    "callback_url": "https://zaaksysteem.example/hook",
    "failures": 20,
    "reason": "HTTP 500",
}
FACTS[NoticeKind.DIGEST] = {
    "count": 2,
    "items": [{"subject": "Vraag om advies: Bankjes"}, {"subject": "Besluit over Skatebaan"}],
}
INITIATIVE = {"initiative_id": "init-1", "title": "Bankjes in het park"}
FOLLOWING_BUDGET = {"followed": "budget", "followed_id": "budget-2026", "budget_id": "budget-2026"}
RESULTS = [{"indicator": "bankjes geplaatst", "target": 4.0, "measured": 5.0, "unit": "stuks"}]
ACCOUNT = {
    "budgeted_cents": 125_000,
    "spent_cents": 118_000,
    "disbursed_cents": 125_000,
    "account": "Vier bankjes en een picknicktafel.",
}
FACTS.update(
    {
        NoticeKind.INITIATIVE_SUBMITTED: {
            **INITIATIVE,
            "requested_amount_cents": 125_000,
            "funding_source": "neighbourhood_budget",
        },
        NoticeKind.SUPPORT_PROGRESS: {
            **INITIATIVE,
            "percentage": 66,
            "support_count": 20,
            "support_threshold": 30,
        },
        NoticeKind.INITIATIVE_IN_REVIEW: {**INITIATIVE, "support_count": 31},
        NoticeKind.AWAITING_DECISION: {
            **INITIATIVE,
            "advice_positions": ["positive", "conditional"],
            "requested_amount_cents": 125_000,
        },
        NoticeKind.DECISION_OVERDUE: {
            **INITIATIVE,
            "decision_deadline": DEADLINE,
            "status": "ready_for_decision",
        },
        NoticeKind.RESULTS_REPORTED: {**INITIATIVE, "summary": "Vijf bankjes.", "results": RESULTS},
        NoticeKind.SUPPORTED_INITIATIVE_RESULTS: {
            **INITIATIVE,
            "summary": "Vijf bankjes.",
            "results": RESULTS,
        },
        NoticeKind.INITIATIVE_ACCOUNTED: {**INITIATIVE, **ACCOUNT},
        NoticeKind.SUPPORTED_INITIATIVE_ACCOUNTED: {**INITIATIVE, **ACCOUNT},
        NoticeKind.INITIATIVE_CLOSED: {**INITIATIVE, "reason": "Alles is klaar."},
        NoticeKind.INITIATIVE_WITHDRAWN: {
            **INITIATIVE,
            "reason": "Geen vrijwilligers meer.",
            "previous_status": "collecting_support",
        },
        NoticeKind.INITIATIVE_EXPIRED: {
            **INITIATIVE,
            "support_count": 12,
            "support_threshold": 30,
            "support_deadline": DEADLINE,
        },
        NoticeKind.MILESTONE_OVERDUE: {
            **INITIATIVE,
            "milestone_id": "m-1",
            "milestone": "Bankjes besteld",
            "due_date": date(2025, 12, 5),
        },
        NoticeKind.ADVICE_DEADLINE_APPROACHING: {
            **FACTS[NoticeKind.ADVICE_REQUESTED],
            "days_before": 3,
        },
        NoticeKind.ADVICE_OVERDUE_ESCALATED: {
            **FACTS[NoticeKind.ADVICE_REQUESTED],
            "member_role": "officer",
            "council_kind": "advisory_council",
        },
        NoticeKind.REPORT_HANDLED: {
            "report_id": "rep-1",
            "neighbourhood": "BU03620001",
            "outcome": "forwarded",
            "reason": "De stoep is van het waterschap.",
            "forwarded_to": "Waterschap Amstel",
        },
        NoticeKind.ROUND_PHASE_CHANGED: {
            "round_id": "round-9",
            "neighbourhood": "BU03620001",
            "previous_phase": "review",
            "phase": "voting",
            "followed": "neighbourhood",
            "followed_id": "BU03620001",
        },
        NoticeKind.ROUND_RESULTS_PUBLISHED: {
            "round_id": "round-9",
            "neighbourhood": "BU03620001",
            "rule": "mes",
            "ballots": 412,
            "budget_cents": 5_000_000,
            "funded_cost_cents": 4_200_000,
            "projects": [
                {"title": "Bankjes", "votes": 300, "funded": True, "cost_cents": 4_200_000},
                {"title": "Skatebaan", "votes": 120, "funded": False, "cost_cents": 900_000},
            ],
            "followed": "neighbourhood",
            "followed_id": "BU03620001",
        },
        NoticeKind.SPENDING_REPORTED: {
            **INITIATIVE,
            **FOLLOWING_BUDGET,
            "neighbourhood": "BU03620001",
            "amount_cents": 45_000,
            "description": "Twee bankjes",
            "cost_line": "materiaal",
            "planned_cents": 60_000,
            "spent_total_cents": 45_000,
        },
        NoticeKind.FOLLOWED_BUDGET_ALLOCATED: {
            **INITIATIVE,
            **FOLLOWING_BUDGET,
            "decision": "approved",
            "reasons": "Goed voor de buurt.",
            "conditions": [],
            "amount_cents": 125_000,
            "available_after_cents": 875_000,
        },
        NoticeKind.FUNDS_RELEASED: {
            **INITIATIVE,
            **FOLLOWING_BUDGET,
            "neighbourhood": None,
            "amount_cents": 7_000,
            "reason": "underspend",
            "still_reserved_cents": 0,
            "available_after_cents": 882_000,
        },
        NoticeKind.FUNDS_DISBURSED: {
            **INITIATIVE,
            **FOLLOWING_BUDGET,
            "neighbourhood": None,
            "amount_cents": 125_000,
            "disbursed_total_cents": 125_000,
            "still_reserved_cents": 0,
        },
    }
)
ALTERNATIVE = {
    "alternative_budget_id": "alt-1",
    "budget_id": "budget-2026",
    "neighbourhood": "BU03620001",
    "co_signers": 2,
    "signed_as": "co_signer",
}
FACTS.update(
    {
        NoticeKind.ALTERNATIVE_BUDGET_SUBMITTED: {
            **ALTERNATIVE,
            "signed_as": "drafter",
            "year": 2026,
            "lines": [
                {"theme": "groen", "amount_cents": 1_250_000, "motivation": "Meer bomen."},
                {"theme": "jeugd", "amount_cents": 750_050, "motivation": "Een speelplek."},
            ],
            "total_cents": 2_000_050,
            "submitted_at": DEADLINE,
        },
        NoticeKind.ALTERNATIVE_BUDGET_ADOPTED: {
            **ALTERNATIVE,
            "adoption": "partly",
            "lines": [
                {
                    "theme": "groen",
                    "proposed_cents": 1_250_000,
                    "adopted_cents": 1_250_000,
                    "reasons": "",
                },
                {
                    "theme": "jeugd",
                    "proposed_cents": 750_050,
                    "adopted_cents": 500_000,
                    "reasons": "De speelplek kost minder.",
                },
            ],
            "reasons": "Het voorstel past bij het buurtplan.",
            "decided_on": date(2026, 3, 12),
        },
        NoticeKind.ALTERNATIVE_BUDGET_NOT_ADOPTED: {
            **ALTERNATIVE,
            "reasons": "Het geld is al nodig voor het onderhoud van de straat.",
            "decided_on": date(2026, 3, 12),
        },
        NoticeKind.CONSULTATION_ANSWERED: {
            "consultation_id": "cons-1",
            "title": "Speelruimteplan met een Skatebaan",
            "link": "https://amstelveen.example/speelruimteplan.pdf",
            "answered_at": DEADLINE,
            "adopted": 4,
            "partly_adopted": 2,
            "not_adopted": 1,
            "council_id": "council-1",
            "council_kind": "youth_council",
            "member_role": "member",
        },
        NoticeKind.ALTERNATIVE_BUDGET_WITHDRAWN: {
            **ALTERNATIVE,
            "previous_status": "submitted",
            "reason": "We dienen volgend jaar een beter voorstel in.",
            "withdrawn_at": DEADLINE,
        },
        NoticeKind.CONSULTATION_INPUT_ANSWERED: {
            "consultation_id": "cons-1",
            "title": "Speelruimteplan met een Skatebaan",
            "link": "https://amstelveen.example/speelruimteplan.pdf",
            "answered_at": DEADLINE,
            "adopted": 4,
            "partly_adopted": 2,
            "not_adopted": 1,
        },
    }
)
HEADINGS = {
    Language.DUTCH: ("Wat is er gebeurd?", "Waarom", "Wat "),
    Language.ENGLISH: ("What happened?", "Why", "What "),
}


@pytest.mark.parametrize(
    ("cents", "dutch", "english"),
    [
        (125_000, "€ 1.250,00", "€1,250.00"),
        (0, "€ 0,00", "€0.00"),
        (5, "€ 0,05", "€0.05"),
        (99_950, "€ 999,50", "€999.50"),
        (123_456_789, "€ 1.234.567,89", "€1,234,567.89"),
        (-1_000, "€ -10,00", "-€10.00"),
    ],
)
def test_euro_cents_are_written_the_way_readers_expect(
    cents: int, dutch: str, english: str
) -> None:
    assert euro(cents, Language.DUTCH) == dutch
    assert euro(cents, Language.ENGLISH) == english


def test_moments_are_shown_in_amsterdam_time_winter_and_summer() -> None:
    assert local_datetime(DEADLINE, Language.DUTCH) == "vrijdag 5 december 2025 om 17.00 uur"
    assert local_datetime(DEADLINE, Language.ENGLISH) == (
        "Friday 5 December 2025 at 17:00 (Amsterdam time)"
    )
    summer = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)
    assert local_datetime(summer, Language.DUTCH) == "maandag 15 juni 2026 om 12.30 uur"
    elsewhere = summer.astimezone(timezone(timedelta(hours=-5)))
    assert local_datetime(elsewhere, Language.DUTCH) == "maandag 15 juni 2026 om 12.30 uur"


def test_a_moment_without_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        local_datetime(datetime(2025, 12, 5, 16, 0), Language.DUTCH)


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_message_says_what_happened_why_and_what_next_with_an_unsubscribe_link(
    kind: NoticeKind, language: Language
) -> None:
    notice = Notice(kind=kind, recipient_id="person-42", facts=FACTS[kind])

    rendered = Renderer(BASE_URL).render(notice, language, "GM0362")

    assert rendered.subject and "\n" not in rendered.subject
    if "title" in FACTS[kind]:
        assert "Bankjes" in rendered.subject or "Skatebaan" in rendered.subject
    for heading in HEADINGS[language]:
        assert heading in rendered.body
    assert (
        "https://inspraak.amstelveen.example/GM0362/notifications/unsubscribe?person=person-42"
        in rendered.body
    )
    assert "{{" not in rendered.body and "{%" not in rendered.body
    assert "\n\n\n" not in rendered.body


def render(kind: NoticeKind, language: Language) -> str:
    notice = Notice(kind=kind, recipient_id="person-42", facts=FACTS[kind])
    return Renderer(BASE_URL).render(notice, language, "GM0362").body


def test_advice_request_names_the_council_the_subject_and_the_deadline() -> None:
    dutch = render(NoticeKind.ADVICE_REQUESTED, Language.DUTCH)
    english = render(NoticeKind.ADVICE_REQUESTED, Language.ENGLISH)

    assert "Beste voorzitter van de jongerenraad" in dutch
    assert 'over het bewonersinitiatief "Skatebaan bij het Stadshart"' in dutch
    assert "vrijdag 5 december 2025 om 17.00 uur" in dutch
    assert "/GM0362/advice-requests/req-1" in dutch
    assert "Dear chair of the youth council" in english
    assert "You are the chair" in english
    assert "Friday 5 December 2025 at 17:00 (Amsterdam time)" in english


def test_budget_allocated_states_the_amount_reasons_and_conditions() -> None:
    dutch = render(NoticeKind.BUDGET_ALLOCATED, Language.DUTCH)
    english = render(NoticeKind.BUDGET_ALLOCATED, Language.ENGLISH)

    assert "is goedgekeurd" in dutch
    assert "€ 1.250,00 voor u gereserveerd" in dutch
    assert "Het plan helpt ouderen in de buurt." in dutch
    assert "- Vraag een vergunning aan\n- Informeer de buren\n" in dutch
    assert "has been approved" in english and "€1,250.00" in english


def test_allocation_rejected_states_how_much_the_budget_is_short() -> None:
    dutch = render(NoticeKind.ALLOCATION_REJECTED, Language.DUTCH)
    english = render(NoticeKind.ALLOCATION_REJECTED, Language.ENGLISH)

    assert "Er is dus € 999,50 te weinig." in dutch
    assert "€ 1.250,00" in dutch and "€ 250,50" in dutch
    assert "fonds voor bewonersinitiatieven" in dutch
    assert "That is €999.50 short." in english


def test_a_rejection_gives_the_reasons() -> None:
    dutch = render(NoticeKind.INITIATIVE_REJECTED, Language.DUTCH)

    assert "niet goedgekeurd" in dutch
    assert "Het park wordt volgend jaar opnieuw ingericht." in dutch


def test_a_missing_fact_fails_loudly_instead_of_rendering_a_gap() -> None:
    notice = Notice(kind=NoticeKind.INITIATIVE_REJECTED, recipient_id="p", facts={"title": "x"})

    with pytest.raises(UndefinedError, match=r"'reasons' is undefined"):
        Renderer(BASE_URL).render(notice, Language.DUTCH, "GM0362")


@pytest.mark.parametrize("language", list(Language))
def test_the_html_part_says_the_same_with_headings_links_and_escaped_facts(
    language: Language,
) -> None:
    facts = {**FACTS[NoticeKind.INITIATIVE_REJECTED], "title": "Bankjes <script>x</script>"}
    notice = Notice(kind=NoticeKind.INITIATIVE_REJECTED, recipient_id="person-42", facts=facts)

    rendered = Renderer(BASE_URL).render(notice, language, "GM0362")

    assert rendered.html.startswith("<!DOCTYPE html>")
    assert f'lang="{language.value}"' in rendered.html
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert f'<h2 style="font-size: 1.05em; margin-bottom: 0.2em;">{HEADINGS[language][0]}</h2>' in (
        rendered.html
    )
    unsubscribe = (
        "https://inspraak.amstelveen.example/GM0362/notifications/unsubscribe?person=person-42"
    )
    assert f'<a href="{unsubscribe}">' in rendered.html
    assert "Het park wordt volgend jaar opnieuw ingericht." in rendered.html


def test_an_sms_is_short_and_links_to_the_subject() -> None:
    notice = Notice(
        kind=NoticeKind.ADVICE_REQUESTED,
        recipient_id="person-42",
        facts=FACTS[NoticeKind.ADVICE_REQUESTED],
    )

    rendered = Renderer(BASE_URL).render(notice, Language.DUTCH, "GM0362")

    assert len(rendered.sms) <= 320
    assert rendered.sms.startswith("Vraag om advies: Skatebaan bij het Stadshart")
    assert rendered.sms.endswith("https://inspraak.amstelveen.example/GM0362/advice-requests/req-1")


def test_a_submitted_alternative_budget_is_on_its_way_with_its_division_in_euros() -> None:
    dutch = render(NoticeKind.ALTERNATIVE_BUDGET_SUBMITTED, Language.DUTCH)
    english = render(NoticeKind.ALTERNATIVE_BUDGET_SUBMITTED, Language.ENGLISH)

    assert "is ingediend bij de gemeenteraad" in dutch and "onderweg naar de raad" in dutch
    assert "- groen: € 12.500,00\n- jeugd: € 7.500,50\nSamen is dat € 20.000,50." in dutch
    assert "2 bewoners hebben het voorstel mede ondertekend." in dutch
    assert "U heeft deze alternatieve begroting opgesteld." in dutch
    assert "/GM0362/alternative-budgets/alt-1" in dutch
    assert "- groen: €12,500.00\n- jeugd: €7,500.50\nTogether that is €20,000.50." in english
    assert "You drafted this alternative budget." in english


def test_a_partly_adopted_alternative_budget_says_what_was_adopted_and_why() -> None:
    dutch = render(NoticeKind.ALTERNATIVE_BUDGET_ADOPTED, Language.DUTCH)
    english = render(NoticeKind.ALTERNATIVE_BUDGET_ADOPTED, Language.ENGLISH)

    assert "Op donderdag 12 maart 2026 heeft de gemeenteraad" in dutch
    assert "voor een deel aangenomen" in dutch
    assert "- groen: € 12.500,00\n- jeugd: € 5.000,00 (voorgesteld: € 7.500,50)\n" in dutch
    assert "Samen is dat € 17.500,00." in dutch
    assert "De gemeenteraad schrijft: Het voorstel past bij het buurtplan." in dutch
    assert "- jeugd: De speelplek kost minder." in dutch
    assert "U heeft deze alternatieve begroting mede ondertekend." in dutch
    assert "partly adopted" in english and "(proposed: €7,500.50)" in english
    assert "You co-signed this alternative budget." in english


def test_a_wholly_adopted_alternative_budget_says_so_in_its_subject() -> None:
    facts = {**FACTS[NoticeKind.ALTERNATIVE_BUDGET_ADOPTED], "adoption": "wholly"}
    notice = Notice(kind=NoticeKind.ALTERNATIVE_BUDGET_ADOPTED, recipient_id="p", facts=facts)

    rendered = Renderer(BASE_URL).render(notice, Language.DUTCH, "GM0362")

    assert rendered.subject.startswith("De gemeenteraad heeft uw alternatieve begroting aangenomen")
    assert "voor een deel" not in rendered.body


def test_an_alternative_budget_not_adopted_gives_the_councils_reasons() -> None:
    dutch = render(NoticeKind.ALTERNATIVE_BUDGET_NOT_ADOPTED, Language.DUTCH)
    english = render(NoticeKind.ALTERNATIVE_BUDGET_NOT_ADOPTED, Language.ENGLISH)

    assert "niet aangenomen" in dutch
    assert "Het geld is al nodig voor het onderhoud van de straat." in dutch
    assert "did not adopt" in english


def test_an_answered_consultation_counts_the_outcomes_and_links_the_participation_paragraph() -> (
    None
):
    dutch = render(NoticeKind.CONSULTATION_ANSWERED, Language.DUTCH)
    english = render(NoticeKind.CONSULTATION_ANSWERED, Language.ENGLISH)

    assert "- Overgenomen: 4\n- Voor een deel overgenomen: 2\n- Niet overgenomen: 1\n" in dutch
    assert "Beste lid van de jongerenraad" in dutch
    assert "/GM0362/consultations/cons-1/participation-paragraph" in dutch
    assert "https://amstelveen.example/speelruimteplan.pdf" in dutch
    assert "- Adopted: 4\n- Partly adopted: 2\n- Not adopted: 1\n" in english
    assert "participation paragraph" in english


def test_a_resident_who_gave_input_reads_what_was_done_and_where_each_answer_is() -> None:
    dutch = render(NoticeKind.CONSULTATION_INPUT_ANSWERED, Language.DUTCH)
    english = render(NoticeKind.CONSULTATION_INPUT_ANSWERED, Language.ENGLISH)

    assert "Beste bewoner," in dutch
    assert 'U heeft meegedacht over het beleidsstuk "Speelruimteplan met een Skatebaan".' in dutch
    assert "- Overgenomen: 4\n- Voor een deel overgenomen: 2\n- Niet overgenomen: 1\n" in dutch
    assert "Dan schrijft zij erbij waarom." in dutch
    assert "/GM0362/consultations/cons-1/participation-paragraph" in dutch
    assert "https://amstelveen.example/speelruimteplan.pdf" in dutch
    assert "- Adopted: 4\n- Partly adopted: 2\n- Not adopted: 1\n" in english
    assert "yours included" in english and "participation paragraph" in english


def test_every_point_adopted_needs_no_word_on_why_not() -> None:
    facts = {
        **FACTS[NoticeKind.CONSULTATION_INPUT_ANSWERED],
        "partly_adopted": 0,
        "not_adopted": 0,
        "link": None,
    }
    notice = Notice(kind=NoticeKind.CONSULTATION_INPUT_ANSWERED, recipient_id="p", facts=facts)

    body = Renderer(BASE_URL).render(notice, Language.DUTCH, "GM0362").body

    assert "waarom" not in body.split("Waarom krijgt u")[0]
    assert "Lees het beleidsstuk" not in body


@pytest.mark.parametrize(
    ("previous_status", "dutch_says"),
    [
        ("submitted", "Het voorstel lag al bij de gemeenteraad."),
        ("draft", "Het voorstel was nog niet ingediend bij de gemeenteraad."),
    ],
)
def test_a_co_signer_hears_the_withdrawal_where_it_stood_and_why(
    previous_status: str, dutch_says: str
) -> None:
    facts = {**FACTS[NoticeKind.ALTERNATIVE_BUDGET_WITHDRAWN], "previous_status": previous_status}
    notice = Notice(kind=NoticeKind.ALTERNATIVE_BUDGET_WITHDRAWN, recipient_id="p", facts=facts)

    dutch = Renderer(BASE_URL).render(notice, Language.DUTCH, "GM0362")
    english = Renderer(BASE_URL).render(notice, Language.ENGLISH, "GM0362")

    assert dutch.subject == "De alternatieve begroting voor buurt BU03620001 is ingetrokken"
    assert dutch_says in dutch.body
    assert "De opsteller schrijft: We dienen volgend jaar een beter voorstel in." in dutch.body
    assert "U heeft deze alternatieve begroting mede ondertekend." in dutch.body
    assert "/GM0362/alternative-budgets/alt-1" in dutch.body
    assert "The drafter writes: We dienen volgend jaar een beter voorstel in." in english.body


def test_a_withdrawal_without_a_reason_says_none_was_given() -> None:
    facts = {**FACTS[NoticeKind.ALTERNATIVE_BUDGET_WITHDRAWN], "reason": None}
    notice = Notice(kind=NoticeKind.ALTERNATIVE_BUDGET_WITHDRAWN, recipient_id="p", facts=facts)

    english = Renderer(BASE_URL).render(notice, Language.ENGLISH, "GM0362").body

    assert "The drafter gave no reason." in english
