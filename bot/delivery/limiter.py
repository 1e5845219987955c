"""Telegram's sending limits: a global ceiling and about one message per second per chat."""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable
from typing import Protocol


class LimiterUnavailable(RuntimeError):
    """The shared limit (bot/delivery/shared_limiter.py) could not be read: nothing may be
    sent without it. Here, so that the senders need not import Redis to catch it."""


class Limiter(Protocol):
    """What the senders need: this process's RateLimiter or the instances' shared one.

    back_off stays synchronous (the shared limiter writes the pause in a task) so the call
    sites in `except TelegramRetryAfter` need no await and work with either.
    """

    async def acquire(self, chat_id: int) -> None:
        """Wait until a message to `chat_id` may be sent."""

    def back_off(self, seconds: float) -> None:
        """Telegram said 429: nobody sends for `seconds`."""


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


def _is_a_limiter(limiter: RateLimiter) -> Limiter:
    """mypy checks here that RateLimiter keeps the interface the senders use."""
    return limiter
