"""`make demo`, the budgeting part: a neighbourhood budgeting round through the budgets API.

Against the running stack (``.run/stack.env``, or ``$INSPRAAK_RUN_DIR/stack.env``): plans a
round, collects proposals, gives the feasibility verdicts, opens the vote, casts a few hundred
generated ballots of pseudonymous residents online and imports a batch of paper ballots in
bulk, counts the round, and prints every proposal's votes and whether it is funded by greedy
(by votes) and by the Method of Equal Shares, side by side.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from shared.auth import Role
from stack.local import development_token

MUNICIPALITY = "GM0362"
NEIGHBOURHOOD = "BU03620001"
BASE = f"/v1/municipalities/{MUNICIPALITY}/rounds"
# (title, cost in euro cents, feasible?) — one is judged infeasible, as happens in real rounds.
PROPOSALS: tuple[tuple[str, int, bool], ...] = (
    ("Speeltuin Oranjebaan opknappen", 1_200_000, True),
    ("Bankjes en schaduwbomen langs de Amstel", 450_000, True),
    ("Buurtmoestuin bij de school", 300_000, True),
    ("Verlichting fietspad Bovenkerk", 800_000, True),
    ("Jongerenhonk in het buurthuis", 600_000, True),
    ("Zebrapad over de Rembrandtweg", 250_000, True),
    ("Waterspeelplaats in het park", 1_500_000, True),
    ("Overdekte skatebaan", 2_000_000, False),
)
ROUND_BUDGET_CENTS = 2_500_000


def run_dir() -> Path:
    return Path(os.environ.get("INSPRAAK_RUN_DIR", ".run"))


def read_stack_env(path: Path | None = None) -> dict[str, str] | None:
    """``stack.env`` as a dict, or ``None`` when the stack has not been started."""
    path = path or run_dir() / "stack.env"
    if not path.exists():
        return None
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {name: value for name, value in pairs}


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=3).status_code < 500
    except httpx.HTTPError:
        return False


def bearer(role: Role, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {development_token(role, subject, MUNICIPALITY)}"}


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text}"
        )
    return response.json()


@dataclass
class Voters:
    """Generated residents with tastes: most like a few popular proposals, a minority differs."""

    online: list[tuple[str, list[str]]]  # (pseudonymous resident id, chosen project ids)
    paper: list[tuple[str, list[str]]]  # (paper ballot number, chosen project ids)


def generate_voters(
    project_ids: Sequence[str], online: int, paper: int, seed: int = 362, max_choices: int = 3
) -> Voters:
    rng = random.Random(seed)
    popular = [rng.random() ** 2 + 0.05 for _ in project_ids]
    # A quarter of the neighbourhood (say, the young families) votes as a bloc for the two
    # proposals the others like least: greedy by votes passes them over, Equal Shares does not.
    bloc = sorted(project_ids, key=lambda i: popular[list(project_ids).index(i)])[:2]

    def choice() -> list[str]:
        if rng.random() < 0.25:
            return bloc[: rng.randint(1, len(bloc))]
        wanted = rng.choices(list(project_ids), weights=popular, k=rng.randint(1, max_choices))
        return sorted(set(wanted))

    run = uuid.uuid4().hex[:8]
    return Voters(
        online=[(f"resident-{run}-{i:05d}", choice()) for i in range(online)],
        paper=[(f"P{run}-{i:05d}", choice()) for i in range(paper)],
    )


class RoundDriver:
    """Drives one round through the budgets API, as a budget holder and as residents."""

    def __init__(self, client: httpx.AsyncClient, budgets_url: str) -> None:
        self.client = client
        self.url = budgets_url + BASE
        self.holder = bearer(Role.BUDGET_HOLDER, "budget-holder-demo")
        self.round_id = ""

    async def plan(
        self, title: str, *, voting_seconds: float, rule: str = "greedy", max_choices: int = 3
    ) -> dict[str, Any]:
        """Phases start one after the other; voting closes ``voting_seconds`` from now."""
        now = datetime.now(UTC)
        counting = now + timedelta(seconds=voting_seconds)
        schedule = {
            "proposals": now - timedelta(seconds=3),
            "review": now - timedelta(seconds=2),
            "voting": now - timedelta(seconds=1),
            "counting": counting,
            "done": counting + timedelta(seconds=1),
        }
        body = {
            "neighbourhood": NEIGHBOURHOOD,
            "title": title,
            "budget_cents": ROUND_BUDGET_CENTS,
            "ballot_kind": "approval",
            "rule": rule,
            "max_choices": max_choices,
            "schedule": {phase: at.isoformat() for phase, at in schedule.items()},
        }
        round_ = _ok(await self.client.post(self.url, json=body, headers=self.holder))
        self.round_id = round_["id"]
        return dict(round_)

    async def propose_and_judge(self, proposals: Sequence[tuple[str, int, bool]]) -> list[str]:
        """Submit the proposals, give every verdict; the feasible ones' ids."""
        feasible = []
        for index, (title, cost, ok) in enumerate(proposals):
            proposer = bearer(Role.RESIDENT, f"resident-proposer-{index}")
            proposal = _ok(
                await self.client.post(
                    f"{self.url}/{self.round_id}/proposals",
                    json={"title": title, "cost_cents": cost},
                    headers=proposer,
                )
            )
            reasons = (
                "Past binnen de regels en het budget; de gemeente kan het uitvoeren."
                if ok
                else "Te duur voor deze ronde en de grond is niet van de gemeente."
            )
            _ok(
                await self.client.put(
                    f"{self.url}/{self.round_id}/proposals/{proposal['project_id']}/verdict",
                    json={"verdict": "feasible" if ok else "infeasible", "reasons": reasons},
                    headers=self.holder,
                )
            )
            if ok:
                feasible.append(str(proposal["project_id"]))
        return feasible

    async def advance(self, phase: str, *, wait_until_planned: bool = False) -> dict[str, Any]:
        while True:
            response = await self.client.post(
                f"{self.url}/{self.round_id}/phase", json={"phase": phase}, headers=self.holder
            )
            if response.status_code == 409 and wait_until_planned and "planned" in response.text:
                await asyncio.sleep(0.25)
                continue
            return dict(_ok(response))

    async def cast(self, voter_id: str, project_ids: list[str]) -> bool:
        response = await self.client.put(
            f"{self.url}/{self.round_id}/ballot",
            json={"project_ids": project_ids},
            headers=bearer(Role.RESIDENT, voter_id),
        )
        _ok(response)
        return True

    async def cast_all(self, online: Sequence[tuple[str, list[str]]], concurrency: int) -> int:
        """Every online ballot, ``concurrency`` requests in flight; how many were accepted."""
        queue = list(reversed(online))
        accepted = 0

        async def worker() -> None:
            nonlocal accepted
            while queue:
                voter_id, choice = queue.pop()
                if await self.cast(voter_id, choice):
                    accepted += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return accepted

    async def import_paper(self, paper: Sequence[tuple[str, list[str]]]) -> int:
        if not paper:
            return 0
        body = {"ballots": [{"paper_id": pid, "project_ids": ids} for pid, ids in paper]}
        imported = _ok(
            await self.client.post(
                f"{self.url}/{self.round_id}/paper-ballots", json=body, headers=self.holder
            )
        )
        return int(imported["imported"])

    async def view(self) -> dict[str, Any]:
        return dict(_ok(await self.client.get(f"{self.url}/{self.round_id}", headers=self.holder)))

    async def results(self, rule: str) -> dict[str, Any]:
        return dict(
            _ok(
                await self.client.get(
                    f"{self.url}/{self.round_id}/results",
                    params={"rule": rule},
                    headers=self.holder,
                )
            )
        )


