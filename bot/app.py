"""Wiring: database, dispatcher, background jobs and the polling loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiogram import Bot, Dispatcher, F, methods
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ChatType, ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.methods.base import Response
from aiogram.types import BotCommand
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from bot.delivery.limiter import Limiter, RateLimiter
from bot.delivery.offers import pass_on_held
from bot.delivery.outbox import Outbox
from bot.delivery.reminders import ReminderDispatcher
from bot.fsm_storage import SqlAlchemyStorage
from bot.handlers import (
    booking,
    consent,
    errors,
    fallback,
    identify,
    language,
    my_bookings,
    offers,
    patients,
    reminders,
    staff,
    start,
    waitlist,
)
from bot.i18n import DEFAULT_LOCALE, LOCALES, translate
from bot.isolation import KeyedLocks
from bot.middlewares import IdentityGuard, LanguageMiddleware, UnitOfWork
from bot.polling import poll
from bot.services import outbox as outbox_rows
from bot.services.attempts import purge_failures
from bot.services.clock import Clock, SystemClock
from bot.services.consent import agreement_text
from bot.services.instances import Heartbeat
from bot.startup import open_database, prepare_data, refresh_slots, start_slot_refresh
from db.engine import Database

logger = logging.getLogger(__name__)

COMMAND_NAMES = ("start", "my", "forget", "language", "help")
# Sent outbox rows and handled-update records are kept this long: Telegram redelivers an
# update for a day at most, and a week of sent messages helps to answer "was I told?".
OUTBOX_KEPT = timedelta(days=7)
# How often held waitlist times are checked: a hold that ran out passes on within this.
WAITLIST_CHECK_SECONDS = 15


def commands(locale: str) -> list[BotCommand]:
    """The command menu in one language (registered per language with setMyCommands)."""
    return [
        BotCommand(command=name, description=translate(locale, f"command-{name}"))
        for name in COMMAND_NAMES
    ]


# Leaves room for the heading, the operator's name and address (300 characters each at most)
# and the choice summary inside Telegram's 4096-character message limit.
MAX_AGREEMENT_CHARS = 2800


async def purge_stale(
    *, db: Database, storage: BaseStorage, settings: Settings, clock: Clock
) -> None:
    """Expired dialogues (they may hold typed identity numbers; in Redis they expire by
    themselves) and old failure records."""
    if isinstance(storage, SqlAlchemyStorage):
        await storage.purge_expired()
    async with db.sessions() as session:
        await purge_failures(session, now=clock.now(), keep_for=settings.failure_limits.keep_for)
        await outbox_rows.purge(session, before=clock.now() - OUTBOX_KEPT)


class AgreementTooLongError(ValueError):
    """The consent text would not fit the consent screen's Telegram message."""


def check_agreement(settings: Settings) -> None:
    for path in (settings.consent.file, *settings.consent.translations.values()):
        text = agreement_text(path)
        if len(text) > MAX_AGREEMENT_CHARS:
            # Operator-facing, like every start-up failure (bot/__main__.py): Russian.
            raise AgreementTooLongError(
                f"Текст согласия {path}: {len(text)} символов, а в сообщение Telegram на экране "
                f"согласия помещается не больше {MAX_AGREEMENT_CHARS}; сократите его "
                "(consent.file в настройках)."
            )


def dialogue_state(
    db: Database, *, settings: Settings, clock: Clock
) -> tuple[BaseStorage, BaseEventIsolation]:
    """Where dialogues live and how an account's updates are kept one at a time: the
    database and a lock in this process for one instance, Redis for several."""
    ttl = timedelta(minutes=settings.booking.session_timeout_minutes)
    if settings.redis.url is not None:
        from bot.redis_state import redis_state

        return redis_state(settings.redis.url.get_secret_value(), ttl=ttl)
    return SqlAlchemyStorage(db.sessions, ttl=ttl, clock=clock), KeyedLocks()


