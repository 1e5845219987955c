"""Start-up does not wait for the regeneration of slots: the bot answers first.

`prepare_data` makes slots only for doctors who have none ahead; `start_slot_refresh` brings
everybody's slots up to date in the background (bot/startup.py). Here the regeneration is
held at an event until the bot has answered, so the order is certain, not a matter of speed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.services.clock import ManualClock
from bot.services.slots import local_day_bounds
from bot.standin.harness import BotHarness
from bot.startup import start_slot_refresh
from db.engine import Database
from db.models import Slot
from tests.e2e.conftest import running_harness
from tests.e2e.flow import ORG

MOSCOW = ZoneInfo("Europe/Moscow")


async def slots_from(db: Database, clock: ManualClock, days_ahead: int) -> int:
    """Slots starting on or after the local day `days_ahead` days from today (Moscow)."""
    day = clock.now().astimezone(MOSCOW).date() + timedelta(days=days_ahead)
    since, _ = local_day_bounds(day, MOSCOW)
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).where(Slot.starts_at >= since)) or 0


async def first_start(tmp_path: Path, clock: ManualClock) -> None:
    """The clinic loaded and its slots made, as on the bot's first start."""
    async with running_harness(tmp_path, clock):
        pass


def answered_start(harness: BotHarness) -> bool:
    user = harness.user(1001, "Пётр")
    return any(ORG in label for row in user.buttons() for label in row)


async def test_the_bot_answers_while_the_slots_are_regenerated(
    tmp_path: Path, clock: ManualClock
) -> None:
    await first_start(tmp_path, clock)
    # A week later: the last week of the horizon has no slots yet.
    clock.advance(timedelta(days=7))
    async with running_harness(tmp_path, clock) as harness:
        # Slots were made for the horizon and one day more: days up to the old today + 14.
        new_days = harness.settings.booking.horizon_days + 1 - 7
        db = harness.database
        assert await slots_from(db, clock, new_days) == 0
        gate = asyncio.Event()
        refresh = start_slot_refresh(
            db, settings=harness.settings, clock=harness.clock, begin_after=gate
        )
        try:
            user = harness.user(1001, "Пётр")
            await user.send("/start")
            assert answered_start(harness)
            # Answered with the regeneration still to come: start-up did not run it.
            assert not refresh.done
            assert await slots_from(db, clock, new_days) == 0
            gate.set()
            await refresh.wait()
            assert await slots_from(db, clock, new_days) > 0
            # And the bot still answers.
            await user.send("/start")
            assert answered_start(harness)
        finally:
            await refresh.stop()


async def test_doctors_with_no_slots_ahead_get_them_before_the_bot_answers(
    tmp_path: Path, clock: ManualClock
) -> None:
    await first_start(tmp_path, clock)
    # Longer than the horizon: nobody has a slot ahead any more.
    clock.advance(timedelta(days=30))
    async with running_harness(tmp_path, clock) as harness:
        assert await slots_from(harness.database, clock, 0) > 0


async def test_stopping_cancels_a_refresh_that_has_not_finished(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with running_harness(tmp_path, clock) as harness:
        refresh = start_slot_refresh(
            harness.database,
            settings=harness.settings,
            clock=harness.clock,
            begin_after=asyncio.Event(),  # never set
        )
        await asyncio.sleep(0)
        assert not refresh.done
        await refresh.stop()
        assert refresh.task.cancelled()


async def test_a_failed_refresh_is_logged_and_the_bot_goes_on(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_harness(tmp_path, clock) as harness:
        db = harness.database
        # A database that cannot be read: the regeneration fails at its first query.
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("ALTER TABLE doctors RENAME TO doctors_away")
        try:
            with caplog.at_level(logging.ERROR, logger="bot.startup"):
                refresh = start_slot_refresh(db, settings=harness.settings, clock=harness.clock)
                await refresh.wait()
            assert refresh.done
            assert refresh.task.exception() is None
            assert "slot generation in the background failed" in caplog.text
        finally:
            async with db.engine.begin() as conn:
                await conn.exec_driver_sql("ALTER TABLE doctors_away RENAME TO doctors")
        user = harness.user(1001, "Пётр")
        await user.send("/start")
        assert answered_start(harness)
