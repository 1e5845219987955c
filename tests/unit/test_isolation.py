from __future__ import annotations

import asyncio

from aiogram.fsm.storage.base import StorageKey

from bot.isolation import KeyedLocks


def key(user: int) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=user, user_id=user)


async def test_one_update_of_an_account_at_a_time_and_no_lock_left_behind() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    first_inside = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with locks.lock(key(1)):
            order.append("first in")
            first_inside.set()
            await release_first.wait()
            order.append("first out")

    async def second() -> None:
        await first_inside.wait()
        async with locks.lock(key(1)):
            order.append("second in")

    async def other_account() -> None:
        await first_inside.wait()
        async with locks.lock(key(2)):
            order.append("other in")
        release_first.set()

    await asyncio.gather(first(), second(), other_account())
    # The other account was not held up by the first; the same account waited its turn.
    assert order == ["first in", "other in", "first out", "second in"]
    assert len(locks) == 0


async def test_memory_does_not_grow_with_accounts() -> None:
    locks = KeyedLocks()
    for user in range(10_000):
        async with locks.lock(key(user)):
            pass
    assert len(locks) == 0


async def test_an_error_inside_releases_the_lock() -> None:
    locks = KeyedLocks()
    try:
        async with locks.lock(key(1)):
            raise RuntimeError("handler failed")
    except RuntimeError:
        pass
    assert len(locks) == 0
    async with asyncio.timeout(1), locks.lock(key(1)):
        pass
