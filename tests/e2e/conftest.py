from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ReminderSettings
from bot.services.clock import ManualClock
from bot.standin.harness import BotHarness, harness_settings

CLINIC = Path(__file__).with_name("clinic.toml")
# Tuesday 1 December 2026, 09:00 in Moscow.
START = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def harness(tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotHarness]:
    # Per-chat spacing is unit-tested with the limiter; here it would only add real seconds.
    settings = harness_settings(
        data_dir=tmp_path,
        demo_file=CLINIC,
        reminders=ReminderSettings(per_chat_interval_seconds=0),
    )
    async with BotHarness(settings=settings, clock=clock) as running:
        yield running
        # Whatever a test did, the bot must never have sent a request Telegram would reject.
        assert running.server.violations == []
        assert running.server.handler_errors == []
