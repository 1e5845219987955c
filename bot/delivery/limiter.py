"""Telegram's sending limits: a global ceiling and about one message per second per chat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RateLimiter:
    """Reserves send moments on the monotonic clock, so concurrent senders share one budget.

    Business time (the injectable Clock) is not used here: pacing is about real seconds.
    """

    def __init__(
        self,
        *,
        per_second: float,
        per_chat_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self._spacing = 1.0 / per_second
        self._per_chat = per_chat_interval
        self._monotonic = monotonic
        self._next_global = 0.0
        self._next_by_chat: dict[int, float] = {}

    def reserve(self, chat_id: int) -> float:
        """Book the earliest allowed moment for a message to `chat_id`; return the wait."""
        now = self._monotonic()
        at = max(now, self._next_global, self._next_by_chat.get(chat_id, 0.0))
        self._next_global = at + self._spacing
        self._next_by_chat[chat_id] = at + self._per_chat
        if len(self._next_by_chat) > 10_000:
            self._next_by_chat = {c: t for c, t in self._next_by_chat.items() if t > now}
        return at - now

    async def acquire(self, chat_id: int) -> None:
        delay = self.reserve(chat_id)
        if delay > 0:
            await asyncio.sleep(delay)

    def back_off(self, seconds: float) -> None:
        """Telegram said 429: nobody sends for `seconds`."""
        self._next_global = max(self._next_global, self._monotonic() + seconds)
