"""The per-unit-of-work read cache loads once and forgets exactly what is invalidated."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shared.messaging.read_cache import ReadCache


async def test_a_value_is_loaded_once_and_reloaded_only_after_invalidation() -> None:
    cache = ReadCache()
    loads: list[str] = []

    def loader(name: str) -> Callable[[], Awaitable[list[str]]]:
        async def load() -> list[str]:
            loads.append(name)
            return [f"{name}-{len(loads)}"]

        return load

    assert await cache.get(("council", "GM0362"), loader("GM0362 councils")) == [
        "GM0362 councils-1"
    ]
    assert await cache.get(("council", "GM0362"), loader("GM0362 councils")) == [
        "GM0362 councils-1"
    ]
    await cache.get(("council", "GM0363"), loader("GM0363 councils"))
    await cache.get(("routing_rule", "GM0362"), loader("GM0362 rules"))
    assert cache.loads == 3

    cache.invalidate("council", "GM0362")  # one municipality's councils
    await cache.get(("council", "GM0362"), loader("GM0362 councils"))
    await cache.get(("council", "GM0363"), loader("GM0363 councils"))
    await cache.get(("routing_rule", "GM0362"), loader("GM0362 rules"))
    assert loads == ["GM0362 councils", "GM0363 councils", "GM0362 rules", "GM0362 councils"]

    cache.invalidate("council")  # every municipality's councils
    await cache.get(("council", "GM0363"), loader("GM0363 councils"))
    await cache.get(("routing_rule", "GM0362"), loader("GM0362 rules"))
    assert loads[-1] == "GM0363 councils" and cache.loads == 5

    cache.clear()
    await cache.get(("routing_rule", "GM0362"), loader("GM0362 rules"))
    assert cache.loads == 6
