"""Reminder rows: planned with the booking, claimed by the dispatcher, marked after sending.

The state column makes delivery at-least-once across crashes, and exactly-once except for
the messages whose HTTP request was under way at the crash:

* planned → claimed: a conditional update that only one dispatcher can win; the row waits
  for its turn (the rate limiter), certainly not sent;
* claimed → sending: committed right before the HTTP call to Telegram (`start_sending`; all
  the rows of a digest at once), and back to claimed after a 429, which delivered nothing;
* sending → sent (or failed, dropped, cancelled) right after Telegram's answer.

Rows are held under the claiming instance's id (services/instances.py). After a crash
(`release_in_flight` at a start, `release_of_the_dead` at every run, once the holder's lease
has run out), claimed rows go back to planned silently. Rows left `sending` go back to
planned too (a patient who is never reminded is worse than a rare duplicate), but they may
have been delivered: they get `RESENT_AFTER_CRASH` in `last_error`, and a final mark without
an error of its own keeps it, so a sent row with that note is a possible duplicate and no
other row is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Result, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import DEFAULT_LOCALE, LOCALES
from bot.services.instances import held_by_the_dead, instance_id, only_instance
from bot.services.reminder_plan import ReminderPolicy, plan_reminders
from bot.services.visits import VisitRecord, load_visits
from db.models import (
    Booking,
    BookingStatus,
    Reminder,
    ReminderState,
    Slot,
    TelegramChat,
)

# What a row whose send had started at a crash carries once it is planned again.
RESENT_AFTER_CRASH = "resent after a crash: its send had started"
# A dispatcher owns these rows: nobody else claims them, and only it marks them.
IN_FLIGHT = (ReminderState.CLAIMED, ReminderState.SENDING)


@dataclass(frozen=True, slots=True)
class Released:
    """Rows put back to planned after a crash: never sent, and possibly sent already."""

    claimed: int = 0
    started: int = 0


@dataclass(frozen=True, slots=True)
class Visit:
    starts_at: datetime
    tz_name: str


def plan_rows(*, visit: Visit, policy: ReminderPolicy, now: datetime) -> list[Reminder]:
    """Reminder rows for a booking made (or moved) at `now`; add them in its transaction."""
    return [
        Reminder(label=planned.label, due_at=planned.due_at)
        for planned in plan_reminders(
            visit=visit.starts_at,
            tz_name=visit.tz_name,
            offsets=policy.offsets,
            quiet=policy.quiet,
            planned_at=now,
        )
    ]


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> list[int]:
    """Ids of due reminders this caller now owns (state `claimed`), earliest first."""
    candidates = (
        await session.scalars(
            select(Reminder.id)
            .where(Reminder.state == ReminderState.PLANNED, Reminder.due_at <= now)
            .order_by(Reminder.due_at, Reminder.id)
            .limit(limit)
        )
    ).all()
    if not candidates:
        return []
    return sorted(await _claim(session, candidates=candidates, now=now))


async def _claim(session: AsyncSession, *, candidates: Sequence[int], now: datetime) -> list[int]:
    """planned → claimed for those still planned: of two dispatchers, only one wins a row."""
    claimed = (
        await session.scalars(
            update(Reminder)
            .where(Reminder.id.in_(candidates), Reminder.state == ReminderState.PLANNED)
            .values(state=ReminderState.CLAIMED, claimed_at=now, claimed_by=instance_id())
            .returning(Reminder.id)
        )
    ).all()
    await session.commit()
    return list(claimed)


async def start_sending(session: AsyncSession, *, reminder_ids: Sequence[int]) -> list[int]:
    """claimed → sending, committed before the HTTP call: those of `reminder_ids` still ours.

    A row cancelled meanwhile (the booking cancelled or moved) is no longer in flight and is
    left out, so its message is not sent.
    """
    started = (
        await session.scalars(
            update(Reminder)
            .where(Reminder.id.in_(reminder_ids), Reminder.state.in_(IN_FLIGHT))
            .values(state=ReminderState.SENDING)
            .returning(Reminder.id)
        )
    ).all()
    await session.commit()
    return list(started)


async def unstart(session: AsyncSession, *, reminder_ids: Sequence[int]) -> None:
    """sending → claimed: Telegram refused the request (429), so nothing was delivered."""
    await session.execute(
        update(Reminder)
        .where(Reminder.id.in_(reminder_ids), Reminder.state == ReminderState.SENDING)
        .values(state=ReminderState.CLAIMED)
    )
    await session.commit()


async def finish(
    session: AsyncSession,
    *,
    reminder_ids: Sequence[int],
    state: ReminderState,
    now: datetime,
    error: str | None = None,
) -> None:
    # Without an error of its own, the mark keeps the last one: a sent row still says it was
    # resent after a crash (or retried after a server error).
    values: dict[str, object] = {
        "state": state,
        "last_error": Reminder.last_error if error is None else error,
    }
    if state is ReminderState.SENT:
        values["sent_at"] = now
    await session.execute(
        update(Reminder)
        .where(Reminder.id.in_(reminder_ids), Reminder.state.in_(IN_FLIGHT))
        .values(**values, attempts=Reminder.attempts + 1)
    )
    await session.commit()


async def release_in_flight(session: AsyncSession, *, lease: timedelta) -> Released:
    """At start, after a crash: the rows a dead dispatcher held go back to `planned` (on
    SQLite, one instance: every row; on PostgreSQL, those of instances silent for `lease`,
    never a live one's).

    Claimed rows were never sent. A row left `sending` was killed during the HTTP call to
    Telegram (or before its mark), and nobody can know whether Telegram delivered it:
    sending again (a rare duplicate) is preferred to a patient who was never reminded, and
    the row is marked so the duplicate is explained.
    """
    if only_instance(session):
        return await _release(session, where=())
    return await release_of_the_dead(session, lease=lease)


async def release_of_the_dead(session: AsyncSession, *, lease: timedelta) -> Released:
    """Rows held by an instance not seen for `lease` go back to `planned`, as after a crash."""
    return await _release(session, where=[held_by_the_dead(Reminder.claimed_by, lease=lease)])


async def _release(session: AsyncSession, *, where: Sequence[ColumnElement[bool]]) -> Released:
    claimed = await session.execute(
        update(Reminder)
        .where(Reminder.state == ReminderState.CLAIMED, *where)
        .values(state=ReminderState.PLANNED, claimed_at=None, claimed_by=None)
    )
    started = await session.execute(
        update(Reminder)
        .where(Reminder.state == ReminderState.SENDING, *where)
        .values(
            state=ReminderState.PLANNED,
            claimed_at=None,
            claimed_by=None,
            last_error=RESENT_AFTER_CRASH,
        )
    )
    await session.commit()
    return Released(claimed=_rowcount(claimed), started=_rowcount(started))


def _rowcount(result: Result[Any]) -> int:
    # An UPDATE's result is a CursorResult at run time; the session's signature says Result.
    return int(getattr(result, "rowcount", 0) or 0)


async def cancel_for_booking(session: AsyncSession, *, booking_id: int) -> None:
    """A cancelled or moved booking never gets a stale reminder.

    Rows a dispatcher has claimed are cancelled too; it checks the booking again right before
    sending, and `start_sending` and its final mark only apply to rows still in flight.
    """
    await session.execute(
        update(Reminder)
        .where(
            Reminder.booking_id == booking_id,
            Reminder.state.in_([ReminderState.PLANNED, *IN_FLIGHT]),
        )
        .values(state=ReminderState.CANCELLED)
    )


async def booking_targets(
    session: AsyncSession, *, booking_ids: Sequence[int]
) -> dict[int, tuple[int, int | None]]:
    """(slot, chat) of each still-active booking among `booking_ids`."""
    rows = await session.execute(
        select(Booking.id, Booking.slot_id, Booking.telegram_chat_id).where(
            Booking.id.in_(booking_ids), Booking.status == BookingStatus.ACTIVE
        )
    )
    return {row[0]: (row[1], row[2]) for row in rows.all()}


async def release_rows(session: AsyncSession, *, ids: Sequence[int]) -> Released:
    """This dispatcher's own rows, after its run failed, back to `planned` as after a crash."""
    return await _release(session, where=[Reminder.id.in_(ids)])


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A claimed reminder with what its message needs, detached from the session."""

    reminder_id: int
    label: str
    due_at: datetime
    attempts: int
    chat_id: int
    chat_unreachable: bool
    # The language the chat reads: the reminder is written in it.
    language: str
    record: VisitRecord

    @property
    def booking_id(self) -> int:
        return self.record.booking_id

    @property
    def booking_active(self) -> bool:
        return self.record.is_active

    @property
    def slot_id(self) -> int:
        return self.record.slot_id

    @property
    def visit(self) -> Visit:
        return Visit(starts_at=self.record.starts_at, tz_name=self.record.timezone)


async def load_claimed(session: AsyncSession, *, reminder_ids: Sequence[int]) -> list[DueReminder]:
    rows = (
        await session.execute(
            select(
                Reminder.id, Reminder.label, Reminder.due_at, Reminder.attempts, Reminder.booking_id
            ).where(Reminder.id.in_(reminder_ids))
        )
    ).all()
    visits = await load_visits(session, booking_ids=list({row.booking_id for row in rows}))
    chat_ids = {v.telegram_chat_id for v in visits.values() if v.telegram_chat_id}
    chats = {
        chat.chat_id: chat
        for chat in await session.scalars(
            select(TelegramChat).where(TelegramChat.chat_id.in_(chat_ids))
        )
    }
    result = []
    for row in rows:
        record = visits[row.booking_id]
        chat_id = record.telegram_chat_id or 0
        chat = chats.get(chat_id)
        unreachable = not chat_id or (chat is not None and chat.unreachable_at is not None)
        language = chat.language if chat is not None else None
        result.append(
            DueReminder(
                reminder_id=row.id,
                label=row.label,
                due_at=row.due_at,
                attempts=row.attempts,
                chat_id=chat_id,
                chat_unreachable=unreachable,
                language=language if language in LOCALES else DEFAULT_LOCALE,
                record=record,
            )
        )
    return sorted(result, key=lambda d: (d.due_at, d.reminder_id))


async def claim_companions(
    session: AsyncSession,
    *,
    chat_id: int,
    label: str,
    since: datetime,
    until: datetime,
    now: datetime,
) -> list[int]:
    """Not-yet-due reminders of the same chat, offset and visit day: they join the digest."""
    candidates = (
        await session.scalars(
            select(Reminder.id)
            .join(Booking, Booking.id == Reminder.booking_id)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(
                Reminder.state == ReminderState.PLANNED,
                Reminder.label == label,
                Booking.telegram_chat_id == chat_id,
                Booking.status == BookingStatus.ACTIVE,
                Slot.starts_at >= since,
                Slot.starts_at < until,
            )
        )
    ).all()
    if not candidates:
        return []
    return await _claim(session, candidates=candidates, now=now)


async def reschedule(
    session: AsyncSession,
    *,
    reminder_ids: Sequence[int],
    due_at: datetime,
    error: str | None,
    count_attempt: bool = True,
) -> None:
    """Back to `planned` at a later moment (quiet hours ahead, or a retry after an error)."""
    await session.execute(
        update(Reminder)
        .where(Reminder.id.in_(reminder_ids), Reminder.state.in_(IN_FLIGHT))
        .values(
            state=ReminderState.PLANNED,
            due_at=due_at,
            claimed_at=None,
            claimed_by=None,
            last_error=error,
            attempts=Reminder.attempts + (1 if error and count_attempt else 0),
        )
    )
    await session.commit()


async def mark_reachable(session: AsyncSession, *, chat_id: int) -> None:
    """The patient talks to the bot again (e.g. books after unblocking it)."""
    await session.execute(
        update(TelegramChat).where(TelegramChat.chat_id == chat_id).values(unreachable_at=None)
    )


async def mark_unreachable(session: AsyncSession, *, chat_id: int, now: datetime) -> None:
    chat = await session.get(TelegramChat, chat_id)
    if chat is None:
        session.add(TelegramChat(chat_id=chat_id, unreachable_at=now))
    else:
        chat.unreachable_at = now
    await session.commit()
