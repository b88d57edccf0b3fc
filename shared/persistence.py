"""Database engines for the services: SQLite embedded by default, PostgreSQL in production."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 30_000

_reading_only: ContextVar[bool] = ContextVar("inspraak_reading_only", default=False)


@contextmanager
def reading_only(enabled: bool = True) -> Iterator[None]:
    """Transactions begun inside only read (e.g. while answering a GET).

    On SQLite they begin deferred: in WAL mode a reader sees the last commit without the write
    lock, so a GET never queues behind a consumer's batch transaction. PostgreSQL is unaffected.
    """
    token = _reading_only.set(enabled)
    try:
        yield
    finally:
        _reading_only.reset(token)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL and a busy timeout so API and consumers can share it."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **options
        )
        event.listen(engine.sync_engine, "connect", _tune_sqlite_connection)
        event.listen(engine.sync_engine, "begin", _begin)
        return engine
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 10)
    options.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **options)


def _tune_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # The driver would open transactions lazily with a plain BEGIN; we open them ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin(connection: Any) -> None:
    """SQLite has no row locks: a transaction that may write takes the write lock at once.

    Otherwise two transactions can both read a row and both write it back, and one update is
    lost (SELECT ... FOR UPDATE is a no-op on SQLite). The embedded database serialises its
    writing transactions instead; PostgreSQL uses real row locks. Read-only ones need no lock.
    """
    connection.exec_driver_sql("BEGIN" if _reading_only.get() else "BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
