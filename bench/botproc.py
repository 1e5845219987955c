"""A bot in a process of its own, polling a stand-in Bot API server run by `python -m bench`.

Keeping the bot alone in its process lets the benchmark read the bot's CPU time and memory
without the stand-in server's and the simulated patients' share. Two bots:

* ``talon``: the real bot, wired as the end-to-end harness wires it (bot/standin/harness.py):
  `prepare_data` on an already imported database, `create_dispatcher`, `create_bot`, the
  outbox's dispatcher, Talon's poller; no scheduler, so no other background job runs during
  a measurement;
* ``bare``: a minimal aiogram Dispatcher that answers every message and every callback query
  with one message carrying an inline keyboard; it imports nothing of Talon.

Protocol, one line each way (started by `bench.driver.BotProcess`):

* stdin, first line: the JSON configuration (``mode``, ``api_base``, ``token``; for talon also
  ``db_url`` and ``now``, the fixed moment of the bot's clock); the token travels this way
  rather than on the command line, which other local users can read. Optional for talon:
  ``reminders``, fields of ReminderSettings (e.g. ``{"per_second": 10}``), and
  ``dispatch_reminders``: true runs a ReminderDispatcher as `run_polling` does (`recover`
  at start), calling `run_once` in a loop, ``reminder_idle_seconds`` (0.05) apart;
  ``privacy``, fields of PrivacySettings (e.g. a fixed ``state_key``, in the config line
  rather than the environment for the same reason as the token); ``instances``, fields of
  InstanceSettings (a short lease); ``booking``, fields of BookingSettings (``horizon_days``
  alone is still accepted); ``redis``, fields of RedisSettings (``{"url": ...}``: dialogues
  and per-account locks in Redis, as several instances run; a shared ``privacy.state_key`` is
  then required, as `python -m bot` requires it); ``webhook``, fields of WebhookSettings
  (``host``, ``port``, ``path``, ``url``, ``secret``): the bot runs bot/webhook.py's
  `serve_webhook` (setWebhook with that url and secret) instead of the poller, as
  `run_webhook` does;
* stdin, then: ``cpu`` (answered with ``cpu <process_time seconds>``) and ``quit``;
* stdout: ``ready`` once polling runs (webhook: once setWebhook was answered), ``h <update_id>``
  or ``h <update_id> <error>`` after each update, as the stand-in's HandledTracker would
  report it in the same process.

Logs go to stderr; nothing else may write to stdout.

``python -m bench.botproc --fork-server <fd>`` imports Talon once, then forks a bot process
per request on the Unix socket `fd` (`bench.driver.ForkServer`): importing aiogram takes
seconds, and a test that kills the bot and starts it again ten times should not pay that
ten times. Each request carries one socket, which becomes the forked bot's stdin and stdout
(the protocol above); the answer is the new process's pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
    Update,
)

if TYPE_CHECKING:
    # Imported for real only by the talon mode: the bare bot imports nothing of Talon.
    from bot.config import Settings
    from bot.delivery.reminders import ReminderDispatcher
    from bot.services.clock import Clock
    from db.engine import Database


def emit(line: str) -> None:
    # One write(2) per line: the parent reads whole lines, and a pipe write this small is atomic.
    os.write(sys.stdout.fileno(), (line.replace("\n", " ") + "\n").encode())


class PipeTracker(BaseMiddleware):
    """The stand-in's HandledTracker across a process boundary: reports each handled update."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        error = ""
        try:
            return await handler(event, data)
        except BaseException as exc:
            error = f" {exc!r}"
            raise
        finally:
            emit(f"h {event.update_id}{error}")


