"""`make demo`, the whole life of an initiative: drives it against the running stack.

Support from residents until review, advice from the council, the decision, budgets'
reservation and a payment, then carrying it out, results, the account and closing -- after
which budgets gives back what was reserved and not paid. Then a policy consultation that ends
in its participation paragraph (Markdown, Dutch), printed to the terminal.

Everything goes through the four services' public APIs, as residents, councils and staff would;
the stack reacts to itself only through Kafka.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shared.auth import Role
from stack.demo import read_stack_env
from stack.local import SERVICES, development_token
from stack.seed import MUNICIPALITY

BASE = f"/v1/municipalities/{MUNICIPALITY}"
POLL_S = 0.02
SUPPORTED_TYPE = "buurt-klein"  # seeded: 25 supports, one co-initiator, neighbourhood budget
COST_LINES = (("Drie bankjes", 90_000), ("Plaatsing door de gemeente", 30_000))


@dataclass
class Lifecycle:
    """What one initiative went through, for the caller to check or print."""

    initiative_id: str
    title: str
    supporters: list[str]
    status: str = ""
    round_id: str = ""
    advising_councils: list[str] = field(default_factory=list)
    budgeted_cents: int = 0
    disbursed_cents: int = 0
    money: dict[str, Any] = field(default_factory=dict)  # budgets' figures after closing
    steps: list[tuple[float, str]] = field(default_factory=list)  # (ms since start, step)


@dataclass
class ConsultationResult:
    consultation_id: str
    title: str
    points: int
    paragraph: str


class LifecycleDriver:
    """Drives initiatives and consultations through the stack's APIs with development tokens.

    ``tokens`` are the demo roles' tokens (see ``stack.seed``); residents and council members
    beyond them get tokens of their own, signed with the development secret.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        urls: dict[str, str],
        tokens: dict[str, str],
        *,
        timeout_s: float = 30.0,
        say: Callable[[str], None] = lambda _line: None,
    ) -> None:
        self._client, self._urls, self._tokens = client, urls, tokens
        self._timeout_s = timeout_s
        self._say = say

    # -- plumbing ---------------------------------------------------------------------------

    def token(self, role: str) -> str:
        return self._tokens[role]

    async def call(self, method: str, service: str, path: str, token: str, **kw: Any) -> Any:
        response = await self._client.request(
            method,
            f"{self._urls[service]}{BASE}{path}",
            headers={"Authorization": f"Bearer {token}"},
            **kw,
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {service}{path}: {response.status_code} {response.text}")
        if not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    async def until(self, what: str, probe: Callable[[], Awaitable[Any]]) -> Any:
        deadline = time.monotonic() + self._timeout_s
        while time.monotonic() < deadline:
            found = await probe()
            if found:
                return found
            await asyncio.sleep(POLL_S)
        raise TimeoutError(f"waited {self._timeout_s}s for {what}")

    async def initiative(self, initiative_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call(
            "GET", "initiatives", f"/initiatives/{initiative_id}", self.token("resident")
        )
        return found

    async def status_becomes(self, initiative_id: str, *wanted: str) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            initiative = await self.initiative(initiative_id)
            return initiative if initiative["status"] in wanted else None

        found: dict[str, Any] = await self.until(" or ".join(wanted), probe)
        return found

    async def advice_round(self, subject_id: str) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            rounds = await self.call(
                "GET",
                "advisory",
                "/advice-rounds",
                self.token("civil_servant"),
                params={"subject_id": subject_id},
            )
            return rounds[0] if rounds else None

        found: dict[str, Any] = await self.until("the advice round", probe)
        return found

    async def officer_token(self, council_id: str) -> str:
        """A token for the council's chair (or secretary), who records adopted advice."""
        council = await self.call(
            "GET", "advisory", f"/councils/{council_id}", self.token("civil_servant")
        )
        officers = [m for m in council["members"] if m["role"] in ("chair", "secretary")]
        if not officers:
            raise RuntimeError(f"council {council['name']} has no chair or secretary")
        return development_token(Role.COUNCIL_MEMBER, officers[0]["person_id"])

    async def advise(
        self, advice_round: dict[str, Any], request: dict[str, Any], motivation: str
    ) -> dict[str, Any]:
        advised: dict[str, Any] = await self.call(
            "POST",
            "advisory",
            f"/advice-rounds/{advice_round['id']}/requests/{request['id']}/advice",
            await self.officer_token(request["council_id"]),
            json={
                "position": "conditional",
                "motivation": motivation,
                "conditions": ["Overleg met de buren over de plek van de bankjes."],
            },
        )
        return advised

    # -- the life of an initiative -----------------------------------------------------------

    async def run(
        self,
        *,
        neighbourhood: str = "BU03620001",
        disburse_cents: int = 80_000,
        supporter_contacts: int = 3,
    ) -> Lifecycle:
        """Submit, collect support until review, advise, decide, fund, pay part, carry out,
        report, account and close; return what happened."""
        started = time.perf_counter()
        run_id = uuid.uuid4().hex[:8]
        title = f"Bankjes langs de Amstel {run_id}"
        kind = await self._initiative_type(SUPPORTED_TYPE)
        threshold = int(kind["support_threshold"])
        supporters = [f"bewoner-{run_id}-{n:03d}" for n in range(threshold)]
        civil_servant = self.token("civil_servant")
        initiator = self.token("initiator")

        def step(text: str) -> None:
            at = (time.perf_counter() - started) * 1000
            result.steps.append((at, text))
            self._say(f"{at:8.0f} ms  {text}")

        # Who is told what: the budget holder decides for every neighbourhood, and a few
        # supporters left an e-mail address (the rest support anonymously).
        await self.call(
            "PUT",
            "notifications",
            "/budget-holders/budget-holder-demo",
            civil_servant,
            json={"neighbourhoods": []},
        )
        for person in supporters[:supporter_contacts]:
            await self.call(
                "PUT",
                "notifications",
                f"/contacts/{person}",
                civil_servant,
                json={"email": f"{person}@example.org", "language": "nl"},
            )

        today = datetime.now(UTC).date()
        initiative = await self.call(
            "POST",
            "initiatives",
            "/initiatives",
            initiator,
            json={
                "initiative_type": SUPPORTED_TYPE,
                "title": title,
                "description": "Bankjes langs het wandelpad, zodat ouderen onderweg kunnen rusten.",
                "neighbourhood": neighbourhood,
                "theme": "groen",
                "problem": "Ouderen lopen het wandelpad niet meer: er is nergens om te rusten.",
                "desired_improvement": "Elke 300 meter een bankje; meer ouderen wandelen.",
                "co_initiators": ["resident-demo"],
                "milestones": [
                    {
                        "id": "m1",
                        "description": "Bankjes besteld",
                        "due_date": (today + timedelta(days=30)).isoformat(),
                    },
                    {
                        "id": "m2",
                        "description": "Bankjes geplaatst",
                        "due_date": (today + timedelta(days=60)).isoformat(),
                    },
                ],
                "cost_lines": [
                    {"description": text, "amount_cents": cents} for text, cents in COST_LINES
                ],
                "indicators": [
                    {"id": "i1", "description": "Bankjes geplaatst", "target": 3, "unit": "stuks"},
                    {
                        "id": "i2",
                        "description": "Ouderen die het pad weer lopen",
                        "target": 20,
                        "unit": "personen",
                    },
                ],
            },
        )
        result = Lifecycle(initiative["id"], title, supporters)
        result.budgeted_cents = sum(cents for _, cents in COST_LINES)
        step(f"submitted '{title}': {initiative['status']}, {threshold} supports needed")

        for person in supporters:
            await self.call(
                "POST",
                "initiatives",
                f"/initiatives/{result.initiative_id}/supports",
                development_token(Role.RESIDENT, person),
            )
        step(f"{threshold} residents supported it")
        await self.status_becomes(result.initiative_id, "in_review")
        step("in review: the support threshold was reached, advice requested")

        advice_round = await self.advice_round(result.initiative_id)
        result.round_id = advice_round["id"]
        for request in advice_round["requests"]:
            await self.advise(
                advice_round, request, "Goed voor ouderen; let op de plek bij de speeltuin."
            )
            result.advising_councils.append(request["council_id"])
        step(f"{len(advice_round['requests'])} council(s) advised: conditional")
        await self.status_becomes(result.initiative_id, "ready_for_decision")
        step("ready for decision")

        await self.call(
            "POST",
            "initiatives",
            f"/initiatives/{result.initiative_id}/decision",
            self.token("budget_holder"),
            json={
                "approve": True,
                "reasons": "Ja, tenzij: het advies van de wijkraad is overgenomen.",
                "conditions": ["Plaats de bankjes in overleg met de buren."],
            },
        )
        step("approved, with the council's condition")
        funded = await self.status_becomes(result.initiative_id, "funded", "awaiting_funds")
        if funded["status"] != "funded":
            raise RuntimeError(f"the budget could not reserve the money: {funded['status']}")
        step(f"funded: budgets reserved {_euro(result.budgeted_cents)}")

        await self.call(
            "POST",
            "budgets",
            f"/allocations/{result.initiative_id}/disbursements",
            self.token("budget_holder"),
            json={"amount_cents": disburse_cents, "note": "Eerste betaling"},
        )

        async def paid() -> bool:
            initiative = await self.initiative(result.initiative_id)
            return bool(initiative["disbursed_cents"] == disburse_cents)

        await self.until("the payment in the initiative's history", paid)
        result.disbursed_cents = disburse_cents
        step(f"paid out {_euro(disburse_cents)} (in the initiative's history)")

        path = f"/initiatives/{result.initiative_id}"
        await self.call("POST", "initiatives", f"{path}/start", initiator)
        step("started: carrying out the action plan")
        for milestone, text in (("m1", "De bankjes zijn besteld."), ("m2", "Ze staan er.")):
            await self.call(
                "POST",
                "initiatives",
                f"{path}/progress",
                initiator,
                json={"text": text, "milestone_id": milestone},
            )
        step("progress reported: both milestones done")
        await self.call(
            "POST",
            "initiatives",
            f"{path}/results",
            initiator,
            json={
                "summary": "Drie bankjes geplaatst; 24 ouderen lopen het pad weer.",
                "measured": {"i1": 3, "i2": 24},
            },
        )
        step("results reported against the targets")
        await self.call(
            "POST",
            "initiatives",
            f"{path}/account",
            initiator,
            json={
                "spent_cents": disburse_cents,
                "account": "De bankjes waren goedkoper dan begroot; de rest gaat terug.",
            },
        )
        step(f"accounted: {_euro(disburse_cents)} spent")
        closed = await self.call(
            "POST",
            "initiatives",
            f"{path}/close",
            civil_servant,
            json={"reason": "Verantwoording goedgekeurd."},
        )
        result.status = closed["status"]
        step("closed by a civil servant")

        async def released() -> dict[str, Any] | None:
            money = await self.call(
                "GET", "budgets", f"/allocations/{result.initiative_id}/money", civil_servant
            )
            return money if money["figures"]["remaining_cents"] == 0 else None

        money = await self.until("budgets to release what was not paid", released)
        result.money = money["figures"]
        step(
            f"budgets released {_euro(result.budgeted_cents - disburse_cents)} not paid out; "
            f"granted {_euro(result.money['allocated_cents'])}"
        )
        return result

    async def _initiative_type(self, code: str) -> dict[str, Any]:
        types = await self.call(
            "GET", "initiatives", "/initiative-types", self.token("civil_servant")
        )
        for kind in types:
            if kind["code"] == code:
                found: dict[str, Any] = kind
                return found
        raise RuntimeError(f"initiative type {code} is not seeded")

    # -- a policy consultation ---------------------------------------------------------------

    async def consultation(self) -> ConsultationResult:
        """Put a policy document to the neighbourhood council and residents, record their
        advice and input, answer every point and return the participation paragraph."""
        civil_servant = self.token("civil_servant")
        councils = await self.call("GET", "advisory", "/councils", civil_servant)
        council = next(c for c in councils if c["kind"] == "neighbourhood_council")
        title = f"Beleidsnota Groen in de wijk {uuid.uuid4().hex[:6]}"
        consultation = await self.call(
            "POST",
            "advisory",
            "/consultations",
            civil_servant,
            json={
                "title": title,
                "summary": "Meer bomen en bankjes in Centrum; minder verharding.",
                "link": "https://www.amstelveen.nl/beleid/groen-in-de-wijk",
                "themes": ["groen"],
                "areas": council["neighbourhoods"],
                "council_ids": [council["id"]],
                "open_to_residents": True,
                "days": 10,
            },
        )
        consultation_id = consultation["id"]
        self._say(f"opened consultation '{title}' for {council['name']} and residents")
        await self.call(
            "POST",
            "advisory",
            f"/consultations/{consultation_id}/input",
            self.token("resident"),
            json={"text": "Graag schaduw bij de speelplaatsen; het wordt er 's zomers te heet."},
        )
        advice_round = await self.call(
            "GET", "advisory", f"/advice-rounds/{consultation['advice_round_id']}", civil_servant
        )
        [request] = advice_round["requests"]
        await self.call(
            "POST",
            "advisory",
            f"/advice-rounds/{advice_round['id']}/requests/{request['id']}/advice",
            await self.officer_token(request["council_id"]),
            json={
                "position": "conditional",
                "motivation": "De wijkraad steunt de nota, mits de bewoners meebeslissen.",
                "conditions": ["Laat bewoners per straat kiezen waar de bomen komen."],
                "minority_positions": [
                    {
                        "position": "negative",
                        "motivation": "Parkeerplaatsen mogen niet verdwijnen.",
                        "supporters": 2,
                    }
                ],
            },
        )
        self._say("the council advised (with a condition and a minority), a resident gave input")
        consultation = await self.call(
            "POST", "advisory", f"/consultations/{consultation_id}/close", civil_servant
        )
        outcomes = ("adopted", "partly_adopted", "not_adopted")
        for n, point in enumerate(consultation["points"]):
            await self.call(
                "POST",
                "advisory",
                f"/consultations/{consultation_id}/points/{point['id']}/answer",
                civil_servant,
                json={
                    "outcome": outcomes[n % len(outcomes)],
                    "reason": f"Gewogen in het college; zie paragraaf {n + 1} van de nota.",
                },
            )
        await self.call(
            "POST", "advisory", f"/consultations/{consultation_id}/answers", civil_servant
        )
        self._say(f"answered all {len(consultation['points'])} points and published the answers")
        paragraph = await self.call(
            "GET",
            "advisory",
            f"/consultations/{consultation_id}/participation-paragraph",
            civil_servant,
            params={"language": "nl", "format": "markdown"},
        )
        return ConsultationResult(consultation_id, title, len(consultation["points"]), paragraph)


def _euro(cents: int) -> str:
    return f"EUR {cents / 100:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


async def drive(env: dict[str, str]) -> tuple[Lifecycle, ConsultationResult]:
    urls = {name: env[f"{name.upper()}_URL"] for name in SERVICES}
    tokens = {key[6:].lower(): value for key, value in env.items() if key.startswith("TOKEN_")}
    async with httpx.AsyncClient(timeout=10) as client:
        driver = LifecycleDriver(client, urls, tokens, say=lambda line: print(line, flush=True))
        print("the life of an initiative (ms since submission):")
        lifecycle = await driver.run()
        print("\na policy consultation:")
        consultation = await driver.consultation()
        return lifecycle, consultation


def main() -> int:
    env = read_stack_env()
    started = time.perf_counter()
    lifecycle, consultation = asyncio.run(drive(env))
    print(
        f"\ninitiative {lifecycle.initiative_id}: {lifecycle.status}; budgets' figures "
        f"{lifecycle.money}"
    )
    print(f"\nparticipation paragraph of '{consultation.title}' (Markdown):\n")
    print(consultation.paragraph)
    print(f"{(time.perf_counter() - started) * 1000:.0f} ms in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
