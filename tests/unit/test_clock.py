"""The services' clock: wall time, moved forward in development through an offset file."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.advisory import handlers as advisory_handlers
from services.advisory.bootstrap import bootstrap
from services.advisory.settings import AdvisorySettings
from shared import clock
from shared.contracts.envelope import Envelope
from shared.settings import ServiceSettings
from shared.testing.events import TEST_SOURCE, ready_for_review

WALL = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def wall_time_afterwards() -> Iterator[None]:
    yield
    clock.use_offset_file(None)


@pytest.fixture
def clock_file(tmp_path: Path) -> Path:
    return tmp_path / "clock"


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("", timedelta(0)),
        ("90", timedelta(seconds=90)),
        (" 3600.5\n", timedelta(seconds=3600.5)),
        ("PT36H", timedelta(hours=36)),
        ("P3DT1H30M", timedelta(days=3, hours=1, minutes=30)),
        ("P1W", timedelta(days=7)),
    ],
)
def test_an_offset_is_seconds_or_an_iso_8601_duration(text: str, offset: timedelta) -> None:
    assert clock.parse_offset(text) == offset


@pytest.mark.parametrize("text", ["soon", "nan", "inf", "P3X"])
def test_an_offset_that_is_no_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        clock.parse_offset(text)


def test_without_a_file_the_clock_is_wall_time(clock_file: Path) -> None:
    moved = clock.OffsetFileClock(clock_file, wall=lambda: WALL)
    assert moved() == WALL
    real = clock.now()
    assert real.tzinfo is not None and abs(real - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_larger_offset_written_later_moves_the_running_clock_forward(clock_file: Path) -> None:
    moved = clock.OffsetFileClock(clock_file, wall=lambda: WALL)
    assert moved() == WALL
    clock.write_offset(clock_file, timedelta(days=2))
    assert moved() == WALL + timedelta(days=2)
    clock_file.write_text("P3DT1H")
    assert moved() == WALL + timedelta(days=3, hours=1)


def test_time_never_goes_back_a_smaller_offset_is_refused_and_logged(
    clock_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    moved = clock.OffsetFileClock(clock_file, wall=lambda: WALL)
    clock.write_offset(clock_file, timedelta(days=3))
    assert moved() == WALL + timedelta(days=3)
    with caplog.at_level(logging.ERROR, logger="shared.clock"):
        clock.write_offset(clock_file, timedelta(days=1))
        assert moved() == WALL + timedelta(days=3)
    assert "time does not go back" in caplog.text
    clock_file.unlink()
    assert moved() == WALL + timedelta(days=3), "a removed file keeps the offset in use"
    clock_file.write_text("tomorrow")
    with caplog.at_level(logging.ERROR, logger="shared.clock"):
        assert moved() == WALL + timedelta(days=3)
    assert "not used" in caplog.text
    clock.write_offset(clock_file, timedelta(days=4))
    assert moved() == WALL + timedelta(days=4)


def test_a_file_replaced_within_one_mtime_tick_is_still_seen(clock_file: Path) -> None:
    moved = clock.OffsetFileClock(clock_file, wall=lambda: WALL)
    clock_file.write_text("10")
    stamp = os.stat(clock_file).st_mtime_ns
    assert moved() == WALL + timedelta(seconds=10)
    clock.write_offset(clock_file, timedelta(seconds=20))  # "20.0\n": another size as well
    os.utime(clock_file, ns=(stamp, stamp))
    assert moved() == WALL + timedelta(seconds=20)
    replacement = clock_file.with_name("next")
    replacement.write_text("30.0\n")  # same size and mtime as the file it replaces
    os.utime(replacement, ns=(stamp, stamp))
    os.replace(replacement, clock_file)
    assert moved() == WALL + timedelta(seconds=30)


def test_the_process_clock_follows_the_configured_file_until_unset(clock_file: Path) -> None:
    clock.use_offset_file(clock_file)
    clock.write_offset(clock_file, timedelta(days=5))
    assert clock.now() - datetime.now(UTC) > timedelta(days=4, hours=23)
    clock.use_offset_file(str(clock_file))  # a second app in the process: the same clock
    clock.write_offset(clock_file, timedelta(days=1))
    assert clock.now() - datetime.now(UTC) > timedelta(days=4, hours=23), "never backwards"
    clock.use_offset_file(None)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_service_built_with_a_clock_file_reads_its_time_and_stamps_events_from_it(
    clock_file: Path,
) -> None:
    clock.write_offset(clock_file, timedelta(days=10))
    settings = AdvisorySettings(
        environment="development",
        database_url=f"sqlite+aiosqlite:///{clock_file.parent}/advisory.sqlite3",
        clock_file=str(clock_file),
    )
    bootstrap(settings)
    ahead = timedelta(days=9, hours=23)
    assert advisory_handlers._now() - datetime.now(UTC) > ahead
    envelope = Envelope.wrap(ready_for_review(), source=TEST_SOURCE)
    assert envelope.time - datetime.now(UTC) > ahead


@pytest.mark.parametrize("environment", ["production", "test"])
def test_the_clock_file_is_refused_outside_development(
    environment: str, clock_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSPRAAK_ENVIRONMENT", environment)
    monkeypatch.setenv("INSPRAAK_CLOCK_FILE", str(clock_file))
    monkeypatch.setenv("AUTH_JWKS_URL", "https://idp.example.nl/jwks")
    with pytest.raises(ValidationError, match="INSPRAAK_CLOCK_FILE"):
        ServiceSettings()
    monkeypatch.setenv("INSPRAAK_ENVIRONMENT", "development")
    monkeypatch.delenv("AUTH_JWKS_URL")
    assert ServiceSettings().clock_file == str(clock_file)
