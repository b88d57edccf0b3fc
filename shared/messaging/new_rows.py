"""New rows a unit of work collects and inserts at its commit, like its outbox rows and timers.

A consumer's batch creates an aggregate per event (an advice round per initiative). As ORM
objects each one cost an object with change tracking, its place in the session's identity
map and its share of the flush's bookkeeping; collected as plain values they become one
executemany per table. Repositories that collect rows here must write them before reading
their table (:meth:`NewRows.write`), since the session's autoflush does not know them.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection


class NewRows:
    """Rows to insert, per table and keyed by primary key; the last values given for a key
    win, so an aggregate created and then changed in one unit of work is inserted once."""

    def __init__(self) -> None:
        self._rows: dict[Table, dict[Hashable, dict[str, Any]]] = {}

    def add(self, table: Table, key: Hashable, values: dict[str, Any]) -> None:
        self._rows.setdefault(table, {})[key] = values

    def replace(self, table: Table, key: Hashable, values: dict[str, Any]) -> bool:
        """Change a row still waiting to be inserted; False if there is none with this key."""
        waiting = self._rows.get(table)
        if waiting is None or key not in waiting:
            return False
        waiting[key] = values
        return True

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    def clear(self) -> None:
        self._rows.clear()

    async def write(self, connection: AsyncConnection, table: Table | None = None) -> None:
        """Insert the rows waiting for ``table`` (for every table if none is given) in the
        caller's transaction, in the order they were added, and forget them."""
        tables = [table] if table is not None else list(self._rows)
        for each in tables:
            rows = self._rows.pop(each, None)
            if rows:
                # A list of parameter sets: the driver's executemany (sqlite3 steps it in C,
                # asyncpg pipelines it), one compiled statement for any number of rows.
                await connection.execute(insert(each), list(rows.values()))
