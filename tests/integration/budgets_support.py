"""A budgets service on its own SQLite database, driven through its API without Kafka (the
broker address goes nowhere): what the budgets API tests share to start it and call it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.budgets.app import create_app
from services.budgets.settings import BudgetsSettings
from shared.migrations import upgrade_to_head
from shared.testing.helpers import settings_for


@asynccontextmanager
async def budgets_app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    url = f"sqlite+aiosqlite:///{tmp_path}/budgets.sqlite3"
    await asyncio.to_thread(upgrade_to_head, "budgets", url)
    app = create_app(
        settings_for(BudgetsSettings, kafka="127.0.0.1:9", namespace="unused.", database_url=url)
    )
    yield app
    await app.state.runtime.engine.dispose()


@asynccontextmanager
async def api_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
