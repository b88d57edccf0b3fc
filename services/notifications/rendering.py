"""Turns a notice into a message's subject, plain text, HTML and SMS, in the recipient's language.

Templates live in ``templates/<language>/<notice kind>.txt.j2``. Each sets ``subject`` and
renders the body: what happened, why the reader gets it, what they can do next, and a link to
stop receiving messages. The HTML part is the same text laid out by ``_layout.html.j2`` (with
autoescaping, so a title can never inject markup), unless ``<notice kind>.html.j2`` exists.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound
from markupsafe import Markup, escape

from services.notifications.domain.model import Language, Notice
from services.notifications.formatting import euro, local_date, local_datetime

LABELS: dict[Language, dict[str, str]] = {
    Language.DUTCH: {
        "neighbourhood_council": "wijkraad",
        "youth_council": "jongerenraad",
        "broad_advisory_committee": "brede adviescommissie",
        "initiative": "het bewonersinitiatief",
        "policy": "het beleidsstuk",
        "chair": "voorzitter",
        "secretary": "secretaris",
        "member": "lid",
        "positive": "positief",
        "negative": "negatief",
        "conditional": "positief met voorwaarden",
        "officer": "voorzitter of secretaris",
        "advisory_council": "adviesraad",
        "proposals": "ideeën indienen",
        "review": "ideeën beoordelen",
        "voting": "stemmen",
        "counting": "stemmen tellen",
        "done": "afgerond",
        "neighbourhood_budget": "het buurtbudget",
        "initiatives_fund": "het fonds voor bewonersinitiatieven",
        "greedy": "de meeste stemmen binnen het budget",
        "mes": "de methode van gelijke delen (Method of Equal Shares)",
        "withdrawn": "het initiatief is gestopt",
        "expired": "het geld is niet op tijd gebruikt",
        "underspend": "er is minder uitgegeven dan gepland",
        "collecting_support": "steun verzamelen",
        "in_review": "in behandeling bij de adviesraden",
        "ready_for_decision": "klaar voor een besluit",
        "submitted": "ingediend",
    },
    Language.ENGLISH: {
        "neighbourhood_council": "neighbourhood council",
        "youth_council": "youth council",
        "broad_advisory_committee": "broad advisory committee",
        "initiative": "the residents' initiative",
        "policy": "the policy document",
        "chair": "chair",
        "secretary": "secretary",
        "member": "member",
        "positive": "positive",
        "negative": "negative",
        "conditional": "positive with conditions",
        "officer": "chair or secretary",
        "advisory_council": "advisory council",
        "proposals": "collecting ideas",
        "review": "reviewing ideas",
        "voting": "voting",
        "counting": "counting the votes",
        "done": "finished",
        "neighbourhood_budget": "the neighbourhood budget",
        "initiatives_fund": "the fund for residents' initiatives",
        "greedy": "most votes within the budget",
        "mes": "the Method of Equal Shares",
        "withdrawn": "the initiative stopped",
        "expired": "the money was not used in time",
        "underspend": "less was spent than planned",
        "collecting_support": "collecting support",
        "in_review": "with the advisory councils",
        "ready_for_decision": "ready for a decision",
        "submitted": "submitted",
    },
}


URL = re.compile(r"https?://[^\s<>\"]+")
SMS_LIMIT = 320


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html: str = ""
    sms: str = ""


def linkify(text: str) -> Markup:
    """Escape text and make its links clickable."""
    parts: list[str] = []
    last = 0
    for match in URL.finditer(text):
        parts.append(str(escape(text[last : match.start()])))
        url = escape(match.group(0))
        parts.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))


def blocks(body: str) -> list[dict[str, Any]]:
    """The plain text's paragraphs as headings (a line ending in '?'), lists and text."""
    found: list[dict[str, Any]] = []
    for paragraph in body.strip().split("\n\n"):
        lines = [line for line in paragraph.splitlines() if line.strip()]
        if lines and lines[0].endswith("?") and len(lines[0]) < 80:
            found.append({"kind": "heading", "text": lines[0]})
            lines = lines[1:]
        items = [line[2:] for line in lines if line.startswith("- ")]
        text = [line for line in lines if not line.startswith("- ")]
        if text:
            found.append({"kind": "text", "lines": text})
        if items:
            found.append({"kind": "list", "items": items})
    return found


