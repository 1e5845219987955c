"""bot/polling.py against the stand-in Bot API server: an update is confirmed to Telegram
only once it has been handled, so a crash loses nothing.

Each "process" is a real aiogram Dispatcher and Bot polling the stand-in over HTTP with
``poll``. Its only handler records which updates it started and finished; "slow" blocks
until the test releases it and "boom" raises. The Bot's request middleware records every
getUpdates the poller sends, so the tests can count requests and read their offsets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Message, Update

from bot.polling import PINNED_POLL_INTERVAL, poll
from bot.standin import StandInServer, TgUser
from bot.standin.events import EventHub
from tests.standin.demo_bot import TOKEN, make_bot

ALICE = TgUser(1001, "Alice")
POLLING_TIMEOUT = 10
# Looks like an OMS number: a handler's error message must never reach the log.
SECRET = "7788899730000765"
# What a poller pinned by a blocked update may send per second: 20 are expected (one per
# PINNED_POLL_INTERVAL); a spinning loop sends hundreds on loopback.
MAX_PINNED_POLLS_PER_SECOND = 60
WAIT = 5.0  # seconds any expected event may take


@dataclass(eq=False)
class Process:
    """One bot process: what it handled and which getUpdates it sent."""

    server: StandInServer
    release: asyncio.Event = field(default_factory=asyncio.Event)
    hub: EventHub = field(default_factory=EventHub)
    started: list[int] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)
    sent: list[GetUpdates] = field(default_factory=list)
    answered: list[list[int]] = field(default_factory=list)
    dp: Dispatcher = field(default_factory=Dispatcher)
    task: asyncio.Task[None] | None = None

    async def until(self, condition: Callable[[], object]) -> None:
        """Wait until ``condition()`` holds, re-checked whenever this process records."""
        async with asyncio.timeout(WAIT):
            await self.hub.wait_until(condition)

    def note(self, record: list[int], update_id: int) -> None:
        record.append(update_id)
        self.hub.notify()

    def offsets_sent(self) -> Iterator[int | None]:
        return (request.offset for request in self.sent)


class GetUpdatesLog(BaseRequestMiddleware):
    """Records each getUpdates as sent, and the update ids each one returned."""

    def __init__(self, process: Process) -> None:
        self._process = process

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not isinstance(method, GetUpdates):
            return await make_request(bot, method)
        self._process.sent.append(method.model_copy())
        self._process.hub.notify()
        # aiogram's middleware chain hands back the method's result (the updates), whatever
        # its annotation says.
        result: Any = await make_request(bot, method)  # type: ignore[arg-type]
        # Talon's poller asks for plain JSON objects (bot/polling.py::_RawGetUpdates).
        self._process.answered.append([update["update_id"] for update in result])
        self._process.hub.notify()
        return result  # type: ignore[no-any-return]


def recording_handler(process: Process) -> Callable[..., Awaitable[None]]:
    async def on_text(message: Message, event_update: Update) -> None:
        process.note(process.started, event_update.update_id)
        if message.text == "slow":
            await process.release.wait()
        if message.text == "boom":
            raise RuntimeError(f"policy {SECRET} rejected")
        # A real request: a poller that closed the session before the update finished
        # would make this fail.
        await message.answer("done")
        process.note(process.finished, event_update.update_id)

    return on_text


@pytest.fixture
async def server() -> AsyncIterator[StandInServer]:
    async with StandInServer(token=TOKEN) as srv:
        yield srv


@pytest.fixture
async def observer(server: StandInServer) -> AsyncIterator[Bot]:
    """A second client that only asks getWebhookInfo how many updates Telegram holds."""
    bot = make_bot(server)
    yield bot
    await bot.session.close()


@pytest.fixture
async def start(server: StandInServer) -> AsyncIterator[Callable[[], Awaitable[Process]]]:
    """Starts bot processes; those still running at the end are released and stopped."""
    processes: list[Process] = []

    async def start_process() -> Process:
        process = Process(server)
        processes.append(process)
        await start_polling(process)
        return process

    yield start_process
    for process in processes:
        process.release.set()
        if process.task is not None and not process.task.done():
            await process.dp.stop_polling()
            await process.task


async def start_polling(process: Process) -> None:
    process.dp.message.register(recording_handler(process), F.text)
    bot = make_bot(process.server)
    bot.session.middleware(GetUpdatesLog(process))
    ready = asyncio.Event()

    async def on_startup() -> None:
        ready.set()

    process.dp.startup.register(on_startup)
    process.task = asyncio.create_task(
        poll(process.dp, bot, polling_timeout=POLLING_TIMEOUT, handle_signals=False)
    )
    ready_wait = asyncio.create_task(ready.wait())
    async with asyncio.timeout(WAIT):
        await asyncio.wait({ready_wait, process.task}, return_when=asyncio.FIRST_COMPLETED)
    if process.task.done():
        process.task.result()


async def pending_updates(observer: Bot) -> int:
    return (await observer.get_webhook_info()).pending_update_count


async def settle_in_long_poll(server: StandInServer) -> None:
    """Wait until the bot waits in a long poll: only with nothing left pending on the server
    (every update confirmed), as a poll with pending updates returns at once."""
    await server.wait_for(lambda: server.long_polling, timeout=WAIT)


Start = Callable[[], Awaitable[Process]]


async def test_update_in_flight_is_not_confirmed(
    server: StandInServer, observer: Bot, start: Start
) -> None:
    bot = await start()
    slow = server.push_message(ALICE, "slow")
    await bot.until(lambda: slow in bot.started)
    later = [server.push_message(ALICE, "one"), server.push_message(ALICE, "two")]
    await bot.until(lambda: set(later) <= set(bot.finished))
    # Telegram keeps returning them while the slow one pins the offset: twice more, at least.
    await bot.until(lambda: bot.answered.count([slow, *later]) >= 3)

    assert await pending_updates(observer) == 3, "the slow update must still be pending"
    assert all(offset is None or offset <= slow for offset in bot.offsets_sent())
    assert bot.started == [slow, *later], "updates returned again must not be fed again"

    bot.release.set()
    await bot.until(lambda: slow in bot.finished)
    await settle_in_long_poll(server)
    assert await pending_updates(observer) == 0
    assert bot.sent[-1].offset == later[-1] + 1
    assert bot.sent[-1].timeout == POLLING_TIMEOUT
    assert sorted(bot.finished) == [slow, *later]


async def test_crash_redelivers_the_unfinished_update(server: StandInServer, start: Start) -> None:
    first = await start()
    before = server.push_message(ALICE, "before")
    await first.until(lambda: before in first.finished)
    slow = server.push_message(ALICE, "slow")
    after = server.push_message(ALICE, "after")
    await first.until(lambda: slow in first.started and after in first.finished)
    # ...and it went on polling meanwhile, so an offset past the slow update would be sent.
    polled = len(first.answered)
    await first.until(lambda: len(first.answered) >= polled + 2)

    # The process dies with the slow update unfinished: nothing of it runs to the end.
    assert first.task is not None
    first.task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first.task
    assert slow not in first.finished

    second = await start()
    second.release.set()
    await second.until(lambda: slow in second.finished)
    last = server.push_message(ALICE, "last")
    await second.until(lambda: last in second.finished)
    # The unfinished update comes again; the one finished before it does not. The one
    # finished after it comes again too: Telegram's offset confirms a prefix only, so
    # Talon deduplicates handled update ids in its database.
    assert second.started == [slow, after, last]


async def test_graceful_stop_finishes_and_confirms(
    server: StandInServer, observer: Bot, start: Start
) -> None:
    first = await start()
    slow = server.push_message(ALICE, "slow")
    await first.until(lambda: slow in first.started)

    stopping = asyncio.create_task(first.dp.stop_polling())
    # A negative check needs a window: a poller that does not wait stops well within it.
    done, _ = await asyncio.wait({stopping}, timeout=4 * PINNED_POLL_INTERVAL)
    assert not done, "the stop must wait for the update in flight"
    first.release.set()
    async with asyncio.timeout(WAIT):
        await stopping
    assert first.finished == [slow]
    assert [m.text for m in server.messages(ALICE.id) if m.from_bot] == ["done"]
    last_request = first.sent[-1]
    assert (last_request.offset, last_request.timeout, last_request.limit) == (slow + 1, 0, 1)
    assert await pending_updates(observer) == 0

    second = await start()
    last = server.push_message(ALICE, "last")
    await second.until(lambda: last in second.finished)
    assert second.started == [last]


async def test_handler_error_does_not_pin_the_offset(
    server: StandInServer, observer: Bot, start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    first = await start()
    boom = server.push_message(ALICE, "boom")
    fine = server.push_message(ALICE, "fine")
    await first.until(lambda: fine in first.finished)
    await settle_in_long_poll(server)
    assert await pending_updates(observer) == 0
    assert first.sent[-1].offset == fine + 1
    assert f"update {boom} failed: RuntimeError" in caplog.text
    assert SECRET not in caplog.text, "an error's message may quote what a patient typed"

    assert first.task is not None
    await first.dp.stop_polling()
    await first.task
    second = await start()
    last = server.push_message(ALICE, "last")
    await second.until(lambda: last in second.finished)
    assert second.started == [last]


async def test_no_busy_loop_while_an_update_pins_the_offset(
    server: StandInServer, start: Start
) -> None:
    bot = await start()
    slow = server.push_message(ALICE, "slow")
    await bot.until(lambda: slow in bot.started)

    loop = asyncio.get_running_loop()
    sent_before, since = len(bot.sent), loop.time()
    await bot.until(lambda: len(bot.sent) >= sent_before + 6)
    polls, seconds = len(bot.sent) - sent_before, loop.time() - since
    # Counted, with a generous allowance per second of blocking (a spinning loop makes
    # the six requests within a few milliseconds).
    assert polls <= 2 + MAX_PINNED_POLLS_PER_SECOND * seconds, (polls, seconds)
    assert all(request.timeout == 0 for request in bot.sent[sent_before:])

    bot.release.set()
    await bot.until(lambda: slow in bot.finished)
    await settle_in_long_poll(server)
    assert bot.sent[-1].timeout == POLLING_TIMEOUT
