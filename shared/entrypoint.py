"""``python -m services.<name> [serve|migrate]``: the one way every service process starts."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from shared.logs import configure_logging
from shared.migrations import upgrade_to_head
from shared.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def main(service: str, load_settings: Callable[[], S], create_app: Callable[[S], FastAPI]) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m services.{service}")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    parser.add_argument("--migrate", action="store_true", help="migrate before serving")
    args = parser.parse_args()
    settings = load_settings()
    configure_logging(service, settings.log_level)
    if args.command == "migrate" or args.migrate:
        upgrade_to_head(service, settings.resolved_database_url())
        if args.command == "migrate":
            return
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
