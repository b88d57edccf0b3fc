"""A fan-out renders a notice once per language and builds e-mails without re-parsing headers.

Both are shortcuts for speed, so each is checked against the long way round: what a reader
gets must be exactly what rendering every notice in full (and ``EmailMessage.set_content``)
would have produced.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from services.notifications.domain.model import (
    Cause,
    Channel,
    Contact,
    Language,
    Message,
    MessageStatus,
    Notice,
    NoticeKind,
    message_id,
)
from services.notifications.emails import build_email
from services.notifications.rendering import RenderCache, Rendered, Renderer

M = "GM0362"
FACTS = {
    "initiative_id": "init-1",
    "title": "Een park voor café \u2018De Hoek\u2019 & <de buurt>",
    "decision": "approved",
    "reasons": "Veel steun.",
    "conditions": ["Opruimen na afloop"],
}
# Ids that change when URL-encoded or HTML-escaped: the placeholder must land right in both.
PEOPLE = ["supporter-000001", "a&b <c>", "jan de vries", "zoë/ü?x=1#y", "plus+sign%20"]


class CountingRenderer(Renderer):
    def __init__(self) -> None:
        super().__init__("https://inspraak.example")
        self.calls = 0

    def render(self, notice: Notice, language: Language, municipality: str) -> Rendered:
        self.calls += 1
        return super().render(notice, language, municipality)


@pytest.mark.parametrize("language", list(Language))
def test_a_shared_notice_is_rendered_once_and_each_reader_gets_their_own_full_text(
    language: Language,
) -> None:
    renderer = CountingRenderer()
    cache = RenderCache(renderer, M)
    notices = [
        Notice(kind=NoticeKind.SUPPORTED_INITIATIVE_DECIDED, recipient_id=p, facts=dict(FACTS))
        for p in PEOPLE * 20
    ]

    rendered = [cache(notice, language) for notice in notices]

    # The first reader in full, the placeholder once: not once per reader.
    assert renderer.calls == 2
    full = Renderer("https://inspraak.example")
    for notice, got in zip(notices, rendered, strict=True):
        assert got == full.render(notice, language, M)


def test_notices_nobody_shares_are_rendered_once_each() -> None:
    renderer = CountingRenderer()
    cache = RenderCache(renderer, M)

    for n, person in enumerate(PEOPLE):
        cache(
            Notice(
                kind=NoticeKind.SUPPORTED_INITIATIVE_DECIDED,
                recipient_id=person,
                facts={**FACTS, "title": f"Initiatief {n}"},
            ),
            Language.DUTCH,
        )

    assert renderer.calls == len(PEOPLE)


def test_notices_with_other_facts_are_not_given_each_others_text() -> None:
    cache = RenderCache(Renderer("https://inspraak.example"), M)
    approved = Notice(kind=NoticeKind.SUPPORTED_INITIATIVE_DECIDED, recipient_id="p", facts=FACTS)
    rejected = Notice(
        kind=NoticeKind.SUPPORTED_INITIATIVE_DECIDED,
        recipient_id="q",
        facts={**FACTS, "decision": "rejected"},
    )

    cache(approved, Language.DUTCH)

    assert cache(rejected, Language.DUTCH).body == (
        Renderer("https://inspraak.example").render(rejected, Language.DUTCH, M).body
    )
    assert "niet goedgekeurd" in cache(rejected, Language.DUTCH).body


def _reference_email(message: Message, contact: Contact, unsubscribe_url: str) -> EmailMessage:
    """The e-mail the long way: set_content and parsed headers, as the standard library does."""
    email = EmailMessage()
    email.set_content(message.body)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    email["From"] = "Inspraak <noreply@inspraak.example>"
    email["To"] = contact.email
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = message_id(message.idempotency_key, "inspraak.example")
    email["Content-Language"] = message.language.value
    email["Auto-Submitted"] = "auto-generated"
    email["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    email["X-Inspraak-Notice"] = message.kind.value
    return email


def _wire(email: EmailMessage) -> bytes:
    out = io.BytesIO()
    BytesGenerator(out, policy=email_policy.SMTP).flatten(email)
    data = out.getvalue().replace(b";\r\n boundary=", b"; boundary=")
    boundary = email.get_boundary()
    return data.replace(boundary.encode(), b"BOUNDARY") if boundary else data


@pytest.mark.parametrize(
    ("subject", "body", "html"),
    [
        ("Besluit over het initiatief", "Beste bewoner,\n\nZie https://x.example/a\n", "<p>a</p>"),
        (
            "Ideeën voor café \u2018De Hoek\u2019: een onderwerp langer dan één regel mag zijn",
            "Beste bewoner,\n\nideeën café\n",
            "<p>ideeën</p>",
        ),
        ("Lange regels", ("x" * 120 + "\n") * 3, None),  # quoted-printable
        ("Lang en niet ASCII", ("é" * 120 + "\n") * 15, "<p>" + "é" * 200 + "</p>"),  # base64
        ("Alleen tekst", "Gewoon ASCII\n", None),
    ],
)
def test_the_fast_email_is_byte_for_byte_what_set_content_builds(
    subject: str, body: str, html: str | None
) -> None:
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    contact = Contact(
        municipality=M,
        person_id="p",
        email="p@example.org",
        language=Language.DUTCH,
        updated_at=now,
    )
    message = Message(
        id="m-1",
        idempotency_key="k" * 64,
        municipality=M,
        recipient_id="p",
        channel=Channel.EMAIL,
        kind=NoticeKind.SUPPORTED_INITIATIVE_DECIDED,
        language=Language.DUTCH,
        subject=subject,
        body=body,
        html=html,
        cause=Cause(source="urn:x", event_id="e", event_type="t", correlation_id="c"),
        status=MessageStatus.SENDING,
        created_at=now,
    )
    unsubscribe_url = "https://inspraak.example/GM0362/notifications/unsubscribe?person=" + "p" * 80

    fast = build_email(
        message,
        contact,
        sender="Inspraak <noreply@inspraak.example>",
        domain="inspraak.example",
        unsubscribe_url=unsubscribe_url,
    )

    assert _wire(fast) == _wire(_reference_email(message, contact, unsubscribe_url))
    assert str(fast["Subject"]) == subject
    plain = fast.get_body(("plain",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == body


@pytest.mark.parametrize(
    ("subject", "exact"),
    [
        # The standard folder breaks this one right after "Subject:".
        ('Het advies over uw initiatief "Bankjes bij de speeltuin 777e2c8f" is klaar', True),
        # Folded before an encoded word, the standard parser reads back two spaces there.
        ("Wat de gemeente met uw inbreng heeft gedaan: de beleidsnota voor Zoë en de buurt", False),
    ],
)
def test_what_smtp_sends_reads_back_as_the_subject_and_a_followable_unsubscribe_link(
    subject: str, exact: bool
) -> None:
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    contact = Contact(
        municipality=M,
        person_id="p",
        email="p@example.org",
        language=Language.DUTCH,
        updated_at=now,
    )
    message = Message(
        id="m-1",
        idempotency_key="k" * 64,
        municipality=M,
        recipient_id="p",
        channel=Channel.EMAIL,
        kind=NoticeKind.AWAITING_DECISION,
        language=Language.DUTCH,
        subject=subject,
        body="Beste bewoner,\n",
        cause=Cause(source="urn:x", event_id="e", event_type="t", correlation_id="c"),
        status=MessageStatus.SENDING,
        created_at=now,
    )
    link = "https://inspraak.example.nl/GM0362/notifications/unsubscribe?person=resident-demo"
    email = build_email(
        message,
        contact,
        sender="Inspraak <noreply@inspraak.example>",
        domain="inspraak.example",
        unsubscribe_url=link,
    )
    out = io.BytesIO()
    BytesGenerator(out).flatten(email, linesep="\r\n")  # as smtplib.send_message does
    wire = out.getvalue()

    received = message_from_bytes(wire, policy=email_policy.default)
    read = str(received["Subject"])
    assert (read if exact else " ".join(read.split())) == subject
    assert f"List-Unsubscribe: <{link}>\r\n".encode() in wire, "a link clients can follow"
    assert all(len(line) <= 998 for line in wire.split(b"\r\n"))
