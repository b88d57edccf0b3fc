"""Councils stored before revision 0002 still load after it, with the new defaults."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from alembic import command

from services.advisory.domain.model import AdoptionRule
from shared.migrations import alembic_config, upgrade_to_head
from tests.integration.advisory_support import Advisory


async def test_a_council_from_revision_0001_loads_with_the_new_defaults(tmp_path: Path) -> None:
    advisory = Advisory(tmp_path)
    await asyncio.to_thread(command.upgrade, alembic_config("advisory", advisory.url), "0001")
    with sqlite3.connect(tmp_path / "advisory.sqlite3") as connection:
        connection.execute(
            "INSERT INTO council (id, municipality, name, kind, neighbourhoods, themes,"
            " advice_days, working_days, members) VALUES ('c-1', 'GM0362', 'Wijkraad',"
            " 'neighbourhood_council', '[\"BU03620001\"]', '[]', 10, 1,"
            ' \'[{"person_id": "anna", "role": "chair"}]\')'
        )
    await asyncio.to_thread(upgrade_to_head, "advisory", advisory.url)
    async with advisory.uow() as uow:
        council = await uow.councils.get("GM0362", "c-1")
    await advisory.close()
    assert council is not None
    assert council.adoption is AdoptionRule.RECORDED and council.quorum_percent == 50
    assert council.districts == [] and council.reminder_days == [3, 1]
    assert council.members[0].term_end is None
