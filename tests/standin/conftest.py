import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher

from bot.standin import HandledTracker, SimUser, StandInServer

from .demo_bot import ALICE, TOKEN, demo_router, make_bot


@pytest.fixture
async def server() -> AsyncIterator[StandInServer]:
    async with StandInServer(token=TOKEN) as srv:
        yield srv


@pytest.fixture
async def bot(server: StandInServer) -> AsyncIterator[Bot]:
    async with make_bot(server) as bot:
        yield bot


@pytest.fixture
async def polling(server: StandInServer, bot: Bot) -> AsyncIterator[Dispatcher]:
    """The demo bot long-polling the stand-in until the test ends."""
    dp = Dispatcher()
    dp.include_router(demo_router())
    dp.update.outer_middleware(HandledTracker(server))
    started = asyncio.Event()

    @dp.startup()
    async def on_startup() -> None:
        started.set()

    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    await started.wait()
    yield dp
    await dp.stop_polling()
    await task


@pytest.fixture
def alice(server: StandInServer, polling: Dispatcher) -> SimUser:
    return SimUser(server, ALICE, timeout=5)
