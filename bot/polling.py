"""Long polling that never confirms an update before it is handled.

aiogram's ``Dispatcher.start_polling`` moves getUpdates' offset past every update as soon as
it is fetched, so Telegram forgets it (an update counts as confirmed once getUpdates is called
with a higher offset). A process killed while handling it loses it for good. ``poll`` keeps
the offset at the lowest update still being handled instead: after a crash Telegram delivers
again exactly the updates that were not finished (at least once; Talon deduplicates them).

Everything else follows ``start_polling`` for one bot: startup and shutdown events, the
workflow data, the used update types, backoff on network errors, signals, and
``dp.stop_polling()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

__all__ = ["DRAIN_TIMEOUT", "PINNED_POLL_INTERVAL", "poll"]

logger = logging.getLogger(__name__)

# While an update in flight pins the offset, Telegram still holds it (and everything after
# it) as pending, so every getUpdates returns at once, long poll or not. Asking again at most
# this often (or as soon as the pinning update finishes) bounds the requests to about 20 a
# second while new updates still arrive within a few tens of milliseconds.
PINNED_POLL_INTERVAL = 0.05

# How long a graceful stop waits for the updates in flight before giving up on them; those
# not finished by then stay unconfirmed and come again at the next start.
DRAIN_TIMEOUT = 10.0

# aiogram's own retry policy for getUpdates after a network or server error.
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)


@dataclass(slots=True)
class _Ledger:
    """The updates this process took from getUpdates and how far it got with them.

    Telegram returns updates in increasing update_id order, so every id below ``next_id``
    has been seen already: one taken again (an earlier one pins the offset) is skipped.
    """

    running: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    # Cancelled before they finished (only at shutdown): never to be confirmed.
    abandoned: set[int] = field(default_factory=set)
    next_id: int | None = None

    def is_new(self, update_id: int) -> bool:
        return self.next_id is None or update_id >= self.next_id

    def add(self, update_id: int, task: asyncio.Task[None]) -> None:
        self.running[update_id] = task
        self.next_id = update_id + 1

    def sweep(self) -> None:
        """Forget finished tasks; a cancelled one is unfinished, so it keeps pinning."""
        for update_id, task in list(self.running.items()):
            if task.done():
                del self.running[update_id]
                if task.cancelled():
                    self.abandoned.add(update_id)

    def offset(self) -> int | None:
        """The lowest update not finished, or the next one Telegram will send."""
        self.sweep()
        return min((*self.running, *self.abandoned), default=self.next_id)

    def pinning_task(self) -> asyncio.Task[None] | None:
        self.sweep()
        return self.running[min(self.running)] if self.running else None

    async def abandon_all(self) -> None:
        """Cancel what is still running (a stop or a crash): it stays unconfirmed."""
        tasks = list(self.running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.sweep()


@dataclass(frozen=True, slots=True)
class _Poller:
    """One polling run: the bot, what handlers get, and how to ask for updates."""

    dp: Dispatcher
    bot: Bot
    workflow: dict[str, Any]
    polling_timeout: int
    allowed_updates: list[str]
    backoff_config: BackoffConfig
    ledger: _Ledger = field(default_factory=_Ledger)


async def poll(
    dp: Dispatcher,
    bot: Bot,
    *,
    polling_timeout: int = 10,
    handle_signals: bool = True,
    close_bot_session: bool = True,
    allowed_updates: list[str] | None = None,
    drain_timeout: float = DRAIN_TIMEOUT,
    backoff_config: BackoffConfig = BACKOFF,
    **kwargs: Any,
) -> None:
    """Poll ``bot`` and feed ``dp`` until ``dp.stop_polling()`` (or SIGINT/SIGTERM).

    A drop-in for ``dp.start_polling(bot, ...)``: ``kwargs`` reach handlers as workflow data,
    and ``allowed_updates`` defaults to the update types dp's handlers use.
    """
    if "bot" in kwargs:
        raise ValueError("the bot is passed as the second argument, not as workflow data")
    # start_polling's lock and events: dp.stop_polling() only works through them.
    async with dp._running_lock:
        stop_signal, stopped_signal = _arm_stop_signals(dp)
        workflow = {"dispatcher": dp, "bots": (bot,), **dp.workflow_data, **kwargs}
        poller = _Poller(
            dp=dp,
            bot=bot,
            workflow=workflow,
            polling_timeout=polling_timeout,
            allowed_updates=(
                dp.resolve_used_update_types() if allowed_updates is None else allowed_updates
            ),
            backoff_config=backoff_config,
        )
        with _stop_on_signals(dp, enabled=handle_signals):
            await dp.emit_startup(bot=bot, **workflow)
            try:
                await _run(poller, stop_signal=stop_signal, drain_timeout=drain_timeout)
            finally:
                try:
                    await dp.emit_shutdown(bot=bot, **workflow)
                finally:
                    if close_bot_session:
                        await bot.session.close()
                    stopped_signal.set()


def _arm_stop_signals(dp: Dispatcher) -> tuple[asyncio.Event, asyncio.Event]:
    """The events stop_polling sets and waits on, as start_polling prepares them."""
    dp._stop_signal = dp._stop_signal or asyncio.Event()
    dp._stopped_signal = dp._stopped_signal or asyncio.Event()
    dp._stop_signal.clear()
    dp._stopped_signal.clear()
    return dp._stop_signal, dp._stopped_signal


@contextlib.contextmanager
def _stop_on_signals(dp: Dispatcher, *, enabled: bool) -> Iterator[None]:
    """SIGINT and SIGTERM stop gracefully, as with start_polling; a SIGKILL cannot, hence
    the unconfirmed offset."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT) if enabled else ()
    installed = []
    for sig in signals:
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, dp._signal_stop_polling, sig)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _run(poller: _Poller, *, stop_signal: asyncio.Event, drain_timeout: float) -> None:
    """Fetch until stopped, then let the updates in flight finish and confirm them.

    Cancelled from outside (as good as a crash), it confirms nothing: the updates in flight
    are cancelled and Telegram delivers them again at the next start.
    """
    user = await poller.bot.me()
    logger.info("polling for bot @%s id=%d", user.username, poller.bot.id)
    fetching = asyncio.create_task(_fetch_loop(poller))
    stopping = asyncio.create_task(stop_signal.wait())
    try:
        await asyncio.wait({fetching, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if fetching.done():
            fetching.result()  # it only ends by an unexpected error: let it out
        await _cancel(fetching)
        await _drain(poller.ledger, within=drain_timeout)
        await _confirm(poller.bot, offset=poller.ledger.offset())
    finally:
        await _cancel(stopping)
        await _cancel(fetching)
        await poller.ledger.abandon_all()
        logger.info("polling stopped for bot id=%d", poller.bot.id)


async def _cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _fetch_loop(poller: _Poller) -> None:
    backoff = Backoff(config=poller.backoff_config)
    while True:
        ledger = poller.ledger
        # Nothing in flight: a normal long poll. Pinned: Telegram answers at once anyway.
        # Pinned, it answers from the pinning update on, 100 at most: a slow update holds
        # back the ones more than 100 behind it until it finishes (a stuck one, until the
        # process stops).
        wait_seconds = 0 if ledger.pinning_task() else poller.polling_timeout
        for raw in await _fetch(
            poller, offset=ledger.offset(), wait_seconds=wait_seconds, backoff=backoff
        ):
            update_id = int(raw["update_id"])
            if ledger.is_new(update_id):
                # A model only for a new update: the ones taken again are skipped unread.
                update = Update.model_validate(raw, context={"bot": poller.bot})
                ledger.add(update_id, asyncio.create_task(_handle(poller, update)))
        await _pause_while_pinned(ledger)


async def _pause_while_pinned(ledger: _Ledger) -> None:
    """Don't spin on getUpdates while an update in flight keeps them coming back."""
    pinning = ledger.pinning_task()
    if pinning is not None:
        await asyncio.wait({pinning}, timeout=PINNED_POLL_INTERVAL)


class _RawGetUpdates(GetUpdates):
    """getUpdates answered as plain JSON objects. While an earlier update pins the offset,
    Telegram sends the ones in flight again with every poll; building aiogram's models of
    them all again each time cost more than handling the new ones (measured under load)."""

    __returning__ = list[dict[str, Any]]


async def _fetch(
    poller: _Poller, *, offset: int | None, wait_seconds: int, backoff: Backoff
) -> list[dict[str, Any]]:
    """One getUpdates, retried with aiogram's backoff until the Bot API answers."""
    request = _RawGetUpdates(
        offset=offset, timeout=wait_seconds, allowed_updates=poller.allowed_updates
    )
    session_timeout = poller.bot.session.timeout
    # The request may wait the whole long poll on top of the session's usual allowance.
    request_timeout = int(session_timeout + wait_seconds) if session_timeout else None
    while True:
        try:
            # The models' type is GetUpdates'; the answer is _RawGetUpdates' plain objects.
            answer: Any = await poller.bot(request, request_timeout=request_timeout)
            updates: list[dict[str, Any]] = answer
        except Exception as exc:  # the Bot API being away must not stop polling
            logger.error(
                "getUpdates failed (%s); retrying in %.1f s", _describe(exc), backoff.next_delay
            )
            await backoff.asleep()
            continue
        if backoff.counter:
            logger.info("getUpdates works again after %d retries", backoff.counter)
            backoff.reset()
        return updates


def _describe(error: Exception) -> str:
    # A Bot API error's text is the server's; any other error (a response that failed to
    # parse) could quote the updates, so only its type is told.
    if isinstance(error, TelegramAPIError):
        return f"{type(error).__name__}: {error.message}"
    return type(error).__name__


async def _handle(poller: _Poller, update: Update) -> None:
    """Feed one update; a handler's error is logged and the update counts as finished, or
    it would pin the offset (and be fetched again) forever."""
    try:
        response = await poller.dp.feed_update(poller.bot, update, **poller.workflow)
        # As start_polling does: a handler may return a method to call, as in a webhook reply.
        if isinstance(response, TelegramMethod):
            await poller.dp.silent_call_request(bot=poller.bot, result=response)
    except Exception as exc:  # one update's failure must not stop the others
        # The type and the code path only: an error's message may quote what a patient typed.
        logger.error(
            "update %d failed: %s\n%s",
            update.update_id,
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)).rstrip(),
        )


async def _drain(ledger: _Ledger, *, within: float) -> None:
    """Let the updates in flight finish, for at most ``within`` seconds."""
    tasks = set(ledger.running.values())
    if tasks:
        _, late = await asyncio.wait(tasks, timeout=within)
        if late:
            logger.warning("%d updates did not finish in time; they will come again", len(late))
    await ledger.abandon_all()


async def _confirm(bot: Bot, *, offset: int | None) -> None:
    """Tell Telegram what is finished, so that a clean restart does not get it again."""
    if offset is None:
        return
    try:
        await bot(GetUpdates(offset=offset, timeout=0, limit=1))
    except Exception as exc:  # at worst they come again, deduplicated
        logger.warning("could not confirm the handled updates (%s)", _describe(exc))
