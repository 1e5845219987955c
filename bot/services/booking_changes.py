"""Changes to bookings: book, cancel, move, confirm, rebook an offered alternative.

Every function here adds and flushes inside the caller's transaction and never commits: the
use case that calls it owns the transaction (see bot/usecases/ and docs/architecture.md).
Races are decided by the database at flush or commit: the partial unique index on active
bookings (IntegrityError) and the booking's revision counter (StaleDataError). The per-patient
limits are a read before the write, so `check_limits` first takes the patient's lock
(`booking.lock_patient`): one booking or move of a patient at a time, whichever account asks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from bot.services.audit import Actor
from bot.services.booking import (
    BookingLimits,
    ChangeRefusal,
    NotChangeableError,
    SlotUnavailableError,
    check_limits,
    is_slot_bookable,
    new_ticket_number,
    slot_visit,
)
from bot.services.reminder_plan import ReminderPolicy
from bot.services.reminders import cancel_for_booking, mark_reachable, plan_rows
from db.models import AuditEntry, Booking, BookingStatus, Reminder, Slot, doctor_services


async def add_booking(
    session: AsyncSession,
    *,
    slot_id: int,
    service_id: int,
    patient_id: int,
    telegram_user_id: int | None,
    telegram_chat_id: int | None,
    now: datetime,
    reminders: ReminderPolicy | None,
    limits: BookingLimits | None,
    actor: Actor,
) -> Booking:
    """A new active booking with its audit entry and reminders, flushed.

    Raises SlotUnavailableError or LimitReachedError; the flush raises IntegrityError when
    another booking of the slot (or, very rarely, of the ticket number) got there first.
    """
    # A time held from the waitlist is bookable only from the account it was offered to.
    if not await is_slot_bookable(
        session, slot_id=slot_id, service_id=service_id, now=now, user_id=telegram_user_id
    ):
        raise SlotUnavailableError
    if limits is not None:
        await check_limits(session, patient_id=patient_id, slot_id=slot_id, now=now, limits=limits)
    visit = await slot_visit(session, slot_id=slot_id)
    booking = Booking(
        ticket_number=new_ticket_number(),
        slot_id=slot_id,
        patient_id=patient_id,
        service_id=service_id,
        status=BookingStatus.ACTIVE,
        telegram_user_id=telegram_user_id,
        telegram_chat_id=telegram_chat_id,
        created_at=now,
        updated_at=now,
    )
    session.add(booking)
    audit.record(
        session,
        booking=booking,
        action="booked",
        actor=actor,
        now=now,
        after={**audit.snapshot(booking), "starts_at": visit.starts_at.isoformat()},
    )
    if reminders is not None and telegram_chat_id is not None:
        booking.reminders = plan_rows(visit=visit, policy=reminders, now=now)
        # Booking again means the patient talks to the bot: reminders may go there.
        await mark_reachable(session, chat_id=telegram_chat_id)
    await session.flush()
    return booking


async def apply_cancel(
    session: AsyncSession, *, booking: Booking, actor: Actor, reason: str | None, now: datetime
) -> None:
    """Cancelled, the slot free at once, planned reminders cancelled with it."""
    before = audit.snapshot(booking, starts_at=booking.slot.starts_at)
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.updated_at = now
    audit.record(
        session,
        booking=booking,
        action="cancelled",
        actor=actor,
        now=now,
        before=before,
        after=audit.snapshot(booking, starts_at=booking.slot.starts_at),
        reason=reason,
    )
    await cancel_for_booking(session, booking_id=booking.id)
    await session.flush()


async def apply_confirm(
    session: AsyncSession, *, booking: Booking, telegram_user_id: int, now: datetime
) -> None:
    if booking.confirmed_at is not None:
        return
    before = audit.snapshot(booking)
    booking.confirmed_at = now
    booking.updated_at = now
    audit.record(
        session,
        booking=booking,
        action="confirmed",
        actor=Actor.patient(telegram_user_id),
        now=now,
        before=before,
        after=audit.snapshot(booking),
    )
    await session.flush()


async def apply_move(
    session: AsyncSession,
    *,
    booking: Booking,
    new_slot_id: int,
    now: datetime,
    reminders: ReminderPolicy,
    limits: BookingLimits | None,
    actor: Actor,
    reason: str | None = None,
) -> None:
    """To another slot of a doctor providing the same service; the old slot is released only
    if the new one is taken (the flush raises IntegrityError otherwise)."""
    await _check_move_target(session, booking=booking, new_slot_id=new_slot_id, now=now)
    if limits is not None:
        await check_limits(
            session,
            patient_id=booking.patient_id,
            slot_id=new_slot_id,
            now=now,
            limits=limits,
            ignore_booking_id=booking.id,
        )
    await cancel_for_booking(session, booking_id=booking.id)
    before = audit.snapshot(booking, starts_at=booking.slot.starts_at)
    booking.slot_id = new_slot_id
    booking.confirmed_at = None
    booking.updated_at = now
    visit = await slot_visit(session, slot_id=new_slot_id)
    audit.record(
        session,
        booking=booking,
        action="moved",
        actor=actor,
        now=now,
        before=before,
        after=audit.snapshot(booking, starts_at=visit.starts_at),
        reason=reason,
    )
    # A moved booking's reminders are planned afresh for the new time.
    session.add_all(
        Reminder(booking_id=booking.id, label=row.label, due_at=row.due_at)
        for row in plan_rows(visit=visit, policy=reminders, now=now)
    )
    await session.flush()


async def _check_move_target(
    session: AsyncSession, *, booking: Booking, new_slot_id: int, now: datetime
) -> None:
    """Any doctor who provides the booked service will do, but not another service."""
    if new_slot_id == booking.slot_id:
        raise SlotUnavailableError
    new_slot = await session.get(Slot, new_slot_id)
    if new_slot is not None and not await session.scalar(
        select(
            exists().where(
                doctor_services.c.doctor_id == new_slot.doctor_id,
                doctor_services.c.service_id == booking.service_id,
            )
        )
    ):
        raise NotChangeableError(ChangeRefusal.OTHER_SERVICE)
    if not await is_slot_bookable(
        session, slot_id=new_slot_id, service_id=booking.service_id, now=now
    ):
        raise SlotUnavailableError


async def offered_booking(
    session: AsyncSession,
    *,
    cancelled_booking_id: int,
    slot_id: int,
    telegram_user_id: int,
    now: datetime,
    horizon_days: int,
) -> Booking:
    """The registry-cancelled booking whose offer `telegram_user_id` may still use for
    `slot_id`: only the chat that was told, only once, only within the horizon."""
    old = await session.get(Booking, cancelled_booking_id, populate_existing=True)
    cancelled_by_registry = await session.scalar(
        select(
            exists().where(
                AuditEntry.booking_id == cancelled_booking_id,
                AuditEntry.action == "cancelled",
                AuditEntry.actor == "staff",
            )
        )
    )
    if (
        old is None
        or old.telegram_user_id != telegram_user_id
        or old.status is not BookingStatus.CANCELLED
        or not cancelled_by_registry
    ):
        raise NotChangeableError(ChangeRefusal.NOT_FOUND)
    if old.rebooked_as_id is not None:
        raise NotChangeableError(ChangeRefusal.REBOOKED)
    slot = await session.get(Slot, slot_id)
    if slot is None or slot.starts_at >= now + timedelta(days=horizon_days):
        raise SlotUnavailableError
    return old


def mark_rebooked(
    session: AsyncSession, *, old: Booking, new: Booking, telegram_user_id: int, now: datetime
) -> None:
    old.rebooked_as_id = new.id
    audit.record(
        session,
        booking=old,
        action="rebooked",
        actor=Actor.patient(telegram_user_id),
        now=now,
        after={"rebooked_as": new.ticket_number},
    )
