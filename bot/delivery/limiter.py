"""Telegram's sending limits: a global ceiling and about one message per second per chat."""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable


class RateLimiter:
    """Reserves send moments on the monotonic clock, so concurrent senders share one budget.

    Any two reserved moments are at least 1/per_second apart, so the ceiling holds however
    the senders interleave; a chat that must wait for its own spacing does not hold up the
    others, whose messages take the free moments before it. Business time (the injectable
    Clock) is not used here: pacing is about real seconds.
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
        self._reserved: list[float] = []  # sorted
        self._next_by_chat: dict[int, float] = {}
        self._paused_until = 0.0

    def reserve(self, chat_id: int) -> float:
        """Book the earliest allowed moment for a message to `chat_id`; return the wait."""
        now = self._monotonic()
        self._forget_before(now - self._spacing)
        at = max(now, self._paused_until, self._next_by_chat.get(chat_id, 0.0))
        index = bisect.bisect_left(self._reserved, at - self._spacing)
        while index < len(self._reserved) and self._reserved[index] < at + self._spacing:
            at = max(at, self._reserved[index] + self._spacing)
            index += 1
        bisect.insort(self._reserved, at)
        self._next_by_chat[chat_id] = at + self._per_chat
        return at - now

    def _forget_before(self, moment: float) -> None:
        drop = bisect.bisect_left(self._reserved, moment)
        if drop:
            del self._reserved[:drop]
        if len(self._next_by_chat) > 10_000:
            self._next_by_chat = {c: t for c, t in self._next_by_chat.items() if t > moment}

    async def acquire(self, chat_id: int) -> None:
        while True:
            delay = self.reserve(chat_id)
            if delay > 0:
                await asyncio.sleep(delay)
            # A 429 that arrived while this sender slept moves everyone behind the pause.
            if self._monotonic() >= self._paused_until:
                return

    def back_off(self, seconds: float) -> None:
        """Telegram said 429: nobody sends for `seconds`."""
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)