class Renderer:
    """Renders notices with Jinja2; links point at ``public_base_url``."""

    def __init__(self, public_base_url: str) -> None:
        self._base_url = public_base_url.rstrip("/")
        self._environments = {language: self._environment(language) for language in Language}
        self._html = {language: self._environment(language, html=True) for language in Language}

    @staticmethod
    def _environment(language: Language, *, html: bool = False) -> Environment:
        environment = Environment(
            loader=PackageLoader("services.notifications", "templates"),
            # Plain text is not escaped: '&amp;' would be put in front of readers.
            autoescape=html,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        labels = LABELS[language]
        environment.filters["euro"] = partial(euro, language=language)
        environment.filters["local_datetime"] = partial(local_datetime, language=language)
        environment.filters["local_date"] = partial(local_date, language=language)
        environment.filters["label"] = lambda value: labels.get(str(value), str(value))
        environment.filters["linkify"] = linkify
        return environment

    def feed_url(self, municipality: str) -> str:
        return f"{self._base_url}/{quote(municipality)}/berichten"

    def unsubscribe_url(self, municipality: str, person_id: str) -> str:
        query = urlencode({"person": person_id})
        return f"{self._base_url}/{quote(municipality)}/notifications/unsubscribe?{query}"

    def links(self, municipality: str, notice: Notice) -> dict[str, str]:
        base = f"{self._base_url}/{quote(municipality)}"
        links = {
            "unsubscribe_url": self.unsubscribe_url(municipality, notice.recipient_id),
            "feed_url": self.feed_url(municipality),
            "follows_url": f"{base}/volgen",
        }
        if notice.facts.get("request_id"):
            links["advice_request_url"] = (
                f"{base}/advice-requests/{quote(str(notice.facts['request_id']))}"
            )
        if notice.facts.get("initiative_id"):
            links["initiative_url"] = (
                f"{base}/initiatives/{quote(str(notice.facts['initiative_id']))}"
            )
        if notice.facts.get("round_id"):
            links["round_url"] = f"{base}/rounds/{quote(str(notice.facts['round_id']))}"
        if notice.facts.get("budget_id"):
            links["budget_url"] = f"{base}/budgets/{quote(str(notice.facts['budget_id']))}"
        if notice.facts.get("alternative_budget_id"):
            alternative = quote(str(notice.facts["alternative_budget_id"]))
            links["alternative_budget_url"] = f"{base}/alternative-budgets/{alternative}"
        if notice.facts.get("consultation_id"):
            consultation = f"{base}/consultations/{quote(str(notice.facts['consultation_id']))}"
            links["consultation_url"] = consultation
            links["participation_paragraph_url"] = f"{consultation}/participation-paragraph"
        return links

    def render(self, notice: Notice, language: Language, municipality: str) -> Rendered:
        template = self._environments[language].get_template(
            f"{language.value}/{notice.kind.value}.txt.j2"
        )
        context: dict[str, Any] = {
            **notice.facts,
            **self.links(municipality, notice),
            "municipality": municipality,
            "recipient_id": notice.recipient_id,
        }
        module = template.make_module(context)
        subject = " ".join(str(getattr(module, "subject", "")).split())
        if not subject:
            raise ValueError(f"template for {notice.kind.value} ({language.value}) sets no subject")
        body = str(module).strip() + "\n"
        html = self._render_html(notice, language, {**context, "subject": subject}, body)
        links = self.links(municipality, notice)
        link = next(
            (
                links[name]
                for name in (
                    "advice_request_url",
                    "initiative_url",
                    "round_url",
                    "alternative_budget_url",
                    "consultation_url",
                    "budget_url",
                )
                if name in links
            ),
            links["feed_url"],
        )
        sms = f"{subject[: SMS_LIMIT - len(link) - 1]} {link}"
        return Rendered(subject=subject, body=body, html=html, sms=sms)

    def _render_html(
        self, notice: Notice, language: Language, context: dict[str, Any], body: str
    ) -> str:
        environment = self._html[language]
        try:
            template = environment.get_template(f"{language.value}/{notice.kind.value}.html.j2")
        except TemplateNotFound:
            template = environment.get_template(f"{language.value}/_layout.html.j2")
        return template.render({**context, "blocks": blocks(body), "language": language.value})


class RenderCache:
    """Renders a notice that many get alike once per language, then fills in each reader.

    In a fan-out batch every notice has the same kind and the same ``facts``; the text differs
    per reader only where their id goes (the unsubscribe link). So it is rendered once with a
    placeholder id, checked against a full rendering for the first reader, and then only the
    placeholder is replaced. Where the placeholder would land in the subject or SMS, or the
    check differs, every notice is rendered in full: the cache never changes what is sent.
    """

    def __init__(self, renderer: Renderer, municipality: str) -> None:
        self._renderer = renderer
        self._municipality = municipality
        # (the facts as text, kind, language) -> the first reader's notice and full text, until
        # a second reader shares it; then the placeholder rendering, or None when this notice
        # must be rendered per reader. repr() tells a date from its text.
        self._first: dict[tuple[str, str, Language], tuple[Notice, Rendered]] = {}
        self._shapes: dict[tuple[str, str, Language], Rendered | None] = {}
        self._placeholder = f"rcpt{uuid.uuid4().hex}"

    def __call__(self, notice: Notice, language: Language) -> Rendered:
        key = (repr(notice.facts), notice.kind.value, language)
        if key not in self._first:
            # A notice nobody else shares (most outside a fan-out) is rendered once, as ever.
            full = self._renderer.render(notice, language, self._municipality)
            self._first[key] = (notice, full)
            return full
        if key not in self._shapes:
            self._shapes[key] = self._shape(*self._first[key], language)
        shape = self._shapes[key]
        if shape is None:
            return self._renderer.render(notice, language, self._municipality)
        return self._fill(shape, notice.recipient_id)

    def _shape(self, first: Notice, full: Rendered, language: Language) -> Rendered | None:
        placeholder = self._placeholder
        stand_in = Notice(kind=first.kind, recipient_id=placeholder, facts=first.facts)
        shape = self._renderer.render(stand_in, language, self._municipality)
        if placeholder in shape.subject or placeholder in shape.sms:
            return None
        return shape if self._fill(shape, first.recipient_id) == full else None

    def _fill(self, shape: Rendered, recipient_id: str) -> Rendered:
        placeholder = self._placeholder
        in_link = f"person={placeholder}"
        as_query = f"person={quote_plus(recipient_id)}"
        body = shape.body.replace(in_link, as_query).replace(placeholder, recipient_id)
        html = shape.html.replace(in_link, str(escape(as_query))).replace(
            placeholder, str(escape(recipient_id))
        )
        return Rendered(subject=shape.subject, body=body, html=html, sms=shape.sms)
