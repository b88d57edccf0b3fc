"""`make bench`, support registration: supports/s through the initiatives API, exactly once.

Against a running stack (``.run/stack.env``): many distinct residents support one initiative,
then many initiatives at once. Afterwards the `support registered` events on Kafka are
counted: one per accepted support -- none lost, none twice -- and every initiative's own count
equals its events.

The initiatives are of a type of their own (``bench-steun``) whose threshold is never reached,
so they keep collecting support and nothing downstream (advice, budgets) is started.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from typing import Any

import httpx
from kafka import KafkaConsumer, TopicPartition

from shared.auth import Role
from shared.contracts import initiatives
from shared.contracts.envelope import parse_record
from shared.contracts.registry import TOPICS
from stack.demo import read_stack_env
from stack.local import development_token
from stack.seed import MUNICIPALITY

BASE = f"/v1/municipalities/{MUNICIPALITY}"
BENCH_TYPE = "bench-steun"
RETRIED_ACCEPTED = 2010  # status tally key: accepted, its answer lost, the retry got a 409


def _end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return dict(consumer.end_offsets(partitions))
    finally:
        consumer.close()


def _support_events(
    bootstrap: str,
    topic: str,
    since: dict[TopicPartition, int],
    initiative_ids: set[str],
    expected: int,
    timeout_s: float,
) -> list[initiatives.SupportRegistered]:
    """`support registered` events about these initiatives published after ``since``; read
    until ``expected`` were seen and the topic stays quiet, or ``timeout_s`` passed."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=1000
    )
    consumer.assign(list(since))
    for partition, offset in since.items():
        consumer.seek(partition, offset)
    found: list[initiatives.SupportRegistered] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            before = len(found)
            for record in consumer:
                if record.key is None or record.key.decode() not in initiative_ids:
                    continue
                envelope = parse_record(record.headers, record.value)
                if envelope is not None and isinstance(
                    envelope.data, initiatives.SupportRegistered
                ):
                    found.append(envelope.data)
            if len(found) >= expected and len(found) == before:
                break  # everything arrived and a quiet second passed: no late duplicates
    finally:
        consumer.close()
    return found


async def _ensure_type(client: httpx.AsyncClient, url: str, official: str) -> None:
    response = await client.put(
        f"{url}{BASE}/initiative-types/{BENCH_TYPE}",
        headers={"Authorization": f"Bearer {official}"},
        json={
            "code": BENCH_TYPE,
            "name": "Benchmark: steun verzamelen (drempel wordt nooit gehaald)",
            "support_threshold": 1_000_000_000,
            "support_window_days": 365,
            "min_co_initiators": 0,
            "max_amount_cents": 0,
            "funding_source": "neighbourhood_budget",
        },
    )
    response.raise_for_status()


async def _submit(client: httpx.AsyncClient, url: str, initiator: str, n: int) -> str:
    response = await client.post(
        f"{url}{BASE}/initiatives",
        headers={"Authorization": f"Bearer {initiator}"},
        json={
            "initiative_type": BENCH_TYPE,
            "title": f"Benchmark-initiatief {n}",
            "description": "Verzamelt steun voor de meting van de doorvoer.",
            "neighbourhood": "BU03620001",
            "theme": "groen",
        },
    )
    response.raise_for_status()
    return str(response.json()["id"])


async def _support_once(
    client: httpx.AsyncClient, url: str, initiative_id: str, token: str, attempts: int = 3
) -> int:
    """One resident's support; a request whose answer was lost is sent again, and a 409 on
    that retry means the first one was accepted (the service counts a resident once)."""
    for attempt in range(attempts):
        try:
            response = await client.post(
                f"{url}{BASE}/initiatives/{initiative_id}/supports",
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TransportError:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.1 * (attempt + 1))
            continue
        if attempt and response.status_code == 409:
            return RETRIED_ACCEPTED
        return response.status_code
    raise AssertionError("unreachable")


async def _support_all(
    client: httpx.AsyncClient,
    url: str,
    pairs: list[tuple[str, str]],
    concurrency: int,
) -> tuple[int, Counter[int], float]:
    """POST one support per (initiative, resident); return accepted, statuses, seconds."""
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for pair in pairs:
        queue.put_nowait(pair)
    statuses: Counter[int] = Counter()

    async def worker() -> None:
        while not queue.empty():
            initiative_id, token = queue.get_nowait()
            statuses[await _support_once(client, url, initiative_id, token)] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    accepted = statuses[201] + statuses[RETRIED_ACCEPTED]
    return accepted, statuses, time.perf_counter() - started


