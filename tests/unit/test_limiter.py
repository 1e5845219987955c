from __future__ import annotations

import itertools

import pytest

from bot.delivery.limiter import RateLimiter


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_global_ceiling_spaces_messages_evenly() -> None:
    clock = FakeMonotonic()
    limiter = RateLimiter(per_second=25, monotonic=clock)
    waits = [limiter.reserve(chat) for chat in range(50)]
    assert waits[0] == 0
    assert waits[-1] == pytest.approx(49 / 25)


def test_one_chat_gets_about_one_message_per_second() -> None:
    clock = FakeMonotonic()
    limiter = RateLimiter(per_second=25, monotonic=clock)
    assert limiter.reserve(1) == 0
    assert limiter.reserve(1) == pytest.approx(1.0)
    # Another chat is not held up by the first one's spacing: it takes the next free moment.
    assert limiter.reserve(2) == pytest.approx(1 / 25)


def test_any_two_moments_respect_the_ceiling() -> None:
    clock = FakeMonotonic()
    limiter = RateLimiter(per_second=10, monotonic=clock)
    moments = sorted(clock.now + limiter.reserve(chat % 3) for chat in range(30))
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    assert min(gaps) >= 0.1 - 1e-9


def test_back_off_pauses_everyone() -> None:
    clock = FakeMonotonic()
    limiter = RateLimiter(per_second=25, monotonic=clock)
    limiter.back_off(5)
    assert limiter.reserve(7) == pytest.approx(5)
    clock.now += 10
    assert limiter.reserve(8) == 0


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(per_second=0)


async def test_a_pause_reaches_senders_already_waiting() -> None:
    limiter = RateLimiter(per_second=1000, per_chat_interval=0)
    limiter.back_off(0.05)
    await limiter.acquire(1)
    assert limiter.reserve(2) == pytest.approx(0, abs=0.01)
