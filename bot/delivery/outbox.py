"""Sends what the outbox holds (bot/services/outbox.py), within Telegram's limits, and marks it.

Two senders share the rows, and a conditional claim decides which one sends a row:

* the update that owed them, right after its last commit (`send`): the patient's reply
  without delay; a reply to the chat that just wrote is not paced;
* the dispatcher (`run_once`, looping in `run`): rows a 429, a network error or a crash left
  pending, and messages to other chats that the update could not send. Messages the bot sends
  unprompted go through the shared limiter; a 429 pauses everyone for retry_after and costs
  no attempt; 403 marks the chat unreachable and fails the row; network and server errors
  back off exponentially up to MAX_ATTEMPTS.

Each chat's rows go out in the order they were owed (the confirmation before the ticket); a
chat whose row could not be sent now keeps its later rows for the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot.delivery.limiter import Limiter, LimiterUnavailable
from bot.delivery.offers import Send, offer_sender
from bot.delivery.owed import sender
from bot.i18n import use_locale
from bot.services import outbox as rows
from bot.services.clock import Clock
from bot.services.languages import language_of
from bot.services.outbox import OfferOwed
from bot.services.reminders import mark_unreachable
from bot.services.visits import load_visit
from db.engine import Database
from db.models import TelegramChat

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RETRY_BASE = timedelta(seconds=15)
BATCH = 200
CONCURRENCY = 8  # chats served at once by a dispatcher run
# Between dispatcher runs when nothing is due; a queued row wakes it at once.
IDLE_SECONDS = 5.0


@dataclass(slots=True)
class SendReport:
    sent: list[int] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)  # tried again later (429, network)
    failed: list[int] = field(default_factory=list)  # never: blocked chat, refused message

    def add(self, other: SendReport) -> None:
        self.sent += other.sent
        self.queued += other.queued
        self.failed += other.failed


class Outbox:
    def __init__(self, *, db: Database, clock: Clock, limiter: Limiter, lease: timedelta) -> None:
        self._db = db
        self._clock = clock
        self._limiter = limiter
        self._lease = lease  # how long a silent instance keeps what it claimed
        self._wake = asyncio.Event()
        self._sending: set[asyncio.Task[SendReport]] = set()

    async def recover(self) -> int:
        """At start: rows a killed process had claimed are owed again (possibly sent: `resent`),
        and rows an update never got to send are due now."""
        async with self._db.sessions() as session:
            taken, made_due = await rows.take_back(
                session, now=self._clock.now(), lease=self._lease, at_start=True
            )
        if taken:
            logger.warning("%d outbox messages were being sent at the last stop; resending", taken)
        return taken + made_due

    async def send(self, bot: Bot, ids: Sequence[int]) -> SendReport:
        """Send these rows now if nobody has (the update that owed them, after its commit)."""
        if not ids:
            return SendReport()
        async with self._db.sessions() as session:
            waiting = await rows.waiting(session, ids=ids)
        report = await self._shielded(bot, waiting, paced=False)
        if report.queued:
            self._wake.set()
        return report

    async def run_once(self, bot: Bot) -> SendReport:
        """Everything due now, chats side by side, each chat's rows in order."""
        total = SendReport()
        while True:
            now = self._clock.now()
            async with self._db.sessions() as session:
                await rows.take_back(session, now=now, lease=self._lease, at_start=False)
                due = await rows.due(session, now=now, limit=BATCH)
            if not due:
                return total
            for report in await self._by_chat(bot, due):
                total.add(report)
            if len(due) < BATCH:
                return total

    async def _by_chat(self, bot: Bot, due: list[rows.Waiting]) -> list[SendReport]:
        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def chat(items: list[rows.Waiting]) -> SendReport:
            async with semaphore:
                return await self._shielded(bot, items, paced=True)

        by_chat: dict[int, list[rows.Waiting]] = {}
        for item in due:  # in id order, so each chat's rows stay in order
            by_chat.setdefault(item.chat_id, []).append(item)
        return list(await asyncio.gather(*(chat(items) for items in by_chat.values())))

    async def run(self, bot: Bot) -> None:
        """The dispatcher: a run whenever woken or every IDLE_SECONDS, until cancelled."""
        while True:
            try:
                await self.run_once(bot)
            except Exception:
                logger.exception("outbox run failed; trying again")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(IDLE_SECONDS):
                    await self._wake.wait()
            self._wake.clear()

    async def drain(self) -> None:
        """Wait for sends under way (they finish even when their caller was cancelled)."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    async def _shielded(self, bot: Bot, waiting: list[rows.Waiting], *, paced: bool) -> SendReport:
        # A send that started is finished and marked even if its caller is cancelled (a stop):
        # otherwise Telegram could have the message while the row still says "sending".
        task = asyncio.create_task(self._send_in_order(bot, waiting, paced=paced))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
        return await asyncio.shield(task)

    async def _send_in_order(
        self, bot: Bot, waiting: list[rows.Waiting], *, paced: bool
    ) -> SendReport:
        report = SendReport()
        for n, item in enumerate(waiting):
            outcome = await self._send_one(bot, item, paced=paced or not item.direct)
            if outcome != "taken":
                getattr(report, outcome).append(item.id)
            if outcome == "queued":
                # The chat's later rows wait for this one, and then follow it in order.
                rest = [later.id for later in waiting[n + 1 :]]
                async with self._db.sessions() as session:
                    await rows.hold_behind(session, first=item.id, ids=rest)
                report.queued += rest
                break
        return report

    async def _send_one(self, bot: Bot, item: rows.Waiting, *, paced: bool) -> str:
        """Paced first, then claimed: a row is `sending` only while its request may be under
        way, so a crash marks as `resent` only what Telegram may really have."""
        if paced:
            try:
                await self._limiter.acquire(item.chat_id)
            except LimiterUnavailable:
                # Redis is away: nothing is sent without the shared budget, and the row is
                # not the worse for it (it stays pending, due again after a pause).
                logger.warning("outbox waits: the shared sending limit is unreachable")
                async with self._db.sessions() as session:
                    at = self._clock.now() + RETRY_BASE
                    await rows.due_at(session, ids=[item.id], at=at)
                return "queued"
        async with self._db.sessions() as session:
            claimed = await rows.claim(session, ids=[item.id])
        if not claimed:
            return "taken"  # sent (or being sent) by another sender meanwhile
        try:
            return await self._attempt(bot, claimed[0])
        except Exception as error:
            # A bug or the database: the row must not stay claimed until its holder is gone.
            logger.exception("outbox message %s not sent", item.id)
            return await self._retry(claimed[0], error=type(error).__name__, count=True)

    async def _attempt(self, bot: Bot, item: rows.Claimed) -> str:
        chat, now = item.owed.chat_id, self._clock.now()
        if isinstance(item.owed, OfferOwed):
            return await self._attempt_offer(bot, item, item.owed)
        async with self._db.sessions() as session:
            visit = await load_visit(session, booking_id=item.owed.booking_id)
            known = await session.get(TelegramChat, chat)
            if visit is None or (known is not None and known.unreachable_at and not item.direct):
                await rows.mark_failed(
                    session, row_id=item.id, error="booking gone" if visit is None else "blocked"
                )
                return "failed"
            # Each chat reads its own language, whoever's change owed the message.
            with use_locale(await language_of(session, chat_id=chat)):
                owed, direct = item.owed, item.direct
                send = await sender(bot, session, owed, visit=visit, now=now, direct=direct)
        return await self._send(item, send)

    async def _attempt_offer(self, bot: Bot, item: rows.Claimed, owed: OfferOwed) -> str:
        """A waitlist offer: about a held slot, not a booking; not sent once it ended."""
        chat, now = owed.chat_id, self._clock.now()
        async with self._db.sessions() as session:
            known = await session.get(TelegramChat, chat)
            with use_locale(await language_of(session, chat_id=chat)):
                send = await offer_sender(bot, session, owed, now=now)
            if send is None or (known is not None and known.unreachable_at):
                error = "offer ended" if send is None else "blocked"
                await rows.mark_failed(session, row_id=item.id, error=error)
                return "failed"
        return await self._send(item, send)

    async def _send(self, item: rows.Claimed, send: Send) -> str:
        chat, now = item.owed.chat_id, self._clock.now()
        try:
            await send()
        except TelegramRetryAfter as error:
            # Flood control: everyone sending through the limiter waits; no attempt spent.
            self._limiter.back_off(error.retry_after)
            return await self._retry(item, error=f"429: {error.message}", count=False)
        except TelegramForbiddenError as error:
            async with self._db.sessions() as session:
                await mark_unreachable(session, chat_id=chat, now=now)
                await rows.mark_failed(session, row_id=item.id, error=f"403: {error.message}")
            return "failed"
        except TelegramUnauthorizedError:
            logger.critical("the bot token was refused; owed messages wait")
            return await self._retry(item, error="401: token refused", count=False)
        except (TelegramNetworkError, TelegramServerError) as error:
            return await self._retry(item, error=f"{type(error).__name__}: {error}", count=True)
        except TelegramAPIError as error:
            logger.error("outbox message %s refused by Telegram: %s", item.id, error.message)
            async with self._db.sessions() as session:
                await rows.mark_failed(session, row_id=item.id, error=error.message)
            return "failed"
        async with self._db.sessions() as session:
            await rows.mark_sent(session, row_id=item.id, now=self._clock.now())
        return "sent"

    async def _retry(self, item: rows.Claimed, *, error: str, count: bool) -> str:
        """Pending again: at once after a 429 (the limiter holds everyone back for its
        retry_after), after an exponential pause otherwise; failed past MAX_ATTEMPTS."""
        attempts = item.attempts + (1 if count else 0)
        now = self._clock.now()
        async with self._db.sessions() as session:
            if attempts >= MAX_ATTEMPTS:
                await rows.mark_failed(session, row_id=item.id, error=error)
                logger.warning("outbox message %s failed after %d attempts", item.id, attempts)
                return "failed"
            at = now + RETRY_BASE * 2 ** (attempts - 1) if count else now
            await rows.retry_at(session, row_id=item.id, at=at, error=error, count_attempt=count)
        self._wake.set()
        return "queued"
