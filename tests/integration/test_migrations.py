"""`alembic upgrade head` on empty databases gives exactly the schema the code declares."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData

from shared.migrations import upgrade_to_head, version_table
from shared.persistence import create_engine

SERVICES = ["initiatives", "advisory", "budgets", "notifications"]


async def _differences(url: str, service: str) -> list[object]:
    metadata: MetaData = importlib.import_module(f"services.{service}.persistence.tables").metadata

    def compare(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": version_table(service)}
        )
        return list(compare_metadata(context, metadata))

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_models_on_sqlite(service: str, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/{service}.sqlite3"
    await asyncio.to_thread(upgrade_to_head, service, url)
    assert await _differences(url, service) == []


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_models_on_postgresql(service: str, postgres_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, service, postgres_url)
    assert await _differences(postgres_url, service) == []
