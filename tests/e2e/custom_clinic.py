"""A running bot on a clinic file of the test's own (conftest.py's harness uses clinic.toml)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.config import ReminderSettings, StaffSettings
from bot.services.clock import ManualClock
from bot.standin.harness import BotHarness, harness_settings
from tests import databases
from tests.e2e.conftest import ADMIN_ID


@asynccontextmanager
async def clinic_harness(
    tmp_path: Path, clock: ManualClock, clinic: Path, **sections: Any
) -> AsyncIterator[BotHarness]:
    settings = harness_settings(
        data_dir=tmp_path,
        database_url=await databases.database_url(tmp_path / "talon.sqlite3"),
        demo_file=clinic,
        reminders=ReminderSettings(per_chat_interval_seconds=0),
        staff=StaffSettings(admins=[ADMIN_ID]),
        **sections,
    )
    async with BotHarness(settings=settings, clock=clock) as running:
        yield running
        # The stand-in refuses what Telegram would (a text over 4096 characters among them).
        assert running.server.violations == []
        assert running.server.handler_errors == []
