"""Builds the e-mail for a composed message, cheaply enough for a fan-out to many thousands.

``EmailMessage.set_content`` / ``add_alternative`` and assigning headers parse every header
they touch, and flattening re-folds every parsed header: for a decision told to 20,000
supporters that, not SMTP, was what one core spent its time on. Here the same MIME tree is
assembled with ``set_raw``: header text that is plain ASCII and short goes in as is (the
generator writes it unchanged), anything else is folded once by the standard policy and the
folded text is cached. The bodies are encoded with the standard library's own heuristics
(7bit, 8bit, quoted-printable or base64), so what goes over the wire is what
``set_content`` would have produced.
"""

from __future__ import annotations

import binascii
import functools
from email import policy as email_policy
from email import quoprimime
from email.message import EmailMessage
from email.utils import format_datetime

from services.notifications.domain.model import Contact, Message, message_id

# Header text is folded here, once (see ``_raw``); the generator writes it as it is. Refolding it
# would turn a long link without spaces (List-Unsubscribe) into RFC 2047 encoded words that
# mail clients cannot follow.
POLICY = email_policy.default.clone(refold_source="none")
MAX_LINE = POLICY.max_line_length or 78


def build_email(
    message: Message, contact: Contact, *, sender: str, domain: str, unsubscribe_url: str
) -> EmailMessage:
    """The e-mail for a message; every attempt builds the same headers and body."""
    email = EmailMessage(policy=POLICY)
    text = _text_part(message.body, "plain")
    if message.html:
        html = _text_part(message.html, "html")
        html.set_raw("MIME-Version", "1.0")
        # The boundary comes from the idempotency key: a resend is byte for byte the same.
        boundary = f"=_{message.idempotency_key[:24]}"
        email.set_raw("MIME-Version", "1.0")
        email.set_raw("Content-Type", f'multipart/alternative; boundary="{boundary}"')
        email.set_payload([text, html])
    else:
        for name, value in text.raw_items():
            email.set_raw(name, value)
        email.set_raw("MIME-Version", "1.0")
        email.set_payload(text.get_payload())
    headers = (
        ("From", sender),
        ("To", contact.email),
        ("Subject", message.subject),
        ("Date", format_datetime(message.created_at)),
        ("Message-ID", message_id(message.idempotency_key, domain)),
        ("Content-Language", message.language.value),
        ("Auto-Submitted", "auto-generated"),
        ("List-Unsubscribe", f"<{unsubscribe_url}>"),
        # Lets mail rules (and our tests) tell an outcome from the other notices about one
        # subject.
        ("X-Inspraak-Notice", message.kind.value),
    )
    for name, value in headers:
        email.set_raw(name, _raw(name, value))
    return email


def _text_part(text: str, subtype: str) -> EmailMessage:
    part = EmailMessage(policy=POLICY)
    cte, payload = encode_text(text)
    part.set_raw("Content-Type", f'text/{subtype}; charset="utf-8"')
    part.set_raw("Content-Transfer-Encoding", cte)
    part.set_payload(payload)
    return part


def _raw(name: str, value: str) -> str:
    """Header text the generator writes unchanged: plain ASCII as is, the rest folded once.

    ASCII without spaces has no place to fold (a Message-ID, a link): the standard folder
    returns it whole too, after a costly parse, so only short or unbreakable text skips it.
    """
    plain = value.isascii() and value.isprintable()
    if plain and (len(name) + 2 + len(value) <= MAX_LINE or " " not in value):
        return value
    return _folded(name, value)


@functools.lru_cache(maxsize=4096)
def _folded(name: str, value: str) -> str:
    folded = POLICY.header_factory(name, value).fold(policy=POLICY)
    # The folder may break right after "Name:", which would start the value with white space.
    return folded[len(name) + 1 :].strip()


def encode_text(text: str) -> tuple[str, str]:
    """(Content-Transfer-Encoding, payload) as ``set_content`` chooses them for UTF-8 text.

    The same heuristics as the standard library's ``email.contentmanager``: 7bit when it is
    ASCII with short lines, 8bit when only the characters are not (this policy allows 8bit),
    else the shorter of quoted-printable and base64.
    """
    lines = text.encode("utf-8").splitlines()
    linesep = POLICY.linesep.encode("ascii")
    normal = b"\n".join(lines) + b"\n"
    if max((len(line) for line in lines), default=0) <= MAX_LINE:
        try:
            return "7bit", normal.decode("ascii")
        except UnicodeDecodeError:
            pass
        if POLICY.cte_type == "8bit":
            return "8bit", normal.decode("ascii", "surrogateescape")
    sniff = linesep.join(lines[:10]) + linesep
    sniff_qp = quoprimime.body_encode(sniff.decode("latin-1"), MAX_LINE)
    if len(sniff_qp) > len(binascii.b2a_base64(sniff)):
        embedded = linesep.join(lines) + linesep
        per_line = MAX_LINE // 4 * 3
        chunks = (embedded[i : i + per_line] for i in range(0, len(embedded), per_line))
        return "base64", "".join(binascii.b2a_base64(chunk).decode("ascii") for chunk in chunks)
    if len(lines) <= 10:
        return "quoted-printable", sniff_qp
    return "quoted-printable", quoprimime.body_encode(normal.decode("latin-1"), MAX_LINE)
