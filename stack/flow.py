"""Drives the first workflow through the public APIs, as residents, councils and staff would.

submit (resident) -> advice requested (advisory reacts) -> advice (council member) -> ready for
decision (initiatives reacts) -> decision (budget holder) -> funded or awaiting funds (budgets
reacts) -> the initiator's e-mail (notifications reacts).

Between its calls the driver waits either by polling the APIs (the default: nothing but HTTP is
needed) or, given an :class:`~stack.event_watch.EventWatch`, on the events themselves, as the
services do; then a flow costs the services only its three POSTs (submit, advise, decide).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import httpx

from services.notifications.domain.model import NoticeKind
from shared.contracts import advisory, budgets, initiatives
from stack.event_watch import EventWatch
from stack.seed import MUNICIPALITY

BASE = f"/v1/municipalities/{MUNICIPALITY}"
POLL_S = 0.01
NOTICE_HEADER = "X-Inspraak-Notice"
# The initiator hears of every step; these notices tell how the decision ended, which is where
# a flow is done.
OUTCOME_NOTICES = frozenset(
    {NoticeKind.BUDGET_ALLOCATED, NoticeKind.ALLOCATION_REJECTED, NoticeKind.INITIATIVE_REJECTED}
)
ADVICE_REQUESTED = advisory.AdviceRequested.event_type()
READY_FOR_DECISION = initiatives.InitiativeReadyForDecision.event_type()
# The initiative's status once initiatives has heard the budget's answer.
STATUS_AFTER = {
    budgets.BudgetAllocated.event_type(): "funded",
    budgets.AllocationRejected.event_type(): "awaiting_funds",
}


def tells_outcome(message: Message) -> bool:
    return message[NOTICE_HEADER] in OUTCOME_NOTICES


@dataclass
class FlowResult:
    initiative_id: str
    title: str
    status: str = ""
    steps: dict[str, float] = field(default_factory=dict)  # ms since submission

    @property
    def total_ms(self) -> float:
        return max(self.steps.values(), default=0.0)


class FlowDriver:
    """Runs flows against the stack's four APIs with the demo tokens."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        urls: dict[str, str],
        tokens: dict[str, str],
        mail_for: Callable[[str], Awaitable[bool]],
        traceparent: str | None = None,
        timeout_s: float = 60.0,
        watch: EventWatch | None = None,
    ) -> None:
        self._client, self._urls, self._tokens = client, urls, tokens
        self._mail_for = mail_for
        self._traceparent = traceparent
        self._timeout_s = timeout_s
        self._watch = watch

    def _headers(self, role: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._tokens[role]}"}
        if self._traceparent:
            headers["traceparent"] = self._traceparent
        return headers

    async def _call(self, method: str, service: str, path: str, role: str, **kw: Any) -> Any:
        response = await self._client.request(
            method, f"{self._urls[service]}{BASE}{path}", headers=self._headers(role), **kw
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    async def _until(self, what: str, probe: Callable[[], Awaitable[Any]]) -> Any:
        deadline = time.monotonic() + self._timeout_s
        while time.monotonic() < deadline:
            found = await probe()
            if found:
                return found
            await asyncio.sleep(POLL_S)
        raise TimeoutError(f"waited {self._timeout_s}s for {what}")

    async def run(
        self,
        *,
        amount_cents: int = 120_000,
        neighbourhood: str = "BU03620001",
        approve: bool = True,
    ) -> FlowResult:
        started = time.perf_counter()
        title = f"Bankjes bij de speeltuin {uuid.uuid4().hex[:8]}"
        initiative = await self._call(
            "POST",
            "initiatives",
            "/initiatives",
            "resident",
            json={
                "initiative_type": "buurt-demo",
                "title": title,
                "description": "Drie bankjes bij de speeltuin, zodat ouderen er kunnen rusten.",
                "neighbourhood": neighbourhood,
                "theme": "groen",
                "requested_amount_cents": amount_cents,
            },
        )
        result = FlowResult(initiative["id"], title)

        def mark(step: str) -> None:
            result.steps[step] = (time.perf_counter() - started) * 1000

        mark("submitted")

        round_id, request_id, council_id = await self._advice_requested(result.initiative_id)
        mark("advice requested")
        await self._call(
            "POST",
            "advisory",
            f"/advice-rounds/{round_id}/requests/{request_id}/advice",
            "council_member",
            json={"position": "positive", "motivation": "Goed voor ouderen en de buurt."},
        )
        mark("advice given")
        if self._watch is not None:
            await self._watch.wait_for(result.initiative_id, READY_FOR_DECISION, self._timeout_s)
        else:
            await self._until(
                "ready for decision", lambda: self._status_in({"ready_for_decision"}, result)
            )
        mark("ready for decision")
        await self._call(
            "POST",
            "initiatives",
            f"/initiatives/{result.initiative_id}/decision",
            "budget_holder",
            json={
                "approve": approve,
                "reasons": "Ja, tenzij: er is geen reden om nee te zeggen."
                if approve
                else "Past niet bij het advies van de wijkraad.",
                "conditions": ["Plaats de bankjes in overleg met de buren."] if approve else [],
                # "Yes, unless": a rejection answers the advice of every council that gave it.
                "advice_responses": {}
                if approve
                else {council_id: "Gewogen; het bezwaar van de buren weegt zwaarder."},
            },
        )
        mark("decided")
        if approve:
            if self._watch is not None:
                answer = await self._watch.wait_for(
                    result.initiative_id, STATUS_AFTER, self._timeout_s
                )
                result.status = STATUS_AFTER[answer.type]
            else:
                await self._until(
                    "the budget's answer",
                    lambda: self._status_in({"funded", "awaiting_funds"}, result),
                )
            mark("budget answered")
        await self._until("the initiator's e-mail", lambda: self._mail_for(title))
        mark("initiator e-mailed")
        return result

    async def _advice_requested(self, initiative_id: str) -> tuple[str, str, str]:
        """(round id, request id, council id) of the first council asked to advise."""
        if self._watch is not None:
            # The event carries all three, so the wait costs the services nothing.
            envelope = await self._watch.wait_for(initiative_id, ADVICE_REQUESTED, self._timeout_s)
            event = envelope.data
            assert isinstance(event, advisory.AdviceRequested)
            return event.round_id, event.request_id, event.council_id

        async def advice_round() -> Any:
            rounds = await self._call(
                "GET",
                "advisory",
                "/advice-rounds",
                "council_member",
                params={"subject_id": initiative_id},
            )
            return rounds[0] if rounds else None

        advice = await self._until("the advice request", advice_round)
        request = advice["requests"][0]
        return advice["id"], request["id"], request["council_id"]

    async def _status_in(self, wanted: set[str], result: FlowResult) -> bool:
        initiative = await self._call(
            "GET", "initiatives", f"/initiatives/{result.initiative_id}", "resident"
        )
        result.status = initiative["status"]
        return bool(initiative["status"] in wanted)
