"""Turns a notice into a message's subject and plain-text body, in the recipient's language.

Templates live in ``templates/<language>/<notice kind>.txt.j2``. Each sets ``subject`` and
renders the body: what happened, why the reader gets it, what they can do next, and a link to
stop receiving messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined

from services.notifications.domain.model import Language, Notice
from services.notifications.formatting import euro, local_datetime

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
    },
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


class Renderer:
    """Renders notices with Jinja2; links point at ``public_base_url``."""

    def __init__(self, public_base_url: str) -> None:
        self._base_url = public_base_url.rstrip("/")
        self._environments = {language: self._environment(language) for language in Language}

    @staticmethod
    def _environment(language: Language) -> Environment:
        environment = Environment(
            loader=PackageLoader("services.notifications", "templates"),
            autoescape=False,  # plain text: escaping would put '&amp;' in front of readers
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        labels = LABELS[language]
        environment.filters["euro"] = partial(euro, language=language)
        environment.filters["local_datetime"] = partial(local_datetime, language=language)
        environment.filters["label"] = lambda value: labels.get(str(value), str(value))
        return environment

    def unsubscribe_url(self, municipality: str, person_id: str) -> str:
        query = urlencode({"person": person_id})
        return f"{self._base_url}/{quote(municipality)}/notifications/unsubscribe?{query}"

    def links(self, municipality: str, notice: Notice) -> dict[str, str]:
        base = f"{self._base_url}/{quote(municipality)}"
        links = {"unsubscribe_url": self.unsubscribe_url(municipality, notice.recipient_id)}
        if "request_id" in notice.facts:
            links["advice_request_url"] = (
                f"{base}/advice-requests/{quote(str(notice.facts['request_id']))}"
            )
        if "initiative_id" in notice.facts:
            links["initiative_url"] = (
                f"{base}/initiatives/{quote(str(notice.facts['initiative_id']))}"
            )
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
        return Rendered(subject=subject, body=body)
