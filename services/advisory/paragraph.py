"""The participation paragraph of a policy document, in Dutch and English, HTML and Markdown.

Built only from what the service recorded: who was asked and how, when, what they said and
what the municipality did with it. Residents are counted, never named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.advisory.domain.consultations import Consultation, Point, PointOrigin
from services.advisory.domain.deadlines import local_date
from services.advisory.domain.model import AdviceRound, Council

TEMPLATES = Path(__file__).parent / "templates"
MONTHS = {
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
WORDS = {
    "nl": {
        "neighbourhood_council": "wijkraad",
        "youth_council": "jongerenraad",
        "broad_advisory_committee": "brede adviescommissie",
        "positive": "positief",
        "negative": "negatief",
        "conditional": "positief onder voorwaarden",
        "adopted": "overgenomen",
        "partly_adopted": "deels overgenomen",
        "not_adopted": "niet overgenomen",
        "unanswered": "nog niet beantwoord",
        "advice": "advies",
        "condition": "voorwaarde",
        "minority": "minderheidsstandpunt",
        "input": "inbreng van een inwoner",
        "advised": "gaf advies",
        "overdue": "gaf geen advies binnen de termijn",
        "closed": "gaf geen advies; de adviesronde is na escalatie gesloten",
        "lapsed": "zag af van advies",
        "open": "heeft nog niet geadviseerd",
    },
    "en": {
        "neighbourhood_council": "neighbourhood council",
        "youth_council": "youth council",
        "broad_advisory_committee": "broad advisory committee",
        "positive": "positive",
        "negative": "negative",
        "conditional": "positive with conditions",
        "adopted": "adopted",
        "partly_adopted": "partly adopted",
        "not_adopted": "not adopted",
        "unanswered": "not answered yet",
        "advice": "advice",
        "condition": "condition",
        "minority": "minority position",
        "input": "input from a resident",
        "advised": "advised",
        "overdue": "did not advise within the period",
        "closed": "did not advise; the round was closed after escalation",
        "lapsed": "chose not to advise",
        "open": "has not advised yet",
    },
}


class Language(StrEnum):
    DUTCH = "nl"
    ENGLISH = "en"


class Format(StrEnum):
    MARKDOWN = "markdown"
    HTML = "html"


@dataclass(frozen=True)
class CouncilTakingPart:
    name: str
    kind: str
    deadline: datetime
    status: str
    advised_on: datetime | None


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render(
    consultation: Consultation,
    advice_round: AdviceRound | None,
    councils: list[Council],
    *,
    language: Language,
    fmt: Format,
) -> str:
    names = {c.id: c for c in councils}
    taking_part = [
        CouncilTakingPart(
            name=names[r.council_id].name if r.council_id in names else r.council_id,
            kind=r.council_kind.value,
            deadline=r.deadline,
            status=r.status.value,
            advised_on=r.advice.given_at if r.advice else None,
        )
        for r in (advice_round.requests if advice_round else [])
    ]
    words = WORDS[language.value]

    def day(moment: datetime | None) -> str:
        if moment is None:
            return "-"
        local = local_date(moment)
        return f"{local.day} {MONTHS[language.value][local.month - 1]} {local.year}"

    def source(point: Point) -> str:
        if point.origin is PointOrigin.RESIDENT:
            return "Inwoner" if language is Language.DUTCH else "Resident"
        council = names.get(point.council_id or "")
        return council.name if council else str(point.council_id)

    template = _environment.get_template(
        f"paragraph.{language.value}.{'md' if fmt is Format.MARKDOWN else 'html'}.j2"
    )
    return template.render(
        consultation=consultation,
        councils=taking_part,
        council_points=[p for p in consultation.points if p.origin is PointOrigin.COUNCIL],
        resident_points=[p for p in consultation.points if p.origin is PointOrigin.RESIDENT],
        residents=len(
            {p.contributor for p in consultation.points if p.origin is PointOrigin.RESIDENT}
        ),
        words=words,
        day=day,
        source=source,
    )
