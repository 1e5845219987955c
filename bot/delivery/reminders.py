"""Sends due reminders within Telegram's limits, exactly once, without blocking patients.

Runs as its own task (an APScheduler interval job in production, direct calls in tests).
Each message is sent and marked in one shielded step: cancelling the dispatcher (a stop, a
kill of its task) lets the sends already under way finish and be recorded, and never starts
a new one.

A hard kill (SIGKILL, a power cut) cannot be shielded against. Right before each HTTP call
its rows are committed as `sending` (bot/services/reminders.py, one small UPDATE per
message), so at the next start `recover` sends again everything that was claimed, silently
for rows still waiting their turn, and counted and logged as possible duplicates for the
rows whose request may have reached Telegram.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot import texts
from bot.config import BookingSettings, InstanceSettings, ReminderSettings
from bot.delivery.limiter import Limiter, LimiterUnavailable, RateLimiter
from bot.i18n import use_locale
from bot.keyboards import reminders as kb
from bot.services import reminders as store
from bot.services.clock import Clock
from bot.services.reminder_plan import (
    DigestItem,
    Drop,
    Later,
    ReminderPolicy,
    SendNow,
    digest_groups,
    due_now,
)
from bot.services.slots import local_day_bounds
from db.engine import Database
from db.models import ReminderState

logger = logging.getLogger(__name__)

# Telegram may answer 429 several times in a row under load; past this the row is retried
# on a later run instead of holding a sender.
MAX_RETRY_AFTER_WAITS = 5
RETRY_BASE = timedelta(seconds=30)


DEFAULT_LEASE = InstanceSettings().lease
# Moves stop this long before the visit (booking.change_cutoff_minutes): a reminder sent
# later offers no «Перенести».
DEFAULT_MOVE_CUTOFF = BookingSettings().change_cutoff


@dataclass(frozen=True, slots=True)
class RunReport:
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    deferred: int = 0


class ReminderDispatcher:
    def __init__(
        self,
        *,
        db: Database,
        bot: Bot,
        clock: Clock,
        settings: ReminderSettings,
        limiter: Limiter | None = None,
        lease: timedelta = DEFAULT_LEASE,
        move_cutoff: timedelta = DEFAULT_MOVE_CUTOFF,
    ) -> None:
        self._db = db
        self._bot = bot
        self._clock = clock
        self._settings = settings
        self._policy: ReminderPolicy = settings.policy
        self._limiter = limiter or RateLimiter(
            per_second=settings.per_second,
            per_chat_interval=settings.per_chat_interval_seconds,
        )
        self._inflight: set[asyncio.Task[str]] = set()
        self._lock = asyncio.Lock()
        # How long a silent instance keeps the rows it claimed (services/instances.py).
        self._lease = lease
        # The configured cut-off for moves (Settings.rules.cutoff): the keyboard offers a move
        # only if it would be accepted when the reminder is sent.
        self._move_cutoff = move_cutoff

    async def recover(self) -> store.Released:
        """At start: rows a killed process left in flight are planned again."""
        async with self._db.sessions() as session:
            released = await store.release_in_flight(session, lease=self._lease)
        if released.claimed:
            logger.info(
                "%d reminders were waiting at the last stop; sending them", released.claimed
            )
        if released.started:
            logger.warning(
                "%d reminders were being sent at the last stop; sending them again, possibly twice",
                released.started,
            )
        return released

    async def run_once(self) -> RunReport:
        """Send everything due now, batch after batch; one run at a time."""
        async with self._lock:
            total = RunReport()
            while True:
                report, claimed = await self._run_batch()
                total = RunReport(
                    sent=total.sent + report.sent,
                    failed=total.failed + report.failed,
                    dropped=total.dropped + report.dropped,
                    deferred=total.deferred + report.deferred,
                )
                if claimed < self._settings.batch_size:
                    return total

    async def drain(self) -> None:
        """Wait for the sends under way (they finish even if run_once was cancelled)."""
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _run_batch(self) -> tuple[RunReport, int]:
        now = self._clock.now()
        async with self._db.sessions() as session:
            await store.release_of_the_dead(session, lease=self._lease)
            ids = await store.claim_due(session, now=now, limit=self._settings.batch_size)
            if not ids:
                return RunReport(), 0
        try:
            async with self._db.sessions() as session:
                due = await store.load_claimed(session, reminder_ids=ids)
            dropped, deferred, to_send = await self._triage(due, now=now)
            groups = await self._with_companions(to_send, now=now)
        except Exception:
            # Claimed rows must not stay claimed until the next restart.
            async with self._db.sessions() as session:
                await store.release_rows(session, ids=ids)
            raise
        outcomes = await self._send_all(groups, now=now)
        report = RunReport(
            sent=outcomes.count("sent"),
            failed=outcomes.count("failed"),
            dropped=dropped,
            deferred=deferred + outcomes.count("deferred"),
        )
        return report, len(ids)

    async def _triage(
        self, due: Sequence[store.DueReminder], *, now: datetime
    ) -> tuple[int, int, list[store.DueReminder]]:
        """Decide what each claimed row becomes: sent now, later, dropped or cancelled."""
        dropped = deferred = 0
        to_send = []
        async with self._db.sessions() as session:
            for item in due:
                if not item.booking_active:
                    await store.finish(
                        session,
                        reminder_ids=[item.reminder_id],
                        state=ReminderState.CANCELLED,
                        now=now,
                    )
                    continue
                if item.chat_unreachable:
                    await store.finish(
                        session,
                        reminder_ids=[item.reminder_id],
                        state=ReminderState.FAILED,
                        now=now,
                        error="chat unreachable (blocked or deactivated)",
                    )
                    continue
                decision = due_now(
                    item.due_at,
                    now=now,
                    visit=item.visit.starts_at,
                    tz_name=item.visit.tz_name,
                    quiet=self._policy.quiet,
                )
                match decision:
                    case SendNow():
                        to_send.append(item)
                    case Later(at=at):
                        deferred += 1
                        await store.reschedule(
                            session, reminder_ids=[item.reminder_id], due_at=at, error=None
                        )
                    case Drop(reason=reason):
                        dropped += 1
                        await store.finish(
                            session,
                            reminder_ids=[item.reminder_id],
                            state=ReminderState.DROPPED,
                            now=now,
                            error=f"not sent: {reason.value}",
                        )
        return dropped, deferred, to_send

    async def _with_companions(
        self, items: list[store.DueReminder], *, now: datetime
    ) -> list[list[store.DueReminder]]:
        """Digest groups, completed with the same day's not-yet-due reminders of each chat."""
        by_id = {item.reminder_id: item for item in items}
        groups = digest_groups(_digest_item(item) for item in items)
        async with self._db.sessions() as session:
            for group in groups:
                tz = ZoneInfo(group.items[0].tz_name)
                since, until = local_day_bounds(group.visit_date, tz)
                extra = await store.claim_companions(
                    session,
                    chat_id=group.chat_id,
                    label=group.label,
                    since=since,
                    until=until,
                    now=now,
                )
                if extra:
                    for companion in await store.load_claimed(session, reminder_ids=extra):
                        by_id[companion.reminder_id] = companion
        # Reminders of different offsets that fall due together (a late catch-up and one moved
        # out of quiet hours) would say the same thing twice: one message per chat and day.
        merged: dict[tuple[int, date], list[store.DueReminder]] = {}
        for group in digest_groups(_digest_item(item) for item in by_id.values()):
            merged.setdefault((group.chat_id, group.visit_date), []).extend(
                by_id[i.reminder_id] for i in group.items
            )
        return list(merged.values())

    async def _send_all(self, groups: list[list[store.DueReminder]], *, now: datetime) -> list[str]:
        semaphore = asyncio.Semaphore(self._settings.concurrency)

        async def one(items: list[store.DueReminder]) -> str:
            async with semaphore:
                task = asyncio.create_task(self._deliver(items, now=now))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
                return await asyncio.shield(task)

        return list(await asyncio.gather(*(one(items) for items in groups)))

    async def _deliver(self, items: list[store.DueReminder], *, now: datetime) -> str:
        try:
            return await self._deliver_checked(items)
        except LimiterUnavailable:
            # Redis is away: nothing is sent without the shared budget; no attempt is spent.
            logger.warning("reminders wait: the shared sending limit is unreachable")
            return await self._retry_later(
                items, now=now, error="shared limit unreachable", count_attempt=False
            )
        except Exception as error:
            # Whatever broke (the database, a bug), the rows must not stay claimed forever.
            logger.exception("delivering reminders to chat %s failed", items[0].chat_id)
            return await self._retry_later(items, now=now, error=f"{type(error).__name__}")

    async def _deliver_checked(self, items: list[store.DueReminder]) -> str:
        chat_id = items[0].chat_id
        waits = 0
        while True:
            await self._limiter.acquire(chat_id)
            # Checked again right before sending: the batch may have taken a while, and the
            # patient may have cancelled or moved meanwhile, or the quiet hours begun.
            now = self._clock.now()
            items = await self._still_due(items, now=now)
            if not items:
                return "cancelled"
            ids = [item.reminder_id for item in items]
            visits = sorted(
                {item.booking_id: item for item in items}.values(), key=lambda i: i.visit.starts_at
            )
            try:
                # In the language the chat reads, not the language of whoever ran this job.
                with use_locale(items[0].language):
                    text = texts.reminder_text(visits)
                    markup = kb.reminder(visits, now=now, move_cutoff=self._move_cutoff)
                await self._bot.send_message(chat_id, text, reply_markup=markup)
            except TelegramRetryAfter as error:
                # Refused, so certainly not delivered: a crash during the wait is no duplicate.
                async with self._db.sessions() as session:
                    await store.unstart(session, reminder_ids=ids)
                self._limiter.back_off(error.retry_after)
                waits += 1
                if waits <= MAX_RETRY_AFTER_WAITS:
                    continue
                # Flood control is Telegram's load, not this reminder's fault: no attempt spent.
                return await self._retry_later(
                    items, now=now, error=f"429: {error.message}", count_attempt=False
                )
            except TelegramUnauthorizedError as error:
                logger.critical("the bot token was refused (%s); reminders wait", error.message)
                return await self._retry_later(
                    items, now=now, error="401: token refused", count_attempt=False
                )
            except TelegramForbiddenError as error:
                async with self._db.sessions() as session:
                    await store.mark_unreachable(session, chat_id=chat_id, now=now)
                    await store.finish(
                        session,
                        reminder_ids=ids,
                        state=ReminderState.FAILED,
                        now=now,
                        error=f"403: {error.message}"[:500],
                    )
                logger.info("chat %s is unreachable; its reminders stop", chat_id)
                return "failed"
            except (TelegramNetworkError, TelegramServerError) as error:
                return await self._retry_later(
                    items, now=now, error=f"{type(error).__name__}: {error}"
                )
            except TelegramAPIError as error:
                async with self._db.sessions() as session:
                    await store.finish(
                        session,
                        reminder_ids=ids,
                        state=ReminderState.FAILED,
                        now=now,
                        error=f"{type(error).__name__}: {error.message}"[:500],
                    )
                logger.error("reminder for chat %s rejected: %s", chat_id, error.message)
                return "failed"
            async with self._db.sessions() as session:
                await store.finish(session, reminder_ids=ids, state=ReminderState.SENT, now=now)
            return "sent"

    async def _still_due(
        self, items: list[store.DueReminder], *, now: datetime
    ) -> list[store.DueReminder]:
        async with self._db.sessions() as session:
            current = await store.booking_targets(
                session, booking_ids=[item.booking_id for item in items]
            )
            # Cancelled, moved, or no longer linked to this chat (consent withdrawn).
            stale = [
                i.reminder_id for i in items if current.get(i.booking_id) != (i.slot_id, i.chat_id)
            ]
            if stale:
                await store.finish(
                    session, reminder_ids=stale, state=ReminderState.CANCELLED, now=now
                )
            items = [i for i in items if current.get(i.booking_id) == (i.slot_id, i.chat_id)]
            if not items:
                return []
            first = min(items, key=lambda i: i.visit.starts_at)
            decision = due_now(
                min(i.due_at for i in items),
                now=now,
                visit=first.visit.starts_at,
                tz_name=first.visit.tz_name,
                quiet=self._policy.quiet,
            )
            ids = [i.reminder_id for i in items]
            match decision:
                case SendNow():
                    # Committed before the HTTP call: after a kill, recovery can tell these
                    # (maybe delivered) from the rows still waiting (certainly not).
                    started = set(await store.start_sending(session, reminder_ids=ids))
                    return [i for i in items if i.reminder_id in started]
                case Later(at=at):
                    await store.reschedule(session, reminder_ids=ids, due_at=at, error=None)
                case Drop(reason=reason):
                    await store.finish(
                        session,
                        reminder_ids=ids,
                        state=ReminderState.DROPPED,
                        now=now,
                        error=f"not sent: {reason.value}",
                    )
            return []

    async def _retry_later(
        self,
        items: list[store.DueReminder],
        *,
        now: datetime,
        error: str,
        count_attempt: bool = True,
    ) -> str:
        """Back off exponentially on the business clock; give up after max_attempts."""
        ids = [item.reminder_id for item in items]
        attempts = max(item.attempts for item in items) + (1 if count_attempt else 0)
        async with self._db.sessions() as session:
            if attempts >= self._settings.max_attempts:
                await store.finish(
                    session,
                    reminder_ids=ids,
                    state=ReminderState.FAILED,
                    now=now,
                    error=error[:500],
                )
                logger.warning("reminders %s failed after %d attempts", ids, attempts)
                return "failed"
            await store.reschedule(
                session,
                reminder_ids=ids,
                due_at=now + RETRY_BASE * 2 ** max(attempts - 1, 0),
                error=error[:500],
                count_attempt=count_attempt,
            )
        return "deferred"


def _digest_item(item: store.DueReminder) -> DigestItem:
    return DigestItem(
        reminder_id=item.reminder_id,
        chat_id=item.chat_id,
        visit_start=item.visit.starts_at,
        tz_name=item.visit.tz_name,
        label=item.label,
        due_at=item.due_at,
    )
