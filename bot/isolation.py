"""One update of an account at a time, within this process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey


class KeyedLocks(BaseEventIsolation):
    """One update of an account at a time, in this process.

    aiogram's SimpleEventIsolation keeps a lock for every account it has ever seen; these
    locks go away when nobody holds or waits for them, so memory does not grow with the
    number of patients. Quick double taps or fast typing still never interleave their reads
    and writes of the dialogue state.
    """

    def __init__(self) -> None:
        self._locks: dict[StorageKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)

    async def close(self) -> None:
        self._locks.clear()