async def measure_support(
    urls: dict[str, str],
    civil_servant_token: str,
    bootstrap: str,
    *,
    namespace: str = "",
    one_initiative_supports: int = 1000,
    initiatives_count: int = 50,
    supports_per_initiative: int = 40,
    concurrency: int = 32,
    timeout_s: float = 60.0,
) -> dict[str, Any]:
    """Register supports through the initiatives API and prove every accepted one is one
    `support registered` event on Kafka and one in the initiative's count.

    First ``one_initiative_supports`` distinct residents support one initiative (every request
    contends for the same aggregate), then ``initiatives_count`` initiatives get
    ``supports_per_initiative`` residents each, all interleaved.
    """
    run = uuid.uuid4().hex[:8]
    url = urls["initiatives"]
    topic = f"{namespace}{TOPICS['initiatives']}"
    since = await asyncio.to_thread(_end_offsets, bootstrap, topic)
    initiator = development_token(Role.INITIATOR, f"bench-initiatiefnemer-{run}")
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends, so a request never
    # goes out on a connection the server is closing.
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2
    )
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await _ensure_type(client, url, civil_servant_token)
        single = await _submit(client, url, initiator, 0)
        many = [await _submit(client, url, initiator, n) for n in range(1, initiatives_count + 1)]

        def resident(n: int) -> str:
            return development_token(Role.RESIDENT, f"bench-{run}-{n:06d}")

        one_pairs = [(single, resident(n)) for n in range(one_initiative_supports)]
        many_pairs = [
            (initiative_id, resident(n))
            for n in range(supports_per_initiative)
            for initiative_id in many  # interleaved: consecutive requests hit different ones
        ]
        one_ok, one_statuses, one_s = await _support_all(client, url, one_pairs, concurrency)
        many_ok, many_statuses, many_s = await _support_all(client, url, many_pairs, concurrency)
        counts = {}
        for initiative_id in [single, *many]:
            response = await client.get(
                f"{url}{BASE}/initiatives/{initiative_id}",
                headers={"Authorization": f"Bearer {civil_servant_token}"},
            )
            response.raise_for_status()
            counts[initiative_id] = int(response.json()["support_count"])

    accepted = one_ok + many_ok
    events = await asyncio.to_thread(
        _support_events, bootstrap, topic, since, set(counts), accepted, timeout_s
    )
    per_initiative = Counter(e.initiative_id for e in events)
    distinct = {(e.initiative_id, e.supporter_id) for e in events}
    exactly_once = (
        len(events) == accepted
        and len(distinct) == len(events)
        and all(per_initiative[i] == count for i, count in counts.items())
    )
    return {
        "support_per_s": round(accepted / (one_s + many_s), 1),
        "supports": accepted,
        "support_events": len(events),
        "duplicate_events": len(events) - len(distinct),
        "exactly_once": exactly_once,
        "one_initiative": {
            "supports": one_ok,
            "support_per_s": round(one_ok / one_s, 1),
            "support_count": counts[single],
            "support_events": per_initiative[single],
            "responses": dict(one_statuses),
        },
        "many_initiatives": {
            "initiatives": initiatives_count,
            "supports": many_ok,
            "support_per_s": round(many_ok / many_s, 1),
            "support_count": sum(counts[i] for i in many),
            "support_events": sum(per_initiative[i] for i in many),
            "responses": dict(many_statuses),
        },
        "concurrency": concurrency,
    }


def main() -> int:
    env = read_stack_env()
    urls = {"initiatives": env["INITIATIVES_URL"]}
    result = asyncio.run(
        measure_support(
            urls,
            env["TOKEN_CIVIL_SERVANT"],
            env["KAFKA_BOOTSTRAP_SERVERS"],
            namespace=env.get("KAFKA_TOPIC_NAMESPACE", ""),
        )
    )
    print(json.dumps(result, indent=2))
    return 0 if result["exactly_once"] else 1


if __name__ == "__main__":
    sys.exit(main())
