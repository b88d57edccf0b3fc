"""A resident follows a neighbourhood and a budget; budgets' events reach their mailbox.

The whole path on a real broker and a real SMTP server: budgets' events published the way the
budgets service publishes them (CloudEvents binary mode, key = partitionkey), the consumer,
the rules, the fan-out worker, the dispatcher, an e-mail in the follower's language.
"""

from __future__ import annotations

from pathlib import Path

from shared.auth import Role
from shared.contracts import budgets
from shared.contracts.envelope import Envelope
from shared.testing.helpers import token
from tests.integration.notifications_support import (
    BASE,
    BUDGETS_SOURCE,
    M,
    mailing_residents,
    message_id_prefix,
    publish_to,
    text_of,
)

AREA, BUDGET = "BU03620001", "budget-centrum-2026"


def round_results() -> Envelope:
    return Envelope.wrap(
        budgets.RoundResultsPublished(
            municipality=M,
            round_id="round-centrum-2026",
            neighbourhood=AREA,
            rule="greedy",
            ballots=318,
            budget_cents=5_000_000,
            funded_cost_cents=4_250_000,
            projects=[
                budgets.ProjectOutcome(
                    project_id="p-1",
                    title="Speeltuin Oost",
                    cost_cents=4_250_000,
                    votes=201,
                    funded=True,
                ),
                budgets.ProjectOutcome(
                    project_id="p-2",
                    title="Fietsenrek",
                    cost_cents=900_000,
                    votes=117,
                    funded=False,
                ),
            ],
        ),
        source=BUDGETS_SOURCE,
    )


def spending() -> Envelope:
    return Envelope.wrap(
        budgets.SpendingReported(
            municipality=M,
            initiative_id="init-1",
            budget_id=BUDGET,
            amount_cents=45_000,
            description="Twee parkbankjes",
        ),
        source=BUDGETS_SOURCE,
    )


async def test_budgets_events_reach_the_mailbox_of_whoever_follows_the_area_or_budget(
    kafka: str, namespace: str, tmp_path: Path
) -> None:
    languages = {"follows-area": "nl", "follows-budget": "en", "follows-nothing": "nl"}
    async with mailing_residents(kafka, namespace, tmp_path, languages) as (client, drop):
        for person, path in (
            ("follows-area", f"neighbourhood/{AREA}"),
            ("follows-budget", f"budget/{BUDGET}"),
        ):
            me = token(Role.RESIDENT, subject=person)
            followed = await client.put(f"{BASE}/contacts/{person}/follows/{path}", headers=me)
            assert followed.status_code == 200, followed.text

        results, spent = round_results(), spending()
        await publish_to(kafka, f"{namespace}budgets.events.v1", [results, spent])

        await drop.wait_for("follows-area@example.org", "follows-budget@example.org", settle_s=1.0)

    [area_mail] = drop.to("follows-area@example.org")
    assert area_mail["Subject"] == f"Uitslag buurtbegroting {AREA}"
    text = text_of(area_mail)
    assert "- Speeltuin Oost: 201 stemmen, € 42.500,00" in text
    assert f"U volgt de buurt {AREA}." in text
    assert area_mail["Message-ID"].startswith(message_id_prefix(results, "follows-area"))

    [budget_mail] = drop.to("follows-budget@example.org")
    assert budget_mail["Subject"] == 'Spending booked for "init-1": €450.00'
    assert "You follow this budget." in text_of(budget_mail)
    assert drop.to("follows-nothing@example.org") == []
    assert len(drop.received) == 2, [m["Subject"] for _, m in drop.received]