def bare_dispatcher() -> Dispatcher:
    router = Router()
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Дальше", callback_data="next"),
                InlineKeyboardButton(text="В начало", callback_data="start"),
            ]
        ]
    )

    @router.message()
    async def on_message(message: Message) -> None:
        await message.answer("Принято. Выберите действие.", reply_markup=keyboard)

    @router.callback_query()
    async def on_callback(query: CallbackQuery) -> None:
        assert query.bot is not None
        await query.bot.send_message(
            query.from_user.id, "Принято. Выберите действие.", reply_markup=keyboard
        )

    dp = Dispatcher()
    dp.include_router(router)
    return dp


@contextlib.asynccontextmanager
async def talon(config: dict[str, Any]) -> AsyncIterator[tuple[Dispatcher, Bot, Database | None]]:
    from datetime import datetime

    from pydantic import SecretStr

    from bot.app import create_bot, create_dispatcher
    from bot.config import (
        BookingSettings,
        DatabaseSettings,
        InstanceSettings,
        PrivacySettings,
        RedisSettings,
        ReminderSettings,
        Settings,
        TelegramSettings,
        WebhookSettings,
    )
    from bot.services.clock import ManualClock
    from bot.services.instances import Heartbeat
    from bot.startup import open_database, prepare_data, start_slot_refresh

    settings = Settings(
        telegram=TelegramSettings(token=SecretStr(config["token"]), api_base=config["api_base"]),
        database=DatabaseSettings(url=config["db_url"]),
        reminders=ReminderSettings(
            **{"per_chat_interval_seconds": 0, **config.get("reminders", {})}
        ),
        # "horizon_days": the horizon the database's slots were made for (the registry's).
        # "booking": fields of BookingSettings (e.g. `slots_per_page`, so that a day's times
        # fit on one page).
        booking=BookingSettings(
            **{
                "horizon_days": config.get("horizon_days", BookingSettings().horizon_days),
                **config.get("booking", {}),
            }
        ),
        # "privacy": fields of PrivacySettings, e.g. a fixed `state_key`, so that identity
        # values sealed into a dialogue by one bot process open in the next one (a kill test).
        privacy=PrivacySettings(**config.get("privacy", {})),
        # "instances": fields of InstanceSettings (a short lease for a two-instance test).
        instances=InstanceSettings(**config.get("instances", {})),
        # "redis": fields of RedisSettings; "webhook": fields of WebhookSettings (see `serve`).
        redis=RedisSettings(**config.get("redis", {})),
        webhook=WebhookSettings(**config.get("webhook", {})),
    )
    if problem := settings.several_instances_problem():
        # As `python -m bot` refuses to start (bot/__main__.py).
        raise ValueError(problem)
    clock = ManualClock(datetime.fromisoformat(config["now"]))
    async with open_database(settings) as db:
        await prepare_data(db, settings=settings, clock=clock)
        # "refresh": the regeneration of all slots in the background, as `run_polling` starts
        # it (the registry section's start-up line); off by default, so that no background
        # work runs during the dialogue sections' measurements.
        refresh = (
            start_slot_refresh(db, settings=settings, clock=clock)
            if config.get("refresh")
            else None
        )
        dp, bot = create_dispatcher(db, settings=settings, clock=clock), create_bot(settings)
        # Alive before it claims anything, as in `running_bot` (bot/app.py).
        heartbeat = Heartbeat(db, every=settings.instances.heartbeat_seconds)
        await heartbeat.start()
        reminders = (
            await start_reminders(db, dp, bot, settings=settings, clock=clock, config=config)
            if config.get("dispatch_reminders")
            else None
        )
        # The outbox's dispatcher, as `run_polling` starts it: after a kill, what the killed
        # process owed goes out from the next one.
        outbox = dp["outbox"]
        await outbox.recover()
        owed = asyncio.create_task(outbox.run(bot))
        try:
            yield dp, bot, db
        finally:
            owed.cancel()
            await asyncio.gather(owed, return_exceptions=True)
            await outbox.drain()
            if reminders is not None:
                await reminders.stop()
            if refresh is not None:
                await refresh.stop()
            await heartbeat.stop()


