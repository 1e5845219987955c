from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import BookingSettings, ReminderSettings, StaffSettings
from bot.services.clock import ManualClock
from bot.standin.harness import BotHarness, harness_settings
from tests import databases

CLINIC = Path(__file__).with_name("clinic.toml")
ADMIN_ID = 7000  # the registry admin of the test clinic (from the config)
# Tuesday 1 December 2026, 09:00 in Moscow.
START = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@asynccontextmanager
async def running_harness(
    tmp_path: Path,
    clock: ManualClock,
    *,
    booking: BookingSettings | None = None,
    staff: StaffSettings | None = None,
) -> AsyncIterator[BotHarness]:
    # Per-chat spacing is unit-tested with the limiter; here it would only add real seconds.
    settings = harness_settings(
        data_dir=tmp_path,
        # The same tmp_path is the same database: a test may start the bot again on it.
        database_url=await databases.database_url(tmp_path / "talon.sqlite3"),
        demo_file=CLINIC,
        reminders=ReminderSettings(per_chat_interval_seconds=0),
        booking=booking or BookingSettings(),
        staff=staff or StaffSettings(admins=[ADMIN_ID]),
    )
    async with BotHarness(settings=settings, clock=clock) as running:
        yield running
        # Whatever a test did, the bot must never have sent a request Telegram would reject.
        assert running.server.violations == []
        assert running.server.handler_errors == []


@pytest.fixture
async def harness(tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotHarness]:
    async with running_harness(tmp_path, clock) as running:
        yield running


@pytest.fixture
async def unlimited_harness(tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotHarness]:
    """For tests that book many visits for the two registry patients of the test clinic."""
    booking = BookingSettings(max_active_bookings=100, one_booking_per_doctor=False)
    async with running_harness(tmp_path, clock, booking=booking) as running:
        yield running
