"""Every command route refuses no token (401), a wrong role and another municipality (403)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from shared.auth import Authorize, Role
from shared.settings import Environment
from shared.testing.helpers import token

SERVICES = ["initiatives", "advisory", "budgets", "notifications"]


def _app(service: str) -> FastAPI:
    app_module = importlib.import_module(f"services.{service}.app")
    settings_module = importlib.import_module(f"services.{service}.settings")
    settings_class = next(
        v
        for k, v in vars(settings_module).items()
        if k.endswith("Settings") and k != "ServiceSettings"
    )
    return app_module.create_app(settings_class(environment=Environment.DEVELOPMENT))


def _authorize(route: APIRoute) -> Authorize | None:
    for dependency in route.dependant.dependencies:
        if isinstance(dependency.call, Authorize):
            return dependency.call
    return None


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """APIRoutes, also those inside included routers (FastAPI keeps those wrapped)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def _command_routes() -> Iterator[tuple[str, Any, str, str, Authorize]]:
    for service in SERVICES:
        app = _app(service)
        for route in _api_routes(app.routes):
            for method in route.methods - {"GET", "HEAD"}:
                rule = _authorize(route)
                assert rule is not None, f"{service} {method} {route.path} checks no role"
                yield service, app, method, route.path, rule


ROUTES = list(_command_routes())


def _concrete(path: str, municipality: str = "GM0362") -> str:
    return path.replace("{municipality}", municipality).replace("{", "x-").replace("}", "")


@pytest.mark.parametrize(
    ("service", "app", "method", "path", "rule"),
    ROUTES,
    ids=[f"{r[0]} {r[2]} {r[3]}" for r in ROUTES],
)
async def test_command_route_refuses_missing_token_wrong_role_and_other_municipality(
    service: str, app: FastAPI, method: str, path: str, rule: Authorize
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        url = _concrete(path)
        response = await client.request(method, url, json={})
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"

        wrong = [role for role in Role if role not in rule.roles]
        if wrong:
            response = await client.request(method, url, json={}, headers=token(wrong[0]))
            assert response.status_code == 403, response.text
            assert "may not" in response.json()["detail"]

        allowed = next(iter(rule.roles))
        response = await client.request(
            method, url, json={}, headers=token(allowed, municipality="GM0363")
        )
        assert response.status_code == 403, response.text
        assert "GM0363" in response.json()["detail"]


def test_every_service_has_command_routes() -> None:
    assert {route[0] for route in ROUTES} == set(SERVICES)


async def test_a_token_signed_with_another_secret_is_refused_with_problem_json() -> None:
    import jwt

    app = _app("initiatives")
    forged = jwt.encode(
        {
            "sub": "x",
            "role": "budget_holder",
            "municipality": "GM0362",
            "aud": "inspraak",
            "exp": 4_000_000_000,
        },
        "not-the-secret-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            "/v1/municipalities/GM0362/initiatives",
            json={},
            headers={"Authorization": f"Bearer {forged}"},
        )
    assert response.status_code == 401
    assert "Signature verification failed" in response.json()["detail"]


@pytest.mark.parametrize("subject", ["jan.jansen@example.org", "Jan Jansen", "x" * 65])
async def test_a_token_whose_subject_is_not_a_pseudonymous_id_is_refused(subject: str) -> None:
    """What a caller does is published under the token's subject, so it must not be a name or
    an address: such a token is refused before anything is stored or published."""
    app = _app("initiatives")
    headers = token(Role.RESIDENT, subject=subject)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/v1/municipalities/GM0362/initiatives", headers=headers)
    assert response.status_code == 401
    assert "pseudonymous id" in response.json()["detail"]
