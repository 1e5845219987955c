"""Progress of long command-line work: `python -m bot import` and `python -m bot slots` on a
region's registry (1,000 doctors, 2.4 M slots) run for minutes.

`reporter(label)` gives the callback that slot generation calls with (doctors done, doctors
total) (bot/services/slots/generation.py `generate_slots`, and `import_data` passes it on):

* on a terminal (stderr is one), a progress bar (tqdm) on stderr;
* otherwise (a service's journal, a pipe, CI), a log line every `interval` seconds,
  «слоты: 350 из 1000 врачей», and one when the work is done.

    with reporter("слоты") as progress:
        await generate_slots(session, now=now, horizon_days=horizon, progress=progress)
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

__all__ = ["LOG_INTERVAL", "Progress", "reporter"]

logger = logging.getLogger(__name__)

# (done, total), called as the work goes: a rising count, the last call with the total.
Progress = Callable[[int, int], None]
# Seconds between two log lines when there is no terminal to draw a bar on.
LOG_INTERVAL: Final = 10.0


@contextmanager
def reporter(
    label: str, *, interval: float = LOG_INTERVAL, clock: Callable[[], float] = time.monotonic
) -> Iterator[Progress]:
    """The progress callback for the work done inside the block (see the module's docstring);
    the bar is closed when the block ends, however it ends."""
    if sys.stderr.isatty():
        bar = _Bar(label)
        try:
            yield bar
        finally:
            bar.close()
    else:
        yield _LogLines(label, interval=interval, clock=clock)


class _Bar:
    """A tqdm bar, drawn from the first call on (the total is known only then)."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            # Lazy: only a terminal run draws a bar.
            from tqdm import tqdm  # type: ignore[import-untyped]

            # A terminal that tells no size (a pseudo-terminal of 0×0) would hide the bar.
            size: dict[str, Any] = (
                {"dynamic_ncols": True} if _tells_its_size() else {"ncols": 80, "nrows": 24}
            )
            self._bar = tqdm(total=total, desc=self._label, unit=" врачей", file=sys.stderr, **size)
        if self._bar.total != total:
            self._bar.total = total
            self._bar.refresh()
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _tells_its_size() -> bool:
    """Whether stderr's terminal reports its columns and lines."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    return size.columns > 0 and size.lines > 0


class _LogLines:
    """A log line at most every `interval` seconds, and one when the total is reached."""

    def __init__(self, label: str, *, interval: float, clock: Callable[[], float]) -> None:
        self._label = label
        self._interval = interval
        self._clock = clock
        self._last = clock()
        self._finished = False

    def __call__(self, done: int, total: int) -> None:
        now = self._clock()
        finished = done >= total
        if finished:
            if self._finished:
                return
            self._finished = True
        elif now - self._last < self._interval:
            return
        self._last = now
        logger.info("%s: %d из %d врачей", self._label, done, total)
