"""Revision 0002 keeps initiatives and types stored before it readable and usable."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from alembic import command
from sqlalchemy import create_engine, text

from services.initiatives.app import create_app
from services.initiatives.settings import InitiativesSettings
from shared.auth import Role
from shared.migrations import alembic_config, upgrade_to_head
from shared.testing.helpers import settings_for, token


def _store_before_0002(path: Path, url: str) -> None:
    command.upgrade(alembic_config("initiatives", url), "0001")
    engine = create_engine(f"sqlite:///{path}")
    history = [{"at": "2026-01-05T10:00:00+00:00", "status": "in_review", "note": "old"}]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO initiative_type (municipality, code, name, support_threshold, "
                "max_amount_cents, funding_source) VALUES ('GM0362', 'oud', 'Oud', 0, 100000, "
                "'neighbourhood_budget')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO initiative (id, municipality, initiative_type, title, description, "
                "neighbourhood, theme, requested_amount_cents, funding_source, initiator_id, "
                "status, support_count, decision_conditions, advice_positions, history, version) "
                "VALUES ('old-1', 'GM0362', 'oud', 'Oud', 'Van voor 0002', 'BU03620001', "
                "'groen', 5000, 'neighbourhood_budget', 'p-1', 'in_review', 0, '[]', '[]', "
                ":history, 1)"
            ),
            {"history": json.dumps(history)},
        )
    engine.dispose()


async def test_old_initiatives_and_types_load_and_move_on_after_the_upgrade(
    tmp_path: Path,
) -> None:
    path = tmp_path / "initiatives.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(_store_before_0002, path, url)
    await asyncio.to_thread(upgrade_to_head, "initiatives", url)
    app = create_app(
        settings_for(
            InitiativesSettings, kafka="127.0.0.1:9", namespace="unused.", database_url=url
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        types = (
            await client.get(
                "/v1/municipalities/GM0362/initiative-types", headers=token(Role.RESIDENT)
            )
        ).json()
        assert types[0]["support_window_days"] == 42 and types[0]["working_days"] is False
        url_old = "/v1/municipalities/GM0362/initiatives/old-1"
        old = (await client.get(url_old, headers=token(Role.RESIDENT))).json()
        assert old["status"] == "in_review" and old["milestones"] == []
        response = await client.post(
            f"{url_old}/withdraw",
            json={"reason": "Niet meer nodig."},
            headers=token(Role.RESIDENT, subject="p-1"),
        )
        assert response.status_code == 200, response.text
    await app.state.runtime.engine.dispose()
