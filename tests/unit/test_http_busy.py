"""A database too busy to answer in time gives 503 problem+json with Retry-After, not a 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from shared.http import PROBLEM_JSON, install_problem_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/pool-exhausted")
    async def pool_exhausted() -> None:
        raise PoolTimeoutError("QueuePool limit of size 5 overflow 10 reached")

    @app.get("/locked")
    async def locked() -> None:
        raise OperationalError("INSERT ...", {}, Exception("database is locked"))

    @app.get("/missing-table")
    async def missing_table() -> None:
        raise OperationalError("SELECT ...", {}, Exception("no such table: council"))

    return app


@pytest.mark.parametrize("path", ["/pool-exhausted", "/locked"])
async def test_a_busy_database_answers_503_with_retry_after(path: str) -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get(path)
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["retry-after"] == "1"
    assert response.json()["title"] == "Service busy"


async def test_other_database_errors_stay_server_errors() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/missing-table")
    assert response.status_code == 500
