"""Dialogue state and per-account locks in Redis (`redis.url`), with a real redis-server."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.config import PrivacySettings, RedisSettings, StaffSettings
from bot.services.clock import ManualClock
from bot.standin.harness import BotHarness, harness_settings
from db.models import Booking, BookingStatus, FsmRecord
from tests.e2e.conftest import ADMIN_ID, CLINIC
from tests.e2e.flow import PETROV, identify, open_day
from tests.redis_server import needs_redis, redis_server

pytestmark = needs_redis


@pytest.fixture
async def redis_url(tmp_path: Path) -> AsyncIterator[str]:
    (tmp_path / "redis").mkdir()
    async with redis_server(tmp_path / "redis") as url:
        yield url


@pytest.fixture
async def harness(tmp_path: Path, clock: ManualClock, redis_url: str) -> AsyncIterator[BotHarness]:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings = harness_settings(
        data_dir=tmp_path,
        demo_file=CLINIC,
        staff=StaffSettings(admins=[ADMIN_ID]),
        redis=RedisSettings(url=SecretStr(redis_url)),
        # Shared by the instances, so values sealed on one open on another.
        privacy=PrivacySettings(state_key=SecretStr(key)),
    )
    async with BotHarness(settings=settings, clock=clock) as running:
        yield running
        assert running.server.violations == []
        assert running.server.handler_errors == []


async def fsm_keys(url: str) -> list[bytes]:
    redis = Redis.from_url(url)
    try:
        return [key async for key in redis.scan_iter("talon:fsm:*")]
    finally:
        await redis.aclose()


async def test_a_booking_with_its_dialogue_in_redis_survives_a_restart(
    harness: BotHarness, redis_url: str
) -> None:
    user = harness.user(7100, "Пётр")
    await open_day(user)
    await user.click("08:00")
    await user.click("Принимаю")
    await user.send(PETROV["oms"])
    # The dialogue is in Redis, not in the database, and expires there by itself.
    keys = await fsm_keys(redis_url)
    assert keys
    redis = Redis.from_url(redis_url)
    try:
        ttls = [await redis.ttl(key) for key in keys]
        assert all(0 < ttl <= 600 for ttl in ttls), ttls
    finally:
        await redis.aclose()
    async with harness.database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 0
    # Another process with the same shared key takes the dialogue over where it stood.
    await harness.restart_bot()
    await user.send(PETROV["document"])
    await user.send(PETROV["birth_date"])
    assert "Вы успешно записались" in user.bot_messages[-2].text
    assert user.last_bot_message.document is not None
    async with harness.database.sessions() as session:
        booked = await session.scalar(
            select(func.count()).select_from(Booking).where(Booking.status == BookingStatus.ACTIVE)
        )
    assert booked == 1


async def test_an_accounts_updates_are_one_at_a_time_through_the_redis_lock(
    harness: BotHarness,
) -> None:
    user = harness.user(7101, "Мария")
    await open_day(user)
    # A double tap: two presses of the same time at once. Handled one after the other, the
    # second finds the dialogue already moved on and changes nothing twice.
    await asyncio.gather(user.click("08:30"), user.click("08:30"))
    await user.click("Принимаю")
    await identify(user, PETROV)
    async with harness.database.sessions() as session:
        booked = await session.scalar(
            select(func.count()).select_from(Booking).where(Booking.status == BookingStatus.ACTIVE)
        )
    assert booked == 1
