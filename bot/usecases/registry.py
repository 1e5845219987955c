"""What the registry does to patients' bookings: cancel or move one with the patient told,
close a doctor's time (its bookings cancelled, each patient offered other times), reopen it.
Each call is one transaction (see transaction.py); staff see only their organizations."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import WaitlistSettings
from bot.services import waitlist
from bot.services.audit import Actor
from bot.services.booking import staff_booking
from bot.services.booking_changes import apply_cancel, apply_move
from bot.services.outbox import enqueue
from bot.services.staff.access import StaffAccess
from bot.services.staff.closures import alternatives, close_time, reopen_time
from bot.services.visits import VisitRecord
from bot.unit import commit
from bot.usecases.outcomes import (
    Changed,
    Closed,
    NoticeKind,
    NoticeOwed,
    Outcome,
    Owed,
    Rules,
    SlotTaken,
    TicketOwed,
)
from bot.usecases.transaction import Conflict, commit_change
from db.models import Doctor, Slot

logger = logging.getLogger(__name__)
# When the caller does not pass the configured hold (waitlist.hold_minutes).
DEFAULT_HOLD = WaitlistSettings().hold


async def cancel(
    session: AsyncSession,
    *,
    booking_id: int,
    access: StaffAccess,
    reason: str,
    now: datetime,
    hold: timedelta = DEFAULT_HOLD,
) -> Outcome:
    """Cancelled with the reason; the patient's chat is owed a notice with it and the phone.
    The freed time goes to the first on the waitlist."""
    offers: list[Owed] = []

    async def change() -> int:
        booking = await staff_booking(
            session, booking_id=booking_id, organization_codes=access.organization_codes, now=now
        )
        actor = Actor.staff(access.telegram_user_id)
        await apply_cancel(session, booking=booking, actor=actor, reason=reason, now=now)
        offers[:] = await waitlist.offer_freed(
            session, slot_ids=[booking.slot_id], now=now, hold=hold
        )
        return booking.id

    def owes(visit: VisitRecord) -> list[Owed]:
        chat = visit.telegram_chat_id
        told: list[Owed] = (
            []
            if chat is None
            else [NoticeOwed(chat, visit.booking_id, NoticeKind.CANCELLED_BY_REGISTRY, reason)]
        )
        return told + offers

    result = await commit_change(
        session, change, owes=owes, acting_chat=access.telegram_user_id, now=now
    )
    if isinstance(result, Conflict):
        raise AssertionError("a cancellation inserts no unique row")
    if isinstance(result, Changed):
        logger.info("booking %s cancelled by staff %s", booking_id, access.telegram_user_id)
    return result


async def move(
    session: AsyncSession,
    *,
    booking_id: int,
    new_slot_id: int,
    access: StaffAccess,
    now: datetime,
    rules: Rules,
) -> Outcome:
    """No cut-off and no per-patient limits for the registry; the patient is owed a notice and
    the new ticket."""

    offers: list[Owed] = []

    async def change() -> int:
        booking = await staff_booking(
            session, booking_id=booking_id, organization_codes=access.organization_codes, now=now
        )
        old_slot = booking.slot_id
        await apply_move(
            session,
            booking=booking,
            new_slot_id=new_slot_id,
            now=now,
            reminders=rules.reminders,
            limits=None,
            actor=Actor.staff(access.telegram_user_id),
        )
        offers[:] = await waitlist.offer_freed(
            session, slot_ids=[old_slot], now=now, hold=rules.hold
        )
        return booking.id

    def owes(visit: VisitRecord) -> list[Owed]:
        chat, booking = visit.telegram_chat_id, visit.booking_id
        if chat is None:
            return list(offers)
        return [
            NoticeOwed(chat, booking, NoticeKind.MOVED_BY_REGISTRY),
            TicketOwed(chat, booking),
            *offers,
        ]

    result = await commit_change(
        session, change, owes=owes, acting_chat=access.telegram_user_id, now=now
    )
    if isinstance(result, Conflict):
        return SlotTaken()
    if isinstance(result, Changed):
        logger.info("booking %s moved by staff %s", booking_id, access.telegram_user_id)
    return result


async def close(
    session: AsyncSession,
    *,
    doctor: Doctor,
    since: datetime,
    until: datetime,
    reason: str,
    access: StaffAccess,
    now: datetime,
) -> Closed:
    """No new bookings there; its bookings cancelled at once, each patient owed a notice with
    the nearest free times (found after the closure, so none of them is closed)."""
    cancelled = await close_time(
        session,
        doctor=doctor,
        since=since,
        until=until,
        reason=reason,
        staff_telegram_id=access.telegram_user_id,
        now=now,
    )
    owed: list[Owed] = []
    for booking in cancelled:
        if booking.telegram_chat_id is None:
            continue
        offer = await alternatives(session, booking=booking, now=now)
        owed.append(
            NoticeOwed(
                booking.telegram_chat_id,
                booking.id,
                NoticeKind.CLOSED_BY_REGISTRY,
                reason=reason,
                alternatives=tuple(slot.id for slot in offer),
            )
        )
    # The closure, its cancellations and every notice they owe commit together.
    queued = await enqueue(session, owed, acting_chat=access.telegram_user_id, now=now)
    await commit(session, owed=queued)
    logger.info(
        "staff %s closed doctor %s: %d cancelled",
        access.telegram_user_id,
        doctor.id,
        len(cancelled),
    )
    return Closed(cancelled=len(cancelled), owed=tuple(owed), queued=queued)


async def reopen(
    session: AsyncSession,
    *,
    doctor: Doctor,
    since: datetime,
    until: datetime,
    now: datetime,
    horizon_days: int,
    hold: timedelta = DEFAULT_HOLD,
) -> Reopened:
    """Undo (part of) a closure; its slots come back at once, the first of them offered to
    those waiting for the doctor. How many closures it touched, and the offers owed."""
    touched = await reopen_time(
        session, doctor=doctor, since=since, until=until, now=now, horizon_days=horizon_days
    )
    freed = await session.scalars(
        select(Slot.id)
        .where(Slot.doctor_id == doctor.id, Slot.starts_at >= since, Slot.starts_at < until)
        .order_by(Slot.starts_at)
    )
    owed = await waitlist.offer_freed(session, slot_ids=list(freed), now=now, hold=hold)
    queued = await enqueue(session, owed, acting_chat=None, now=now)
    await commit(session, owed=queued)
    return Reopened(touched=touched, queued=queued)


@dataclass(frozen=True, slots=True)
class Reopened:
    touched: int
    # The waitlist offers of the reopened time, sent after the commit.
    queued: tuple[int, ...] = ()
