"""The update's unit of work (bot/unit.py) with a real Dispatcher and a real SQLite file.

Handlers here are test handlers on purpose: what is tested is the middleware's contract
(the dialogue written at the end in the update's transaction, nothing of a failed update
kept, one update of an account at a time), not any of the bot's own handlers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Chat, Message, Update, User
from sqlalchemy import select

from bot.delivery.limiter import RateLimiter
from bot.delivery.outbox import Outbox
from bot.fsm_storage import SqlAlchemyStorage
from bot.isolation import KeyedLocks
from bot.middlewares import UnitOfWork
from bot.services.clock import ManualClock
from db.engine import Database, open_database
from db.models import FsmRecord, HandledUpdate
from tests import databases

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
TOKEN = "42:TEST-token"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(await databases.database_url(tmp_path / "u.sqlite3")) as database:
        yield database


def dispatcher(db: Database, router: Router) -> Dispatcher:
    clock = ManualClock(NOW)
    storage = SqlAlchemyStorage(db.sessions, ttl=timedelta(minutes=30), clock=clock)
    dp = Dispatcher(storage=storage, clock=clock)
    dp.update.outer_middleware.unregister(dp.fsm)
    outbox = Outbox(
        db=db, clock=clock, limiter=RateLimiter(per_second=30), lease=timedelta(seconds=30)
    )
    dp.update.outer_middleware(
        UnitOfWork(db.sessions, storage=storage, isolation=KeyedLocks(), fsm=dp.fsm, outbox=outbox)
    )
    dp.update.outer_middleware(dp.fsm)
    dp.include_router(router)
    return dp


def message(update_id: int, text: str, user_id: int = 501) -> Update:
    user = User(id=user_id, is_bot=False, first_name="Пётр", language_code="ru")
    return Update(
        update_id=update_id,
        message=Message(
            message_id=update_id,
            date=NOW,
            chat=Chat(id=user_id, type="private"),
            from_user=user,
            text=text,
        ),
    )


async def records(db: Database) -> list[tuple[str | None, dict[str, object]]]:
    async with db.sessions() as session:
        rows = await session.execute(select(FsmRecord.state, FsmRecord.data))
        return [(state, data) for state, data in rows]


async def test_the_dialogue_is_written_at_the_end_and_a_failed_update_keeps_nothing(
    db: Database,
) -> None:
    router = Router()

    @router.message()
    async def on_message(message: Message, state: FSMContext) -> None:
        await state.update_data(step=message.text)
        await state.set_state("Flow:step")
        if message.text == "boom":
            raise RuntimeError("the handler failed after writing the dialogue")

    dp = dispatcher(db, router)
    bot = Bot(TOKEN)
    try:
        await dp.feed_update(bot, message(1, "first"))
        assert await records(db) == [("Flow:step", {"step": "first"})]
        with pytest.raises(RuntimeError):
            await dp.feed_update(bot, message(2, "boom"))
        # Rolled back with the update: the record is as the last good update left it.
        assert await records(db) == [("Flow:step", {"step": "first"})]
    finally:
        await bot.session.close()


async def test_the_next_update_of_an_account_reads_what_the_previous_one_wrote(
    db: Database,
) -> None:
    router = Router()
    seen: list[object] = []
    first_inside = asyncio.Event()
    release = asyncio.Event()

    @router.message()
    async def on_message(message: Message, state: FSMContext) -> None:
        data = await state.get_data()
        seen.append(data.get("count", 0))
        if message.text == "slow":
            first_inside.set()
            await release.wait()
        await state.update_data(count=int(data.get("count", 0)) + 1)

    dp = dispatcher(db, router)
    bot = Bot(TOKEN)
    try:
        slow = asyncio.create_task(dp.feed_update(bot, message(1, "slow")))
        await first_inside.wait()
        quick = asyncio.create_task(dp.feed_update(bot, message(2, "quick")))
        # Another account is not held up meanwhile.
        await dp.feed_update(bot, message(3, "other", user_id=777))
        assert not quick.done()
        release.set()
        await asyncio.gather(slow, quick)
        # The quick one waited for the slow one's commit, so it counted on from 1.
        assert seen == [0, 0, 1]
        assert sorted(data["count"] for _, data in await records(db)) == [1, 2]  # type: ignore[type-var]
    finally:
        await bot.session.close()


async def test_a_redelivered_update_is_not_applied_twice(db: Database) -> None:
    """A poll after a crash, or a webhook retry, brings an update whose effects are committed:
    it is recognised by its id and skipped; one that wrote nothing runs again, harmlessly."""
    router = Router()
    ran: list[str] = []

    @router.message()
    async def on_message(message: Message, state: FSMContext) -> None:
        ran.append(message.text or "")
        if message.text != "look":  # "look" only reads
            await state.update_data(count=len(ran))

    dp = dispatcher(db, router)
    bot = Bot(TOKEN)
    try:
        await dp.feed_update(bot, message(10, "write"))
        await dp.feed_update(bot, message(10, "write"))
        await dp.feed_update(bot, message(11, "look"))
        await dp.feed_update(bot, message(11, "look"))
        assert ran == ["write", "look", "look"]
        assert await records(db) == [(None, {"count": 1})]
        async with db.sessions() as session:
            handled = (await session.scalars(select(HandledUpdate.update_id))).all()
        assert handled == [10]
    finally:
        await bot.session.close()
