"""An alternative budget adopted by the municipal council reaches its drafter and co-signers.

The whole path on a real broker and a real SMTP server: budgets' event published the way the
budgets service publishes it (CloudEvents binary mode, key = partitionkey) and delivered twice
(at least once is all Kafka promises), the consumer, the rules seeded by the migrations, the
dispatcher, one e-mail per person in their language.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from shared.contracts import budgets
from shared.contracts.envelope import Envelope
from tests.integration.notifications_support import (
    BUDGETS_SOURCE,
    M,
    mailing_residents,
    message_id_prefix,
    publish_to,
    text_of,
)

AREA, BUDGET = "BU03620001", "budget-centrum-2026"
DRAFTER, CO_SIGNER = "drafter-1", "co-signer-1"


def adopted() -> Envelope:
    return Envelope.wrap(
        budgets.AlternativeBudgetAdopted(
            municipality=M,
            alternative_budget_id="alt-centrum-2026",
            budget_id=BUDGET,
            neighbourhood=AREA,
            drafter_id=DRAFTER,
            co_signer_ids=[CO_SIGNER],
            adoption=budgets.AdoptionExtent.PARTLY,
            lines=[
                budgets.AdoptedLine(
                    theme="groen", proposed_cents=3_000_000, adopted_cents=3_000_000
                ),
                budgets.AdoptedLine(
                    theme="jeugd",
                    proposed_cents=2_000_000,
                    adopted_cents=1_250_000,
                    reasons="De speelplek kan goedkoper.",
                ),
            ],
            reasons="Het voorstel past bij het buurtplan.",
            decided_on=date(2026, 3, 12),
            recorded_by="griffie-1",
        ),
        source=BUDGETS_SOURCE,
    )


async def test_an_adopted_alternative_budget_reaches_drafter_and_co_signer_once_each(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    languages = {DRAFTER: "nl", CO_SIGNER: "en", "bystander": "nl"}
    async with mailing_residents(kafka, namespace, tmp_path, languages) as (_, drop):
        event = adopted()
        # The same event twice, as a redelivery after a lost acknowledgement would bring it.
        await publish_to(kafka, f"{namespace}budgets.events.v1", [event, event])

        await drop.wait_for(f"{DRAFTER}@example.org", f"{CO_SIGNER}@example.org", settle_s=1.5)

    [drafter_mail] = drop.to(f"{DRAFTER}@example.org")
    assert drafter_mail["Subject"] == (
        f"De gemeenteraad heeft uw alternatieve begroting voor een deel aangenomen: buurt {AREA}"
    )
    drafter_text = text_of(drafter_mail)
    assert "- groen: € 30.000,00\n- jeugd: € 12.500,00 (voorgesteld: € 20.000,00)\n" in (
        drafter_text
    )
    assert "Samen is dat € 42.500,00." in drafter_text
    assert "De gemeenteraad schrijft: Het voorstel past bij het buurtplan." in drafter_text
    assert "U heeft deze alternatieve begroting opgesteld." in drafter_text
    assert drafter_mail["Message-ID"].startswith(message_id_prefix(event, DRAFTER))

    [co_signer_mail] = drop.to(f"{CO_SIGNER}@example.org")
    assert co_signer_mail["Subject"] == (
        f"The municipal council partly adopted your alternative budget: neighbourhood {AREA}"
    )
    co_signer_text = text_of(co_signer_mail)
    assert "- jeugd: €12,500.00 (proposed: €20,000.00)" in co_signer_text
    assert "You co-signed this alternative budget." in co_signer_text
    assert drop.to("bystander@example.org") == []
    assert len(drop.received) == 2, [m["Subject"] for _, m in drop.received]