class ReminderLoop:
    """`run_once` again and again, as the production scheduler's interval job, but sooner."""

    def __init__(self, dispatcher: ReminderDispatcher, *, idle_seconds: float) -> None:
        self._dispatcher = dispatcher
        self._idle = idle_seconds
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self._dispatcher.run_once()
            await asyncio.sleep(self._idle)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        # The sends under way finish and are marked, as at a stop of `run_polling`.
        await self._dispatcher.drain()


async def start_reminders(
    db: Database,
    dp: Dispatcher,
    bot: Bot,
    *,
    settings: Settings,
    clock: Clock,
    config: dict[str, Any],
) -> ReminderLoop:
    from bot.app import reminder_dispatcher

    dispatcher = reminder_dispatcher(db, dp, bot, settings=settings, clock=clock)
    # Before any run, as `run_polling` does: what a killed process left claimed goes back.
    await dispatcher.recover()
    return ReminderLoop(dispatcher, idle_seconds=config.get("reminder_idle_seconds", 0.05))


@contextlib.asynccontextmanager
async def bare(config: dict[str, Any]) -> AsyncIterator[tuple[Dispatcher, Bot, Database | None]]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(config["api_base"]))
    yield bare_dispatcher(), Bot(config["token"], session=session), None


async def stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def serve(config: dict[str, Any], commands: asyncio.StreamReader) -> None:
    bot_cm = talon(config) if config["mode"] == "talon" else bare(config)
    async with bot_cm as (dp, bot, db):
        if config["mode"] == "talon":
            # Outside Talon's UnitOfWork: an update counts as handled once it is committed.
            from bot.standin.tracker import track_outermost

            track_outermost(dp, PipeTracker())
        else:
            dp.update.outer_middleware(PipeTracker())
        if config["mode"] == "talon" and "webhook" in config:
            assert db is not None
            await serve_webhook(dp, bot, db=db, config=config, commands=commands)
            return

        async def on_startup() -> None:
            emit("ready")

        dp.startup.register(on_startup)
        if config["mode"] == "talon":
            from bot.polling import poll

            # Talon's own poller, as `run_polling` runs it; the bare bot keeps aiogram's.
            running = poll(dp, bot, handle_signals=False, close_bot_session=True)
        else:
            running = dp.start_polling(bot, handle_signals=False, close_bot_session=True)
        polling = asyncio.create_task(running)
        try:
            await obey(commands, polling)
        finally:
            if not polling.done():
                with contextlib.suppress(RuntimeError):
                    await dp.stop_polling()
            async with asyncio.timeout(30):
                await polling


async def obey(commands: asyncio.StreamReader, running: asyncio.Task[None]) -> None:
    """Answer the parent's commands until ``quit`` (or its end of file), or until `running`
    ends on its own (an error: the caller raises it)."""
    while True:
        read = asyncio.create_task(commands.readline())
        await asyncio.wait({read, running}, return_when=asyncio.FIRST_COMPLETED)
        if not read.done():
            read.cancel()
            return
        line = read.result().decode().strip()
        if line == "cpu":
            emit(f"cpu {time.process_time():.6f}")
        elif line in ("quit", ""):
            return


