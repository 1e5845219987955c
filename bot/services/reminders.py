"""Reminder rows: planned with the booking, claimed by the dispatcher, marked after sending.

The state column makes delivery exactly-once across restarts: a row is claimed by a
conditional update (planned → sending) that only one dispatcher can win, and marked sent
right after Telegram accepted the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Reminder, ReminderState


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> list[int]:
    """Ids of due reminders this caller now owns (state `sending`), earliest first."""
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
    claimed = (
        await session.scalars(
            update(Reminder)
            .where(Reminder.id.in_(candidates), Reminder.state == ReminderState.PLANNED)
            .values(state=ReminderState.SENDING, claimed_at=now)
            .returning(Reminder.id)
        )
    ).all()
    await session.commit()
    return sorted(claimed)


async def finish(
    session: AsyncSession,
    *,
    reminder_ids: Sequence[int],
    state: ReminderState,
    now: datetime,
    error: str | None = None,
) -> None:
    values: dict[str, object] = {"state": state, "last_error": error}
    if state is ReminderState.SENT:
        values["sent_at"] = now
    await session.execute(
        update(Reminder)
        .where(Reminder.id.in_(reminder_ids), Reminder.state == ReminderState.SENDING)
        .values(**values, attempts=Reminder.attempts + 1)
    )
    await session.commit()


async def release_in_flight(session: AsyncSession) -> int:
    """After a crash: rows left `sending` go back to `planned` and are tried again.

    Only a hard kill during the HTTP call to Telegram leaves such a row, and then nobody can
    know whether Telegram delivered it; sending again (a rare duplicate) is preferred to a
    patient who was never reminded.
    """
    result = await session.execute(
        update(Reminder)
        .where(Reminder.state == ReminderState.SENDING)
        .values(state=ReminderState.PLANNED, claimed_at=None)
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def cancel_for_booking(session: AsyncSession, *, booking_id: int) -> None:
    """A cancelled or moved booking never gets a stale reminder."""
    await session.execute(
        update(Reminder)
        .where(Reminder.booking_id == booking_id, Reminder.state == ReminderState.PLANNED)
        .values(state=ReminderState.CANCELLED)
    )