def sending_limiter(storage: BaseStorage, *, settings: Settings) -> Limiter:
    per_second = settings.reminders.per_second
    per_chat = settings.reminders.per_chat_interval_seconds
    if settings.redis.url is not None:
        # Imported only here: one instance never loads the Redis client.
        from aiogram.fsm.storage.redis import RedisStorage

        from bot.delivery.shared_limiter import RedisRateLimiter

        assert isinstance(storage, RedisStorage)
        return RedisRateLimiter(storage.redis, per_second=per_second, per_chat_interval=per_chat)
    return RateLimiter(per_second=per_second, per_chat_interval=per_chat)


def create_dispatcher(db: Database, *, settings: Settings, clock: Clock) -> Dispatcher:
    storage, isolation = dialogue_state(db, settings=settings, clock=clock)
    # One budget for every message the bot sends on its own (reminders, notices to patients),
    # shared by all instances through Redis when there are several.
    limiter = sending_limiter(storage, settings=settings)
    # Every message a change owes, sent after the update's commit or by its dispatcher.
    outbox = Outbox(db=db, clock=clock, limiter=limiter, lease=settings.instances.lease)
    dp = Dispatcher(
        # No isolation in aiogram's FSM middleware: UnitOfWork takes the account's lock
        # itself, before it reads the dialogue and until after it has written it.
        storage=storage,
        settings=settings,
        clock=clock,
        limiter=limiter,
        outbox=outbox,
        # The key of typed identity values between the prompts lives only in this process.
        sealer=settings.privacy.sealer(),
    )
    # Patients type identity numbers: only in a private chat, never in a group.
    dp.message.filter(F.chat.type == ChatType.PRIVATE)
    dp.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    # Between aiogram's user context (it needs the user) and its FSM middleware (whose
    # dialogue reads it serves from the update's unit): re-register the FSM one after it.
    dp.update.outer_middleware.unregister(dp.fsm)
    dp.update.outer_middleware(
        UnitOfWork(db.sessions, storage=storage, isolation=isolation, fsm=dp.fsm, outbox=outbox)
    )
    dp.update.outer_middleware(dp.fsm)
    # After the session: it reads (and at first contact remembers) the account's language.
    dp.update.middleware(LanguageMiddleware())
    # On every message handler, after the filters chose one (it needs the dialogue state).
    dp.message.middleware(IdentityGuard())
    dp.include_routers(
        errors.create_router(),
        staff.create_router(),
        start.create_router(),
        language.create_router(),
        reminders.create_router(),
        my_bookings.create_router(),
        patients.create_router(),
        offers.create_router(),
        waitlist.create_router(),
        identify.create_router(),
        booking.create_router(),
        consent.create_router(),
        fallback.create_router(),
    )
    return dp


async def register_commands(bot: Bot) -> None:
    """The menu in Russian by default, and in each other language for its speakers."""
    await bot.set_my_commands(commands(DEFAULT_LOCALE))
    for locale in LOCALES:
        if locale != DEFAULT_LOCALE:
            await bot.set_my_commands(commands(locale), language_code=locale)


# aiogram parametrizes its generic Response[...] model on every API call, and pydantic keeps
# parametrized models only weakly: once the garbage collector has run, the next call builds
# the model class again (about 0.4 ms). Holding the return types of the methods the bot uses
# keeps them built once per process.
_RESPONSE_TYPES = tuple(
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in (
        methods.AnswerCallbackQuery,
        methods.DeleteMessage,
        methods.EditMessageReplyMarkup,
        methods.EditMessageText,
        methods.GetMe,
        methods.GetUpdates,
        methods.SendDocument,
        methods.SendMessage,
        methods.SetMyCommands,
    )
)