async def serve_webhook(
    dp: Dispatcher,
    bot: Bot,
    *,
    db: Database,
    config: dict[str, Any],
    commands: asyncio.StreamReader,
) -> None:
    """bot/webhook.py's `serve_webhook`, as `run_webhook` runs it: `ready` once setWebhook
    was answered; at ``quit`` it stops as at a SIGTERM (the requests under way finish)."""
    from bot.config import WebhookSettings
    from bot.webhook import serve_webhook as serve

    started = asyncio.Event()
    serving = asyncio.create_task(
        serve(
            dp,
            bot,
            db=db,
            settings=WebhookSettings(**config["webhook"]),
            started=started,
            handle_signals=False,
        )
    )
    try:
        ready = asyncio.create_task(started.wait())
        await asyncio.wait({ready, serving}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done():
            emit("ready")
            await obey(commands, serving)
        else:
            ready.cancel()
    finally:
        if not serving.done():
            serving.cancel()
        async with asyncio.timeout(60):
            # Cancelled: its clean-up has run; an error of its own is raised here.
            with contextlib.suppress(asyncio.CancelledError):
                await serving
        await bot.session.close()


async def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="bot: %(levelname)s %(name)s: %(message)s")
    commands = await stdin_lines()
    config = json.loads(await commands.readline())
    # TALON_BENCH_PROFILE=<dir>: a cProfile of each Talon bot process (main thread only) is
    # written there at quit, for finding where a click's time goes (see bench/README.md).
    # TALON_BENCH_TRACEMALLOC=<dir>: the Talon bot process traces its Python allocations, and
    # each SIGUSR1 writes a snapshot there, talon-<pid>-<n>.tracemalloc (the memory section
    # sends one before and one after its dialogues), for finding what an open dialogue keeps.
    # Tracing slows the bot and adds to its RSS: the table's figures mean nothing in that run.
    snapshot_dir = os.environ.get("TALON_BENCH_TRACEMALLOC")
    if snapshot_dir and config["mode"] == "talon":
        import gc
        import signal
        import tracemalloc

        tracemalloc.start(12)
        taken = 0

        def snapshot(signum: int, frame: object) -> None:
            nonlocal taken
            taken += 1
            path = os.path.join(snapshot_dir, f"talon-{os.getpid()}-{taken}.tracemalloc")
            # What is kept, not what awaits the cycle collector (how much did goes to stderr).
            found = gc.collect()
            os.write(2, f"bot: snapshot {taken}: {found} unreachable objects collected\n".encode())
            # Under another name until complete: the benchmark waits for the finished file.
            tracemalloc.take_snapshot().dump(path + ".part")
            os.rename(path + ".part", path)

        signal.signal(signal.SIGUSR1, snapshot)
    profile_dir = os.environ.get("TALON_BENCH_PROFILE")
    if not profile_dir or config["mode"] != "talon":
        await serve(config, commands)
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        await serve(config, commands)
    finally:
        profiler.disable()
        profiler.dump_stats(os.path.join(profile_dir, f"talon-{os.getpid()}.prof"))


def fork_server(control_fd: int) -> None:
    """Import Talon once, then fork a bot per request on the `control_fd` Unix socket."""
    import signal
    import socket

    # Everything `talon` imports, so that a forked bot starts in a fraction of a second.
    import bot.app
    import bot.delivery.reminders
    import bot.redis_state  # several instances: dialogues and locks in Redis
    import bot.services.ticket  # the first ticket of every forked bot would load fpdf2 again
    import bot.standin.tracker
    import bot.startup
    import bot.webhook  # noqa: F401

    control = socket.socket(fileno=control_fd)
    # Forked bots are reaped by the kernel: the parent learns of a death from its socket.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        _, fds, _, _ = socket.recv_fds(control, 64, 1)
        if not fds:
            return  # the parent closed the socket (or died): no more bots
        [channel] = fds
        pid = os.fork()
        if pid == 0:
            _forked_bot(control, channel)
        os.close(channel)
        control.sendall(f"{pid}\n".encode())


def _forked_bot(control: Any, channel: int) -> None:
    """In the forked child: the channel becomes stdin and stdout, then the usual bot runs."""
    import signal

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    control.close()
    os.dup2(channel, 0)
    os.dup2(channel, 1)
    os.close(channel)
    code = 0
    try:
        asyncio.run(main())
    except BaseException:
        logging.exception("the forked bot failed")
        code = 1
    finally:
        # Never back into the fork server's loop, and no atexit handlers of the parent.
        os._exit(code)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fork-server"]:
        fork_server(int(sys.argv[2]))
    else:
        asyncio.run(main())
