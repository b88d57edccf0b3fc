"""Structured JSON logs on stdout, one object per line, for whatever collects them."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka is chatty about routine rebalances at INFO.
    for chatty in ("aiokafka", "kafka"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    # At DEBUG these log SQL parameters, contact details among them: never below INFO.
    for revealing in ("aiosqlite", "sqlalchemy.engine", "asyncpg"):
        logging.getLogger(revealing).setLevel(max(logging.INFO, root.level))
