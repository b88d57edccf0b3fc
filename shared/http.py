"""The HTTP edge every service shares: problem+json errors, health, readiness and metrics."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
ReadinessCheck = Callable[[], Awaitable[None]]
RETRY_AFTER_BUSY_S = 1


class Problem(Exception):
    """An RFC 9457 problem: raise it anywhere in a request to answer with problem+json."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.errors = status, title, detail, errors
        self.retry_after_s = retry_after_s

    def response(self, instance: str) -> JSONResponse:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.errors:
            body["errors"] = self.errors
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else {}
        if self.retry_after_s is not None:
            headers["Retry-After"] = str(self.retry_after_s)
        return JSONResponse(
            jsonable_encoder(body), self.status, media_type=PROBLEM_JSON, headers=headers
        )


def _field_name(location: Iterable[Any]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] or parts
    return ".".join(parts)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, problem: Exception) -> Response:
        assert isinstance(problem, Problem)
        return problem.response(request.url.path)

    async def on_validation(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        errors = [
            {"field": _field_name(item["loc"]), "message": item["msg"], "type": item["type"]}
            for item in error.errors()
        ]
        names = ", ".join(sorted({e["field"] for e in errors}))
        return Problem(422, "Invalid request", f"Invalid fields: {names}", errors=errors).response(
            request.url.path
        )

    async def on_http(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        return Problem(error.status_code, "HTTP error", str(error.detail)).response(
            request.url.path
        )

    async def on_busy_database(request: Request, error: Exception) -> Response:
        """No connection free within the pool's timeout, or SQLite's lock not granted within its
        busy timeout: the request changed nothing, so the client may simply try again."""
        if isinstance(error, OperationalError) and "database is locked" not in str(error):
            raise error
        log.warning(
            "%s %s answered 503: the database is busy (%s)",
            request.method,
            request.url.path,
            type(error).__name__,
        )
        return Problem(
            503,
            "Service busy",
            "The service is too busy to answer now; nothing was changed. Try again shortly.",
            retry_after_s=RETRY_AFTER_BUSY_S,
        ).response(request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(PoolTimeoutError, on_busy_database)
    app.add_exception_handler(OperationalError, on_busy_database)


def install_operational_routes(app: FastAPI, checks: dict[str, ReadinessCheck]) -> None:
    """/healthz (the process lives), /readyz (its dependencies answer) and /metrics."""

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> Response:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as error:  # readiness reports any failure, whatever its kind
                log.warning("readiness check %s failed: %s", name, error)
                results[name] = f"failed: {error}"
        ready = all(value == "ok" for value in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": results},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["operations"])
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
