"""The services' "now": wall time, which development (and only development) can move forward.

Advice deadlines, support windows and decision deadlines are days long. An end-to-end test
can neither wait for them nor, honestly, reach into a service's database to fake them. So every
domain read of the time goes through :func:`now`, and in development the setting
``INSPRAAK_CLOCK_FILE`` names a file holding an offset that each process of the stack adds to
wall time: writing a larger offset moves all running services forward at once, and their timer
wheels fire what has become due. Outside development the setting is refused at startup
(:class:`shared.settings.ServiceSettings`), so production time is always plain wall time.

Operational timestamps that are compared with other machines' clocks (token expiry, webhook
signatures, dead-letter records, log lines) deliberately stay on real wall time.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import TypeAdapter

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
_ISO_DURATION = TypeAdapter(timedelta)


def wall_time() -> datetime:
    """Real wall time, aware UTC."""
    return datetime.now(UTC)


def parse_offset(text: str) -> timedelta:
    """An offset written as seconds (``"90"``, ``"3600.5"``) or as an ISO-8601 duration
    (``"PT36H"``, ``"P3DT1H"``); an empty file means no offset."""
    text = text.strip()
    if not text:
        return timedelta(0)
    try:
        seconds = float(text)
    except ValueError:
        return _ISO_DURATION.validate_python(text)
    if not math.isfinite(seconds):
        raise ValueError(f"clock offset {text!r} is not a finite number of seconds")
    return timedelta(seconds=seconds)


def write_offset(path: str | Path, offset: timedelta) -> None:
    """Write ``offset`` (as seconds) to a clock file, replacing it in one step so a process
    reading at that moment sees the old offset or the new one, never half a number."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(f"{offset.total_seconds()}\n", encoding="utf-8")
    os.replace(partial, path)


class OffsetFileClock:
    """Wall time plus the offset held in a file, re-read whenever the file changes.

    Checking costs one ``stat`` per reading, so a test's new offset is seen by the very next
    reading in every process. Time never goes backwards within a process: a smaller offset
    than the one in use is refused (and logged), as is a missing or unreadable file.
    """

    def __init__(self, path: str | Path, wall: Clock = wall_time) -> None:
        self.path = Path(path)
        self._stat_path = os.fspath(self.path)  # stat runs on every reading
        self._wall = wall
        self._offset = timedelta(0)
        self._seen: tuple[int, int, int] | None = None

    @property
    def offset(self) -> timedelta:
        self._refresh()
        return self._offset

    def __call__(self) -> datetime:
        self._refresh()
        return self._wall() + self._offset

    def _refresh(self) -> None:
        try:
            stat = os.stat(self._stat_path)
        except FileNotFoundError:
            return  # not written yet, or removed: keep the offset in use
        # Inode too: a test that replaces the file atomically within one mtime tick is seen.
        signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if signature == self._seen:
            return
        self._seen = signature
        try:
            offset = parse_offset(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            log.error("clock file %s not used: %s", self.path, error)
            return
        if offset < self._offset:
            log.error(
                "clock file %s refused: offset %s is smaller than %s in use; time does not go back",
                self.path,
                offset,
                self._offset,
            )
        elif offset != self._offset:
            log.warning("clock moved: %s ahead of wall time (from %s)", offset, self.path)
            self._offset = offset


_current: Clock = wall_time


def now() -> datetime:
    """The current moment, aware UTC: where services and their timers read the time."""
    return _current()


def use_offset_file(path: str | Path | None) -> None:
    """Make :func:`now` follow an offset file (development), or wall time when ``None``.

    Called once per process with the service's settings; naming the file already in use
    keeps its offset, so building a second app in one process cannot turn time back.
    """
    global _current
    if path is None:
        _current = wall_time
    elif not (isinstance(_current, OffsetFileClock) and _current.path == Path(path)):
        _current = OffsetFileClock(path)
