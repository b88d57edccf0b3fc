"""The bench driver's EventWatch on the real broker: waits on events, kept or still to come."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.contracts import advisory, budgets, initiatives
from shared.contracts.base import EventData
from shared.testing.events import publish
from shared.testing.helpers import create_test_topics, eventually
from stack.event_watch import EventWatch
from stack.flow import ADVICE_REQUESTED, READY_FOR_DECISION, STATUS_AFTER

MUNICIPALITY = "GM0362"


def _ready(initiative_id: str) -> initiatives.InitiativeReadyForDecision:
    return initiatives.InitiativeReadyForDecision(
        municipality=MUNICIPALITY,
        initiative_id=initiative_id,
        advice_round_id=str(uuid.uuid4()),
        advice_positions=["positive"],
        requested_amount_cents=100,
    )


def _advice_requested(initiative_id: str) -> advisory.AdviceRequested:
    return advisory.AdviceRequested(
        municipality=MUNICIPALITY,
        round_id=str(uuid.uuid4()),
        subject_kind=advisory.SubjectKind.INITIATIVE,
        subject_id=initiative_id,
        request_id=str(uuid.uuid4()),
        council_id=str(uuid.uuid4()),
        council_kind=advisory.CouncilKind.NEIGHBOURHOOD_COUNCIL,
        title="Bankjes bij de speeltuin",
        deadline=datetime.now(UTC) + timedelta(days=14),
    )


def _allocated(initiative_id: str) -> budgets.BudgetAllocated:
    return budgets.BudgetAllocated(
        municipality=MUNICIPALITY,
        initiative_id=initiative_id,
        budget_id=str(uuid.uuid4()),
        amount_cents=100,
        available_after_cents=900,
    )


async def _publish(kafka: str, topic: str, *events: EventData) -> None:
    await asyncio.to_thread(publish, kafka, topic, events)


async def test_events_before_and_after_the_wait_resolve_and_others_do_not(
    kafka: str, namespace: str
) -> None:
    await asyncio.to_thread(create_test_topics, kafka, namespace)
    initiatives_topic = f"{namespace}initiatives.events.v1"
    early, late, unrelated = (str(uuid.uuid4()) for _ in range(3))
    # Before the watch starts: it reads from the end, so this one must never be seen.
    await _publish(kafka, initiatives_topic, _ready(unrelated))

    async with EventWatch(kafka, namespace) as watch:
        # Published and read before anyone waits for it: kept, so a later wait still resolves.
        await _publish(kafka, initiatives_topic, _ready(early))
        await eventually(lambda: watch.decoded >= 1)
        kept = await watch.wait_for(early, READY_FOR_DECISION, timeout_s=5)
        assert kept.subject == early

        # Waited for first, published after.
        waiting = asyncio.create_task(watch.wait_for(late, STATUS_AFTER, timeout_s=30))
        await eventually(lambda: watch.waiting == 1)
        assert not waiting.done()
        await _publish(kafka, f"{namespace}budgets.events.v1", _allocated(late))
        answer = await waiting
        assert answer.type == budgets.BudgetAllocated.event_type()
        assert STATUS_AFTER[answer.type] == "funded"

        # Advice rounds are keyed by round id on Kafka; the wait is by the initiative advised on.
        asked = _advice_requested(late)
        await _publish(kafka, f"{namespace}advisory.events.v1", asked)
        heard = await watch.wait_for(late, ADVICE_REQUESTED, timeout_s=30)
        assert isinstance(heard.data, advisory.AdviceRequested)
        assert (heard.data.round_id, heard.data.request_id) == (asked.round_id, asked.request_id)

        # An event about another initiative, or of another type, does not answer the wait;
        # the record published before the start was never read.
        await _publish(kafka, initiatives_topic, _ready(str(uuid.uuid4())))
        await _publish(kafka, f"{namespace}budgets.events.v1", _allocated(unrelated))
        await eventually(lambda: watch.decoded >= 5)
        with pytest.raises(TimeoutError, match="initiative-ready-for-decision"):
            await watch.wait_for(unrelated, READY_FOR_DECISION, timeout_s=0.5)
        with pytest.raises(TimeoutError):
            await watch.wait_for(late, READY_FOR_DECISION, timeout_s=0.5)
        assert watch.waiting == 0  # a timed-out wait leaves nothing behind
        assert watch.decoded == 5
