"""Telegram's sending limits shared in Redis by every instance of the bot.

The same reservation as RateLimiter (bot/delivery/limiter.py), done by Lua scripts so each
one is atomic across instances: a sorted set of reserved send moments (any two at least
1/per_second apart, so no window-edge bursts), a per-chat key with the chat's next allowed
moment, and a key with the end of the pause after a 429. All moments are Redis's own TIME
in integer microseconds, so instances with skewed clocks agree; an instance only ever sees
relative waits. Every key expires soon after its last moment, so nothing accumulates.

Left to the margin between settings.reminders.per_second (25) and Telegram's ~30/s: the
moments are exact on the Redis server, but each instance sends a little after its reply
arrives, and that network and event-loop delay differs between instances (most, tens of
ms, in a burst of senders that first opens many connections).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.delivery.limiter import LimiterUnavailable as LimiterUnavailable

if TYPE_CHECKING:
    from bot.delivery.limiter import Limiter

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "talon:limit:"

# Lua 5.1 would print a 16-digit microsecond moment as 1.7e+15 (and Redis converts numbers
# passed to redis.call the same way), so every moment written is formatted with %d.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function int(x) return string.format('%d', x) end
"""

# KEYS: moments (sorted set), the chat's next moment, the pause's end.
# ARGV: spacing, per-chat interval (µs). Returns the wait in µs.
_RESERVE = (
    _NOW
    + """
local spacing, per_chat = tonumber(ARGV[1]), tonumber(ARGV[2])
local at = math.max(now, tonumber(redis.call('GET', KEYS[3]) or '0'),
                    tonumber(redis.call('GET', KEYS[2]) or '0'))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. int(now - spacing))
-- The first gap of `spacing` on both sides at or after `at`: a chat waiting for its own
-- spacing does not hold the others up, their messages take the free moments before it.
for _, taken in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. int(at - spacing), '+inf')) do
  taken = tonumber(taken)
  if taken >= at + spacing then break end
  at = math.max(at, taken + spacing)
end
redis.call('ZADD', KEYS[1], int(at), int(at))
local last = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1)[1])
redis.call('PEXPIRE', KEYS[1], math.ceil((last - now + spacing) / 1000) + 1000)
if per_chat > 0 then
  local next = at + per_chat
  redis.call('SET', KEYS[2], int(next), 'PX', math.ceil((next - now) / 1000) + 1000)
end
return at - now
"""
)

# KEYS: the pause's end. ARGV: the pause (µs). A shorter pause never shortens a longer one.
_PAUSE = (
    _NOW
    + """
local ends = now + tonumber(ARGV[1])
if ends > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], int(ends), 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 0
"""
)

# KEYS: the pause's end. Returns what is left of it in µs (0: no pause).
_PAUSE_LEFT = (
    _NOW
    + """
return math.max(0, tonumber(redis.call('GET', KEYS[1]) or '0') - now)
"""
)


@contextmanager
def _reachable() -> Iterator[None]:
    """Redis failing inside the block becomes LimiterUnavailable."""
    try:
        yield
    except (RedisError, OSError) as error:
        raise LimiterUnavailable(
            f"the shared rate limit in Redis is unreachable ({type(error).__name__}); "
            "not sending without it"
        ) from error


def _micros(seconds: float) -> int:
    return math.ceil(seconds * 1_000_000)


class RedisRateLimiter:
    """RateLimiter's budget (a global ceiling, per-chat spacing, 429 pauses) for all instances.

    `redis` is the caller's client (it may be the one aiogram's RedisStorage uses); its own
    timeouts and retries decide how soon an unreachable Redis becomes LimiterUnavailable.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        per_second: float,
        per_chat_interval: float = 1.0,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        if per_chat_interval < 0:
            raise ValueError("per_chat_interval must not be negative")
        # Rounded up: a spacing a microsecond too long, never a rate a little too high.
        self._spacing = _micros(1.0 / per_second)
        self._per_chat = _micros(per_chat_interval)
        self._prefix = prefix
        self._redis = redis
        self._loaded = False
        self._loading = asyncio.Lock()
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)
        self._pause_left = redis.register_script(_PAUSE_LEFT)
        self._writes: set[asyncio.Task[None]] = set()

    async def reserve(self, chat_id: int) -> float:
        """Book the earliest allowed moment for a message to `chat_id`; return the wait."""
        await self._written()
        await self._load_scripts()
        keys = [self._key("moments"), self._key(f"chat:{chat_id}"), self._key("pause")]
        return await self._call(self._reserve(keys=keys, args=[self._spacing, self._per_chat]))

    async def _load_scripts(self) -> None:
        """Load the scripts once, before the first burst of reservations.

        Otherwise each of the first concurrent senders runs EVALSHA, NOSCRIPT, EVAL in turn;
        the replies to the earliest come back behind all that traffic, so they would start
        their waits late and go out bunched with the next ones. (Should Redis restart and
        forget them, redis-py still falls back to EVAL.)
        """
        if self._loaded:
            return
        async with self._loading:
            if not self._loaded:
                with _reachable():
                    for script in (_RESERVE, _PAUSE, _PAUSE_LEFT):
                        await self._redis.script_load(script)
                self._loaded = True

    async def acquire(self, chat_id: int) -> None:
        """Wait for a moment to send to `chat_id`; LimiterUnavailable if Redis is unreachable.

        Raising rather than sending unpaced: the senders treat it as any failed attempt and
        try again later, while sending blind from several instances would earn 429s for all.
        A sender cancelled in its wait leaves its moment unused, which only costs a slot.
        """
        while True:
            delay = await self.reserve(chat_id)
            if delay <= 0:
                # The reservation saw the pause itself, in the same atomic step.
                return
            await asyncio.sleep(delay)
            # A 429 on any instance while this sender slept moves it behind the pause.
            if await self._paused_for() <= 0:
                return

    def back_off(self, seconds: float) -> None:
        """Telegram said 429: nobody, on any instance, sends for `seconds`.

        Synchronous like RateLimiter.back_off, so the write is a task; this instance's next
        reserve waits for it, so its own retry cannot slip in before the pause lands.
        """
        task = asyncio.get_running_loop().create_task(self._write_pause(seconds))
        self._writes.add(task)
        task.add_done_callback(self._forget_write)

    async def flush(self) -> None:
        """Wait until the pauses asked for so far are in Redis (or failed, and were logged)."""
        await self._written()

    async def _write_pause(self, seconds: float) -> None:
        await self._call(self._pause(keys=[self._key("pause")], args=[_micros(seconds)]))

    def _forget_write(self, task: asyncio.Task[None]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The other instances will earn their own 429 and pause then; this one's next
            # acquire raises, as Redis is most likely unreachable.
            logger.error("the 429 pause could not be shared: %s", task.exception())

    async def _written(self) -> None:
        if self._writes:
            # asyncio.wait, not gather: a cancelled sender must not cancel the shared write.
            await asyncio.wait(set(self._writes))

    async def _paused_for(self) -> float:
        return await self._call(self._pause_left(keys=[self._key("pause")]))

    async def _call(self, script: Awaitable[Any]) -> float:
        """Await a script returning microseconds, in seconds."""
        with _reachable():
            return int(await script) / 1_000_000

    def _key(self, name: str) -> str:
        return f"{self._prefix}{name}"


if TYPE_CHECKING:

    def _is_a_limiter(limiter: RedisRateLimiter) -> Limiter:
        """mypy checks here that the senders can take either limiter."""
        return limiter
