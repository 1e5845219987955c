"""aiogram FSM storage in the bot's own database, so dialogues survive a restart.

Within an update the record lives in the update's unit (bot/unit.py): read once (usually
with the account's other facts, bot/services/account_facts.py), changed in memory, and
written by `flush` in the update's own transaction at its end. Outside an update (jobs,
scripts) each call is its own short transaction.

Idle dialogues expire like RedisStorage's state_ttl: a record untouched for longer than
`ttl` reads as empty, and `purge_expired` deletes such records (they may hold the
identity numbers a patient typed, which must not linger).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.account_facts import StoredDialogue
from bot.services.clock import Clock
from bot.unit import CachedDialogue, UpdateUnit, current_unit
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

    def _live(self, stored: StoredDialogue | None) -> CachedDialogue:
        if stored is None:
            return CachedDialogue(state=None, data={}, stored=False)
        if stored.updated_at <= self._clock.now() - self._ttl:
            return CachedDialogue(state=None, data={}, stored=True)
        return CachedDialogue(state=stored.state, data=dict(stored.data), stored=True)

    def seed(self, unit: UpdateUnit, key: StorageKey, stored: StoredDialogue | None) -> None:
        """The update's record, read along with the account's facts."""
        unit.dialogues[storage_key_id(key)] = self._live(stored)

    async def _cached(self, unit: UpdateUnit, key: StorageKey) -> CachedDialogue:
        key_id = storage_key_id(key)
        cached = unit.dialogues.get(key_id)
        if cached is None:
            # Another account's dialogue (rare): read it in the update's session.
            cached = self._live(await _load(unit.session, key_id))
            unit.dialogues[key_id] = cached
        return cached

    async def _get(self, key: StorageKey) -> CachedDialogue:
        unit = current_unit()
        if unit is not None:
            return await self._cached(unit, key)
        async with self._sessions() as session:
            return self._live(await _load(session, storage_key_id(key)))

    async def _set(self, key: StorageKey, *, state: str | None, data: dict[str, Any]) -> None:
        unit = current_unit()
        if unit is not None:
            cached = await self._cached(unit, key)
            cached.state, cached.data, cached.dirty = state, data, True
            return
        async with self._sessions() as session:
            await _save(session, storage_key_id(key), state, data, now=self._clock.now())
            await session.commit()

    async def flush(self, unit: UpdateUnit) -> bool:
        """Write the update's changed dialogue records in its session (not committed); True
        if anything was written."""
        now = self._clock.now()
        wrote = False
        for key_id, cached in unit.dialogues.items():
            if not cached.dirty:
                continue
            cached.dirty = False
            if cached.state is None and not cached.data and not cached.stored:
                continue  # nothing stored, nothing to store
            await _save(unit.session, key_id, cached.state, cached.data, now=now)
            cached.stored = bool(cached.state is not None or cached.data)
            wrote = True
        return wrote

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._set(key, state=value, data=(await self._get(key)).data)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._get(key)).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._set(key, state=(await self._get(key)).state, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict((await self._get(key)).data)

    async def purge_expired(self) -> int:
        async with self._sessions() as session:
            result = await session.execute(
                delete(FsmRecord).where(FsmRecord.updated_at <= self._clock.now() - self._ttl)
            )
            await session.commit()
            return int(getattr(result, "rowcount", 0) or 0)

    async def close(self) -> None:
        pass


async def _load(session: AsyncSession, key_id: str) -> StoredDialogue | None:
    record = await session.get(FsmRecord, key_id)
    if record is None:
        return None
    return StoredDialogue(state=record.state, data=dict(record.data), updated_at=record.updated_at)


def _upsert_statement(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(FsmRecord).values(
        key=bindparam("key"),
        state=bindparam("state"),
        data=bindparam("data", type_=FsmRecord.data.type),
        updated_at=bindparam("updated_at", type_=FsmRecord.updated_at.type),
    )
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[FsmRecord.key],
        set_={"state": excluded.state, "data": excluded.data, "updated_at": excluded.updated_at},
    )


# Built once per dialect, with bound parameters (one runs at the end of every update; building
# it anew each time cost about as much as running it).
_UPSERTS = {dialect: _upsert_statement(dialect) for dialect in ("sqlite", "postgresql")}
_DELETE = delete(FsmRecord).where(FsmRecord.key == bindparam("key"))


async def _save(
    session: AsyncSession, key_id: str, state: str | None, data: dict[str, Any], *, now: datetime
) -> None:
    """One statement: the record replaced, or deleted when the dialogue is over.

    An upsert rather than "update if it existed": the purge job may have deleted an expired
    record between this update's read and its write.
    """
    if state is None and not data:
        await session.execute(_DELETE, {"key": key_id})
        return
    dialect = session.get_bind().dialect.name
    await session.execute(
        _UPSERTS[dialect], {"key": key_id, "state": state, "data": data, "updated_at": now}
    )