def create_bot(settings: Settings) -> Bot:
    if settings.telegram.token is None:
        raise ValueError("no bot token configured")
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram.api_base))
        if settings.telegram.api_base
        else AiohttpSession()
    )
    return Bot(
        settings.telegram.token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def create_scheduler(
    db: Database,
    dp: Dispatcher,
    *,
    settings: Settings,
    clock: Clock,
    reminders: ReminderDispatcher,
    bot: Bot,
) -> AsyncIOScheduler:
    """Jobs live in the in-memory job store: they are rebuilt at every start, never pickled."""
    scheduler = AsyncIOScheduler()
    scheduler.add_job(
        reminders.run_once,
        "interval",
        seconds=settings.reminders.check_interval_seconds,
        id="reminders",
        max_instances=1,
        coalesce=True,
        # At start too: reminders that fell due while the bot was down go out now.
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        refresh_slots,
        "cron",
        hour=settings.booking.slot_generation_hour,
        kwargs={"db": db, "settings": settings, "clock": clock},
        id="refresh_slots",
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.add_job(
        pass_on_held,
        "interval",
        seconds=WAITLIST_CHECK_SECONDS,
        kwargs={
            "db": db,
            "bot": bot,
            "outbox": dp["outbox"],
            "clock": clock,
            "hold": settings.waitlist.hold,
        },
        id="waitlist",
        max_instances=1,
        coalesce=True,
        # At start too: a hold that ran out while the bot was down passes on now.
        next_run_time=datetime.now(UTC),
    )
    storage = dp.storage
    scheduler.add_job(
        purge_stale,
        "interval",
        minutes=max(1.0, settings.booking.session_timeout_minutes / 2),
        kwargs={"db": db, "storage": storage, "settings": settings, "clock": clock},
        id="purge_stale",
        coalesce=True,
    )
    return scheduler


def reminder_dispatcher(
    db: Database, dp: Dispatcher, bot: Bot, *, settings: Settings, clock: Clock
) -> ReminderDispatcher:
    """The reminders' sender, on the dispatcher's shared sending budget and instance lease."""
    return ReminderDispatcher(
        db=db,
        bot=bot,
        clock=clock,
        settings=settings.reminders,
        limiter=dp["limiter"],
        lease=settings.instances.lease,
        move_cutoff=settings.booking.change_cutoff,
    )


@dataclass(frozen=True, slots=True)
class RunningBot:
    db: Database
    dp: Dispatcher
    bot: Bot


@asynccontextmanager
async def running_bot(settings: Settings, *, clock: Clock) -> AsyncIterator[RunningBot]:
    """Everything but the way updates arrive: the database (migrated), the dispatcher, the
    reminder and outbox dispatchers (taking back what a killed process left), the periodic
    jobs and the background slot refresh; stopped in order at the end."""
    check_agreement(settings)
    async with open_database(settings) as db:
        await prepare_data(db, settings=settings, clock=clock)
        dp = create_dispatcher(db, settings=settings, clock=clock)
        bot = create_bot(settings)
        # Alive before claiming anything: other instances leave this one's claims alone.
        heartbeat = Heartbeat(db, every=settings.instances.heartbeat_seconds)
        await heartbeat.start()
        reminders = reminder_dispatcher(db, dp, bot, settings=settings, clock=clock)
        await reminders.recover()
        outbox: Outbox = dp["outbox"]
        await outbox.recover()
        owed = asyncio.create_task(outbox.run(bot), name="outbox")
        scheduler = create_scheduler(
            db, dp, settings=settings, clock=clock, reminders=reminders, bot=bot
        )
        scheduler.start()
        # Everybody's slots brought up to date in the background: the bot answers meanwhile
        # (prepare_data has already filled any doctor who had no future slot at all).
        refresh = start_slot_refresh(db, settings=settings, clock=clock)
        try:
            await register_commands(bot)
            yield RunningBot(db=db, dp=dp, bot=bot)
        finally:
            await refresh.stop()
            scheduler.shutdown(wait=False)
            owed.cancel()
            await outbox.drain()
            await reminders.drain()
            await heartbeat.stop()
            await bot.session.close()


async def run_polling(settings: Settings, *, clock: Clock | None = None) -> None:
    async with running_bot(settings, clock=clock or SystemClock()) as running:
        # Never confirms an update before it is handled: a crash loses none of them.
        await poll(
            running.dp,
            running.bot,
            polling_timeout=settings.telegram.polling_timeout,
            close_bot_session=False,
        )


async def run_webhook(settings: Settings, *, clock: Clock | None = None) -> None:
    """One of several instances behind a reverse proxy: Telegram posts updates to it."""
    from bot.webhook import serve_webhook

    async with running_bot(settings, clock=clock or SystemClock()) as running:
        await serve_webhook(running.dp, running.bot, db=running.db, settings=settings.webhook)
