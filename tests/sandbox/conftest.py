from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.config import ReminderSettings
from bot.sandbox.web import Sandbox
from bot.services.clock import ManualClock
from bot.standin.harness import harness_settings
from tests import databases
from tests.e2e.conftest import CLINIC, START


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    settings = harness_settings(
        data_dir=tmp_path,
        database_url=await databases.database_url(tmp_path / "talon.sqlite3"),
        demo_file=CLINIC,
        reminders=ReminderSettings(per_chat_interval_seconds=0),
    )
    running = Sandbox(settings=settings, clock=ManualClock(START))
    await running.start()
    try:
        yield running
        assert running.harness.server.violations == []
        assert running.harness.server.handler_errors == []
    finally:
        await running.stop()


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=sandbox.url) as session:
        yield session
