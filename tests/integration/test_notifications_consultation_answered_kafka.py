"""A resident who gave input on a policy consultation hears the municipality's answer, once.

The whole path on a real broker and a real SMTP server: advisory's events published the way
the advisory service publishes them (CloudEvents binary mode, key = partitionkey), the answer
delivered twice (at least once is all Kafka promises), the consumer, the rules seeded by the
migrations, the dispatcher, one e-mail per resident in their language.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.contracts import advisory
from shared.contracts.envelope import Envelope
from tests.integration.notifications_support import (
    ADVISORY_SOURCE,
    M,
    mailing_residents,
    message_id_prefix,
    publish_to,
    text_of,
)

CONSULTATION = "cons-speelruimte-2026"
ANSWERED_AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
RESIDENT, OTHER_RESIDENT = "resident-7", "resident-8"


def opened() -> Envelope:
    return Envelope.wrap(
        advisory.ConsultationOpened(
            municipality=M,
            consultation_id=CONSULTATION,
            title="Speelruimteplan 2026",
            summary="Waar kinderen spelen.",
            link="https://gemeente.example/speelruimteplan.pdf",
            open_to_residents=True,
            closes_at=ANSWERED_AT - timedelta(days=14),
        ),
        source=ADVISORY_SOURCE,
    )


def answered() -> Envelope:
    return Envelope.wrap(
        advisory.ConsultationAnswered(
            municipality=M,
            consultation_id=CONSULTATION,
            answered_at=ANSWERED_AT,
            adopted=3,
            partly_adopted=1,
            not_adopted=2,
            contributor_ids=[RESIDENT, OTHER_RESIDENT],
        ),
        source=ADVISORY_SOURCE,
    )


async def test_a_consultation_answer_reaches_each_contributing_resident_exactly_once(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    languages = {RESIDENT: "nl", OTHER_RESIDENT: "en", "bystander": "nl"}
    async with mailing_residents(kafka, namespace, tmp_path, languages) as (_, drop):
        event = answered()
        # The answer twice, as a redelivery after a lost acknowledgement would bring it; same
        # key as the opening, so it arrives after it.
        await publish_to(kafka, f"{namespace}advisory.events.v1", [opened(), event, event])

        await drop.wait_for(
            f"{RESIDENT}@example.org", f"{OTHER_RESIDENT}@example.org", settle_s=1.5
        )

    [mail] = drop.to(f"{RESIDENT}@example.org")
    assert mail["Subject"] == "Wat de gemeente met uw inbreng heeft gedaan: Speelruimteplan 2026"
    text = text_of(mail)
    assert "- Overgenomen: 3\n- Voor een deel overgenomen: 1\n- Niet overgenomen: 2\n" in text
    assert f"/{M}/consultations/{CONSULTATION}/participation-paragraph" in text
    assert "https://gemeente.example/speelruimteplan.pdf" in text
    assert OTHER_RESIDENT not in text
    assert mail["Message-ID"].startswith(message_id_prefix(event, RESIDENT))

    [english] = drop.to(f"{OTHER_RESIDENT}@example.org")
    assert english["Subject"] == "What the municipality did with your input: Speelruimteplan 2026"
    assert "- Adopted: 3\n- Partly adopted: 1\n- Not adopted: 2\n" in text_of(english)
    assert drop.to("bystander@example.org") == []
    assert len(drop.received) == 2, [m["Subject"] for _, m in drop.received]
