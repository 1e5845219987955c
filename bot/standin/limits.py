"""Telegram's limits, and the refusals a bot meets in production: users who blocked it (403),
flood control (429 with retry_after) and failures a test injects with ``fail_next``."""

from __future__ import annotations

import math
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from .errors import ApiError
from .spec import load_spec

__all__ = [
    "COMMAND_RE",
    "MAX_BUTTONS",
    "MAX_BUTTONS_PER_ROW",
    "MAX_CALLBACK_ANSWER",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION",
    "MAX_COMMANDS",
    "MAX_COMMAND_DESCRIPTION",
    "MAX_DELETE_BATCH",
    "MAX_DESCRIPTION",
    "MAX_DOWNLOAD",
    "MAX_SHORT_DESCRIPTION",
    "MAX_TEXT",
    "MAX_UPLOAD",
    "Faults",
    "Gate",
    "TokenBucket",
]

# Lengths of texts in UTF-16 code units, as Telegram counts them.
MAX_TEXT = 4096
MAX_CAPTION = 1024
# answerCallbackQuery's text, in characters.
MAX_CALLBACK_ANSWER = 200
MAX_CALLBACK_DATA_BYTES = 64
MAX_BUTTONS_PER_ROW = 8
MAX_BUTTONS = 100
MAX_UPLOAD = 50 * 1024 * 1024
# getFile refuses larger files: bots can download up to 20 MB.
MAX_DOWNLOAD = 20 * 1024 * 1024
MAX_DELETE_BATCH = 100
MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION = 256
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


class TokenBucket:
    """Flood control: ``rate`` requests per second per key, bursts up to max(rate, 1)."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._capacity = max(1.0, rate)
        self._state: dict[object, tuple[float, float]] = {}

    def take(self, key: object) -> int | None:
        """Spend one request; if none is left, return the seconds to wait instead."""
        now = time.monotonic()
        tokens, last = self._state.get(key, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - last) * self._rate)
        if tokens < 1:
            self._state[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self._rate))
        self._state[key] = (tokens - 1, now)
        return None


class Gate:
    """What Telegram checks before it delivers a message the bot sends or edits: that the user
    has not blocked the bot, and that the bot keeps within flood control (off unless a rate is
    given)."""

    def __init__(self, *, per_chat_rate: float | None, global_rate: float | None) -> None:
        self._blocked: set[int] = set()
        self._chat_limit = TokenBucket(per_chat_rate) if per_chat_rate else None
        self._global_limit = TokenBucket(global_rate) if global_rate else None

    def block(self, user_id: int) -> None:
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def admit(self, user_id: int, *, rate_limited: bool) -> None:
        """Raise 403 if the user blocked the bot, or 429 if this request is over the rate."""
        if user_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user", violation=False)
        if not rate_limited:
            return
        # The global bucket is checked first, so a request refused per chat has still spent a
        # global token.
        for bucket, key in ((self._global_limit, None), (self._chat_limit, user_id)):
            retry_after = bucket.take(key) if bucket is not None else None
            if retry_after is not None:
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    retry_after=retry_after,
                    violation=False,
                )


@dataclass(frozen=True, slots=True)
class _InjectedFailure:
    error_code: int
    description: str
    retry_after: int | None


class Faults:
    """Failures a test asked for, answered instead of the next valid calls of a method."""

    def __init__(self) -> None:
        # By lower-cased method name: Telegram's method names are case-insensitive.
        self._queued: dict[str, deque[_InjectedFailure]] = defaultdict(deque)

    def fail_next(
        self, method: str, *, error_code: int, description: str, retry_after: int | None, count: int
    ) -> None:
        if load_spec().method(method) is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        if count < 1:
            raise ValueError("count must be positive")
        failure = _InjectedFailure(error_code, description, retry_after)
        self._queued[method.lower()].extend([failure] * count)

    def raise_next(self, method: str) -> None:
        """Raise the failure queued for this call of ``method``, if any."""
        queued = self._queued.get(method.lower())
        if queued:
            failure = queued.popleft()
            raise ApiError(
                failure.error_code,
                failure.description,
                retry_after=failure.retry_after,
                violation=False,
            )
