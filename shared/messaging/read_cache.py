"""Reference data read once per unit of work instead of once per event.

A consumer applies a whole batch in one unit of work, and handlers read the same reference
data (a municipality's councils, its routing rules) for every event in it. Within one
transaction that data only changes if the transaction changes it itself, so the repositories
that write it invalidate it here; the cache dies with the unit of work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class ReadCache:
    """Values loaded once per unit of work, keyed by what identifies the data.

    Keys are tuples whose first element names the kind of data (e.g. ``("council",
    municipality)``), so :meth:`invalidate` can drop one municipality's or every entry of a
    kind. Cached values are shared between the handlers of a batch: treat them as read-only.
    """

    def __init__(self) -> None:
        self._values: dict[tuple[Hashable, ...], Any] = {}
        self.loads = 0  # how many times a loader ran, for tests and the bench

    async def get(self, key: tuple[Hashable, ...], load: Callable[[], Awaitable[T]]) -> T:
        """The cached value for ``key``, loading it with ``load`` the first time."""
        if key in self._values:
            value: T = self._values[key]
            return value
        value = await load()
        self.loads += 1
        self._values[key] = value
        return value

    def invalidate(self, *prefix: Hashable) -> None:
        """Forget every entry whose key starts with ``prefix`` (everything if none is given)."""
        size = len(prefix)
        for key in [k for k in self._values if k[:size] == prefix]:
            del self._values[key]

    def clear(self) -> None:
        self._values.clear()
