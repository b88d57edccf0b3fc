"""On the embedded SQLite database a read-modify-write never loses a concurrent update."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, select, update

from shared.persistence import create_engine

metadata = MetaData()
counter = Table("counter", metadata, Column("id", Integer, primary_key=True), Column("n", Integer))


async def test_concurrent_increments_on_sqlite_are_all_kept(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/c.sqlite3")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(counter.insert().values(id=1, n=0))

    async def increment() -> None:
        async with engine.begin() as connection:
            n = await connection.scalar(select(counter.c.n).where(counter.c.id == 1))
            await asyncio.sleep(0.001)  # give another transaction every chance to interleave
            await connection.execute(update(counter).where(counter.c.id == 1).values(n=n + 1))

    await asyncio.gather(*(increment() for _ in range(100)))
    async with engine.connect() as connection:
        assert await connection.scalar(select(counter.c.n)) == 100
    await engine.dispose()
