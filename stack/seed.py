"""The demo municipality, GM0362 (Amstelveen), seeded through the services' own APIs.

Neighbourhood codes are CBS-style codes of the demo; people are pseudonymous ids whose
contact details live only in the notifications service.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from shared.auth import Role
from stack.local import development_token

MUNICIPALITY = "GM0362"
NEIGHBOURHOODS = ("BU03620001", "BU03620002", "BU03620003")
DEMO_TYPE = "buurt-demo"
# Types with the rules a municipality would set: support first, deadlines in working days.
SUPPORTED_TYPES: dict[str, dict[str, object]] = {
    "buurt-klein": {
        "name": "Klein buurtinitiatief (25 steunbetuigingen)",
        "support_threshold": 25,
        "support_window_days": 30,
        "min_co_initiators": 1,
        "max_amount_cents": 500_000,
        "funding_source": "neighbourhood_budget",
        "decision_deadline_days": 20,
        "working_days": True,
    },
    "fonds-maatschappelijk": {
        "name": "Fonds maatschappelijk initiatief",
        "support_threshold": 50,
        "support_window_days": 42,
        "min_co_initiators": 2,
        "max_amount_cents": 500_000,
        "funding_source": "initiatives_fund",
        "decision_deadline_days": 40,
        "working_days": True,
    },
}
NEIGHBOURHOOD_BUDGET_CENTS = 2_500_000
DEMO_PEOPLE = {
    "resident": "resident-demo",
    "initiator": "initiator-demo",
    "council_member": "member-anna",
    "civil_servant": "civil-servant-demo",
    "budget_holder": "budget-holder-demo",
    "system": "system-demo",
}
COUNCIL_MEMBERS = {"member-anna": "chair", "member-bram": "secretary", "member-chris": "member"}
YOUTH_MEMBERS = {"member-dewi": "chair", "member-emre": "member"}


def tokens() -> dict[str, str]:
    return {role: development_token(Role(role), person) for role, person in DEMO_PEOPLE.items()}


def _check(response: httpx.Response) -> dict[str, object]:
    if response.status_code >= 400 and response.status_code != 409:
        raise RuntimeError(f"seeding failed: {response.request.url} {response.text}")
    return response.json() if response.content else {}


def seed_demo(urls: dict[str, str]) -> dict[str, str]:
    """Seed once (a second run finds what is there); return a token per demo role."""
    issued = tokens()
    official = {"Authorization": f"Bearer {issued['civil_servant']}"}
    holder = {"Authorization": f"Bearer {issued['budget_holder']}"}
    base = f"/v1/municipalities/{MUNICIPALITY}"
    with httpx.Client(timeout=10) as client:
        _check(
            client.put(
                f"{urls['initiatives']}{base}/initiative-types/{DEMO_TYPE}",
                json={
                    "code": DEMO_TYPE,
                    "name": "Buurtinitiatief (demo, geen steun nodig)",
                    "support_threshold": 0,
                    "support_window_days": 42,
                    "min_co_initiators": 0,
                    "max_amount_cents": 2_500_000,
                    "funding_source": "neighbourhood_budget",
                    "decision_deadline_days": 56,
                    "working_days": False,
                },
                headers=official,
            )
        )
        for code, body in SUPPORTED_TYPES.items():
            _check(
                client.put(
                    f"{urls['initiatives']}{base}/initiative-types/{code}",
                    json={"code": code, **body},
                    headers=official,
                )
            )
        councils = client.get(f"{urls['advisory']}{base}/councils", headers=official).json()
        if not councils:
            _seed_councils(client, urls["advisory"] + base, official)
        year = datetime.now(UTC).year
        for neighbourhood in NEIGHBOURHOODS:
            _check(
                client.post(
                    f"{urls['budgets']}{base}/budgets",
                    json={
                        "kind": "neighbourhood_budget",
                        "neighbourhood": neighbourhood,
                        "year": year,
                        "opening_amount_cents": NEIGHBOURHOOD_BUDGET_CENTS,
                    },
                    headers=holder,
                )
            )
        _check(
            client.post(
                f"{urls['budgets']}{base}/budgets",
                json={
                    "kind": "initiatives_fund",
                    "opening_amount_cents": 5_000_000,
                    "max_per_initiative_cents": 500_000,
                },
                headers=holder,
            )
        )
        people = [*DEMO_PEOPLE.values(), *COUNCIL_MEMBERS, *YOUTH_MEMBERS]
        for person in people:
            _check(
                client.put(
                    f"{urls['notifications']}{base}/contacts/{person}",
                    json={
                        "email": f"{person}@example.org",
                        "language": "nl",
                    },
                    headers=official,
                )
            )
    return issued


def _seed_councils(client: httpx.Client, advisory: str, official: dict[str, str]) -> None:
    council = _check(
        client.post(
            f"{advisory}/councils",
            json={
                "name": "Wijkraad Centrum",
                "kind": "neighbourhood_council",
                "neighbourhoods": list(NEIGHBOURHOODS[:2]),
                "advice_days": 10,
            },
            headers=official,
        )
    )
    youth = _check(
        client.post(
            f"{advisory}/councils",
            json={
                "name": "Jongerenraad Amstelveen",
                "kind": "youth_council",
                "themes": ["jeugd"],
            },
            headers=official,
        )
    )
    for members, body in ((COUNCIL_MEMBERS, council), (YOUTH_MEMBERS, youth)):
        for person, role in members.items():
            _check(
                client.post(
                    f"{advisory}/councils/{body['id']}/members",
                    json={"person_id": person, "role": role},
                    headers=official,
                )
            )
