"""Dialogue state and per-account locks in Redis, for several instances (`redis.url`).

aiogram's RedisStorage keeps each account's dialogue under a key that expires with the
dialogue's timeout (an idle dialogue, which may hold sealed identity values, vanishes by
itself); RedisEventIsolation is the account's lock across instances, held by the update's
unit of work (bot/middlewares.py) as the in-process lock is for one instance.

Unlike the SQL storage, a write reaches Redis at once, not with the update's commit: an
update that fails after moving its dialogue on leaves the dialogue moved (never a booking:
those are in the database). The writes are noted on the update's unit, so that the update is
recorded as handled when it changed the dialogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aiogram.fsm.storage.base import DefaultKeyBuilder, StateType, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import Redis

from bot.unit import current_unit

KEY_PREFIX = "talon:fsm"


class RedisDialogues(RedisStorage):
    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await super().set_state(key, state)
        _wrote()

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await super().set_data(key, data)
        _wrote()


def _wrote() -> None:
    unit = current_unit()
    if unit is not None:
        unit.wrote_elsewhere = True


def redis_state(url: str, *, ttl: timedelta) -> tuple[RedisDialogues, RedisEventIsolation]:
    """The storage and the isolation on one connection pool."""
    redis = Redis.from_url(url)
    keys = DefaultKeyBuilder(prefix=KEY_PREFIX, with_destiny=True)
    storage = RedisDialogues(redis, key_builder=keys, state_ttl=ttl, data_ttl=ttl)
    return storage, RedisEventIsolation(redis, key_builder=keys)
