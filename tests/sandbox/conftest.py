from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from pathlib import Path

import aiohttp
import pytest

from bot.config import ReminderSettings
from bot.sandbox.web import Sandbox
from bot.services.clock import ManualClock
from bot.standin.harness import harness_settings
from tests import databases
from tests.e2e.conftest import CLINIC, START

# Each phase's report (setup, call, teardown), kept on the test item: a fixture's teardown
# reads it to learn whether the test failed (the browser test then saves the page).
PHASE_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(PHASE_REPORTS, {})[report.when] = report
    return report


def failed_so_far(item: pytest.Item) -> bool:
    """Whether the test's setup or body failed (asked from a fixture's teardown)."""
    return any(report.failed for report in item.stash.get(PHASE_REPORTS, {}).values())


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
