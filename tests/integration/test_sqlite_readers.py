"""On the embedded SQLite database a GET reads the last commit without waiting for the write
lock, which a consumer's batch transaction can hold for seconds; writes still take turns."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from tests.integration.advisory_support import Advisory

COUNCIL = {"name": "Wijkraad Centrum", "kind": "neighbourhood_council"}


async def test_a_get_answers_while_another_transaction_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    advisory = await Advisory(tmp_path).start()
    await advisory.call("POST", "/councils", json=COUNCIL)
    writer = sqlite3.connect(tmp_path / "advisory.sqlite3", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # what a consumer's batch does while it applies events

        councils = await asyncio.wait_for(advisory.call("GET", "/councils"), timeout=5)
        assert [c["name"] for c in councils] == [COUNCIL["name"]]

        creating = asyncio.create_task(
            advisory.call("POST", "/councils", json={**COUNCIL, "name": "Jongerenraad"})
        )
        await asyncio.sleep(1.0)
        assert not creating.done(), "a write must wait for the lock, or updates could be lost"
        writer.execute("ROLLBACK")
        await asyncio.wait_for(creating, timeout=10)
        assert len(await advisory.call("GET", "/councils")) == 2
    finally:
        writer.close()
        await advisory.close()
