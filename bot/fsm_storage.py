"""aiogram FSM storage in the bot's own database, so dialogues survive a restart.

Idle dialogues expire like RedisStorage's state_ttl: a record untouched for longer than
`ttl` reads as empty, and `purge_expired` deletes such records (they may hold the
identity numbers a patient typed, which must not linger).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.clock import Clock
from db.models import FsmRecord


def storage_key_id(key: StorageKey) -> str:
    return ":".join(
        str(part) if part is not None else ""
        for part in (
            key.bot_id,
            key.chat_id,
            key.user_id,
            key.thread_id,
            key.business_connection_id,
            key.destiny,
        )
    )


class SqlAlchemyStorage(BaseStorage):
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], *, ttl: timedelta, clock: Clock
    ) -> None:
        self._sessions = session_factory
        self._ttl = ttl
        self._clock = clock

    def _live(self, record: FsmRecord | None, now: datetime) -> FsmRecord | None:
        if record is None or record.updated_at <= now - self._ttl:
            return None
        return record

    async def _write(
        self,
        key: StorageKey,
        change: Callable[[str | None, dict[str, Any]], tuple[str | None, dict[str, Any]]],
    ) -> None:
        now = self._clock.now()
        async with self._sessions() as session:
            record = await session.get(FsmRecord, storage_key_id(key))
            live = self._live(record, now)
            state, data = change(live.state if live else None, dict(live.data) if live else {})
            if state is None and not data:
                if record is not None:
                    await session.delete(record)
            elif record is None:
                session.add(
                    FsmRecord(key=storage_key_id(key), state=state, data=data, updated_at=now)
                )
            else:
                record.state = state
                record.data = data
                record.updated_at = now
            await session.commit()

    async def _read(self, key: StorageKey) -> FsmRecord | None:
        async with self._sessions() as session:
            return self._live(await session.get(FsmRecord, storage_key_id(key)), self._clock.now())

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, lambda _state, data: (value, data))

    async def get_state(self, key: StorageKey) -> str | None:
        record = await self._read(key)
        return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        new_data = dict(data)
        await self._write(key, lambda state, _data: (state, new_data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = await self._read(key)
        return dict(record.data) if record else {}

    async def purge_expired(self) -> int:
        async with self._sessions() as session:
            result = await session.execute(
                delete(FsmRecord).where(FsmRecord.updated_at <= self._clock.now() - self._ttl)
            )
            await session.commit()
            return int(getattr(result, "rowcount", 0) or 0)

    async def close(self) -> None:
        pass
