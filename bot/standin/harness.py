"""The real bot (Dispatcher, aiohttp session, long polling) against the stand-in server.

Used by the end-to-end tests and by the sandbox: everything runs in one event loop, so the
bot's clock and its restarts can be driven from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from pathlib import Path
from typing import Any, Self

from aiogram import Bot, Dispatcher
from pydantic import SecretStr

from bot.app import create_bot, create_dispatcher
from bot.config import DatabaseSettings, DemoSettings, Settings
from bot.delivery.limiter import Limiter
from bot.delivery.offers import pass_on_held
from bot.delivery.outbox import Outbox
from bot.delivery.reminders import ReminderDispatcher
from bot.polling import poll
from bot.services.clock import Clock
from bot.services.installation import Purpose
from bot.services.instances import Heartbeat, begin_new_instance
from bot.standin.client import SimUser
from bot.standin.server import StandInServer, TgUser
from bot.standin.tracker import HandledTracker, track_outermost
from bot.startup import open_database, prepare_data
from db.engine import Database

# Documented, so only for tests: anything reachable by other local users takes random_token().
DEFAULT_TOKEN = "123456789:STANDIN-TOKEN"


def random_token() -> str:
    """A fresh token in the form aiogram and Telegram use: `<bot id>:<secret>`."""
    bot_id = 10**9 + secrets.randbelow(9 * 10**9)
    # token_urlsafe uses letters, digits, "_" and "-" only, as Telegram's secrets do.
    return f"{bot_id}:{secrets.token_urlsafe(27)}"


class BotHarness:
    def __init__(
        self,
        *,
        settings: Settings,
        clock: Clock,
        token: str = DEFAULT_TOKEN,
        server: StandInServer | None = None,
        purpose: Purpose = Purpose.BOT,
    ) -> None:
        self.server = server or StandInServer(token=token, clock=clock.now)
        self._token = token
        # Whom the database is opened for: end-to-end tests act as the bot, the sandbox as
        # itself (and is refused on any database it did not create).
        self._purpose = purpose
        self._settings = settings
        self.clock = clock
        self._db_cm: contextlib.AbstractAsyncContextManager[Database] | None = None
        self.db: Database | None = None
        self._bot: Bot | None = None
        self._dp: Dispatcher | None = None
        self._polling: asyncio.Task[None] | None = None
        # Tests drive reminders by hand (run_once) with the harness clock.
        self.reminders: ReminderDispatcher | None = None
        self.outbox: Outbox | None = None
        self._heartbeat: Heartbeat | None = None
        self._outbox_run: asyncio.Task[None] | None = None

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def bot(self) -> Bot:
        if self._bot is None:
            raise RuntimeError("the bot is not started")
        return self._bot

    @property
    def token(self) -> str:
        return self._token

    @property
    def database(self) -> Database:
        if self.db is None:
            raise RuntimeError("the harness is not started")
        return self.db

    async def start(self) -> None:
        # The database first: a refused one (ForeignDatabaseError) leaves nothing running.
        db_cm = open_database(self._settings, purpose=self._purpose)
        self.db = await db_cm.__aenter__()
        self._db_cm = db_cm
        try:
            await prepare_data(self.db, settings=self._settings, clock=self.clock)
            await self.server.start()
        except BaseException:
            await self.stop()
            raise
        self._settings = self._settings.model_copy(
            update={
                "telegram": self._settings.telegram.model_copy(
                    update={"api_base": self.server.base_url, "token": SecretStr(self._token)}
                )
            }
        )
        await self.start_bot()

    async def start_bot(self) -> None:
        # As a new process: a new instance id, alive before it claims anything.
        begin_new_instance()
        self._heartbeat = Heartbeat(self.database, every=self._settings.instances.heartbeat_seconds)
        await self._heartbeat.start()
        self._dp = create_dispatcher(self.database, settings=self._settings, clock=self.clock)
        track_outermost(self._dp, HandledTracker(self.server))
        self._bot = create_bot(self._settings)
        self.reminders = self.reminder_dispatcher()
        await self.reminders.recover()
        # The outbox's dispatcher runs as in production: what an update could not send
        # (a 429, a crash) goes out without the test's help.
        self.outbox = self._dp["outbox"]
        await self.outbox.recover()
        self._outbox_run = asyncio.create_task(self.outbox.run(self._bot))
        ready = asyncio.Event()

        async def on_startup() -> None:
            # An async handler: aiogram runs plain startup callbacks in a worker thread.
            ready.set()

        self._dp.startup.register(on_startup)
        self._polling = asyncio.create_task(
            poll(self._dp, self._bot, handle_signals=False, close_bot_session=True)
        )
        ready_wait = asyncio.create_task(ready.wait())
        done, _ = await asyncio.wait(
            {ready_wait, self._polling}, return_when=asyncio.FIRST_COMPLETED
        )
        if self._polling in done:
            ready_wait.cancel()
            self._polling.result()

    async def pass_on_held(self) -> int:
        """The waitlist job, as the scheduler runs it: holds that ran out pass on."""
        if self._bot is None or self._dp is None:
            raise RuntimeError("the bot is not started")
        return await pass_on_held(
            self.database,
            self._bot,
            self._dp["outbox"],
            clock=self.clock,
            hold=self._settings.waitlist.hold,
        )

    def reminder_dispatcher(self, *, limiter: Limiter | None = None) -> ReminderDispatcher:
        """A dispatcher on the running bot, e.g. with a slower limiter for a test."""
        if self._bot is None:
            raise RuntimeError("the bot is not started")
        return ReminderDispatcher(
            db=self.database,
            bot=self._bot,
            clock=self.clock,
            settings=self._settings.reminders,
            limiter=limiter or (self._dp["limiter"] if self._dp is not None else None),
            lease=self._settings.instances.lease,
            move_cutoff=self._settings.booking.change_cutoff,
        )

    async def stop_bot(self) -> None:
        if self._outbox_run is not None:
            self._outbox_run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._outbox_run
            self._outbox_run = None
        if self.outbox is not None:
            await self.outbox.drain()
        if self.reminders is not None:
            await self.reminders.drain()
        if self._heartbeat is not None:
            await self._heartbeat.stop()
            self._heartbeat = None
        if self._dp is not None and self._polling is not None:
            with contextlib.suppress(RuntimeError):
                await self._dp.stop_polling()
            await self._polling
        self._dp = self._bot = self._polling = None

    async def restart_bot(self) -> None:
        """A new process would do the same: new Dispatcher, Bot and session, same database."""
        await self.stop_bot()
        await self.start_bot()

    async def stop(self) -> None:
        await self.stop_bot()
        if self._db_cm is not None:
            await self._db_cm.__aexit__(None, None, None)
            self._db_cm = self.db = None
        await self.server.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def user(self, user_id: int, first_name: str, **fields: str) -> SimUser:
        tg_user = TgUser(id=user_id, first_name=first_name, **fields)
        self.server.add_user(tg_user)
        return SimUser(self.server, tg_user)


def harness_settings(
    *,
    data_dir: Path,
    demo_file: Path | None = None,
    database_url: str | None = None,
    **sections: Any,
) -> Settings:
    """Settings for a harness: the demo (or the given) data in a SQLite file in `data_dir`.

    `database_url` puts it elsewhere instead, e.g. the test suite's fresh PostgreSQL database.
    """
    demo = DemoSettings(load_when_empty=True)
    if demo_file is not None:
        demo = DemoSettings(load_when_empty=True, file=demo_file)
    url = database_url or f"sqlite+aiosqlite:///{data_dir / 'talon.sqlite3'}"
    return Settings(
        database=DatabaseSettings(url=url),
        demo=demo,
        **sections,
    )