def euros(cents: int) -> str:
    return f"€ {cents / 100:,.0f}".replace(",", ".")


def side_by_side(greedy: dict[str, Any], mes: dict[str, Any]) -> str:
    by_mes = {p["project_id"]: p for p in mes["projects"]}
    lines = [
        f"{'id':>3}  {'proposal':<42} {'cost':>12} {'votes':>6}  {'greedy':<8} {'MES':<8}",
        "-" * 86,
    ]
    for project in greedy["projects"]:
        other = by_mes[project["project_id"]]
        lines.append(
            f"{project['project_id']:>3}  {project['title'][:42]:<42} "
            f"{euros(project['cost_cents']):>12} {project['votes']:>6}  "
            f"{'funded' if project['funded'] else '-':<8} "
            f"{'funded' if other['funded'] else '-':<8}"
        )
    lines.append("-" * 86)
    lines.append(
        f"{'':>3}  {'funded in all (of ' + euros(greedy['budget_cents']).strip() + ')':<42} "
        f"{'':>12} {'':>6}  {euros(greedy['funded_cost_cents']).strip():<8} "
        f"{euros(mes['funded_cost_cents']).strip():<8}"
    )
    return "\n".join(lines)


async def run_round(
    budgets_url: str, *, online: int = 300, paper: int = 60, voting_seconds: float = 25.0
) -> dict[str, Any]:
    """A whole round; returns the round and both rules' results."""
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30) as client:
        driver = RoundDriver(client, budgets_url)
        planned = await driver.plan(
            f"Buurtbegroting {NEIGHBOURHOOD} {datetime.now(UTC):%Y-%m-%d %H:%M}",
            voting_seconds=voting_seconds,
        )
        print(f"round {planned['id']}: {planned['title']}, budget {euros(ROUND_BUDGET_CENTS)}")
        feasible = await driver.propose_and_judge(PROPOSALS)
        print(f"  {len(PROPOSALS)} proposals, {len(feasible)} feasible")
        await driver.advance("review")
        await driver.advance("voting")
        voters = generate_voters(feasible, online, paper)
        cast_started = time.perf_counter()
        accepted = await driver.cast_all(voters.online, concurrency=16)
        imported = await driver.import_paper(voters.paper)
        cast_s = time.perf_counter() - cast_started
        view = await driver.view()
        print(
            f"  {accepted} online ballots and {imported} paper ballots (one bulk import) in "
            f"{cast_s:.1f} s; the round holds {view['ballots_cast']} ballots"
        )
        print("  waiting for voting to close at its planned time ...", flush=True)
        await driver.advance("counting", wait_until_planned=True)
        greedy = await driver.results("greedy")
        mes = await driver.results("mes")
    return {
        "round": view,
        "greedy": greedy,
        "mes": mes,
        "seconds": time.perf_counter() - started,
    }


def main() -> int:
    env = read_stack_env()
    if env is None:
        print(
            f"no {run_dir() / 'stack.env'}: start the stack with `make run` first",
            file=sys.stderr,
        )
        return 1
    budgets_url = env.get("BUDGETS_URL", "")
    if not budgets_url or not answers(budgets_url):
        print(f"the budgets service at {budgets_url!r} does not answer", file=sys.stderr)
        return 1
    outcome = asyncio.run(run_round(budgets_url))
    greedy, mes = outcome["greedy"], outcome["mes"]
    print(f"\nresults of {greedy['ballots']} ballots, greedy by votes beside Equal Shares:\n")
    print(side_by_side(greedy, mes))
    print(
        f"\nanyone can recount: {budgets_url}/v1/municipalities/{MUNICIPALITY}/public/rounds/"
        f"{outcome['round']['id']}/pabulib.pb  ({outcome['seconds']:.1f} s in all)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
