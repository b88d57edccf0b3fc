"""Alembic plumbing shared by the services' migration environments.

Each service keeps its own migration scripts and its own version table, so services can
share one PostgreSQL database without stepping on each other.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData

from shared.persistence import create_engine, is_sqlite


def version_table(service: str) -> str:
    return f"alembic_version_{service}"


def alembic_config(service: str, url: str) -> Config:
    script_location = resources.files(f"services.{service}.persistence") / "migrations"
    config = Config()
    config.set_main_option("script_location", str(Path(str(script_location))))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


def upgrade_to_head(service: str, url: str) -> None:
    """`alembic upgrade head` for one service (synchronous: call it outside an event loop)."""
    command.upgrade(alembic_config(service, url), "head")


def run_migrations(metadata: MetaData, service: str) -> None:
    """The body of a service's ``env.py``: migrate online over an async engine."""
    url = context.config.get_main_option("sqlalchemy.url") or ""

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table(service),
            render_as_batch=is_sqlite(url),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run())
