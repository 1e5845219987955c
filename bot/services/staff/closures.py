"""A doctor's time closed by the registry (its bookings cancelled), reopened, and the nearest
free times offered instead."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.audit import Actor
from bot.services.booking_changes import apply_cancel
from bot.services.slots import generate_slots
from bot.services.staff.search import card_options
from db.models import Booking, BookingStatus, Closure, Doctor, Slot, doctor_services


async def close_time(
    session: AsyncSession,
    *,
    doctor: Doctor,
    since: datetime,
    until: datetime,
    reason: str,
    staff_telegram_id: int,
    now: datetime,
) -> list[Booking]:
    """Close the doctor's time and cancel its bookings (flushed; the caller commits)."""
    session.add(
        Closure(
            doctor_id=doctor.id,
            starts_at=since,
            ends_at=until,
            reason=reason,
            closed_by=staff_telegram_id,
            closed_at=now,
        )
    )
    await session.execute(
        update(Slot)
        .where(Slot.doctor_id == doctor.id, Slot.starts_at < until, Slot.ends_at > since)
        .values(is_open=False)
    )
    bookings = list(
        (
            await session.scalars(
                select(Booking)
                .join(Slot, Slot.id == Booking.slot_id)
                .where(
                    Slot.doctor_id == doctor.id,
                    # Every visit the closed time overlaps, not only those starting in it.
                    Slot.starts_at < until,
                    Slot.ends_at > since,
                    Slot.starts_at > now,
                    Booking.status == BookingStatus.ACTIVE,
                )
                .options(*card_options())
            )
        ).all()
    )
    actor = Actor.staff(staff_telegram_id)
    for booking in bookings:
        await apply_cancel(session, booking=booking, actor=actor, reason=reason, now=now)
    return bookings


async def reopen_time(
    session: AsyncSession,
    *,
    doctor: Doctor,
    since: datetime,
    until: datetime,
    now: datetime,
    horizon_days: int,
) -> int:
    """Take [since, until) out of the doctor's closures (trimming or splitting them); the
    weekly rules then reopen the slots. Returns how many closures were changed."""
    overlapping = (
        await session.scalars(
            select(Closure).where(
                Closure.doctor_id == doctor.id, Closure.starts_at < until, Closure.ends_at > since
            )
        )
    ).all()
    for closure in overlapping:
        if closure.starts_at < since and closure.ends_at > until:
            # Reopening the middle leaves two closures.
            session.add(
                Closure(
                    doctor_id=doctor.id,
                    starts_at=until,
                    ends_at=closure.ends_at,
                    reason=closure.reason,
                    closed_by=closure.closed_by,
                    closed_at=closure.closed_at,
                )
            )
            closure.ends_at = since
        elif closure.starts_at < since:
            closure.ends_at = since
        elif closure.ends_at > until:
            closure.starts_at = until
        else:
            await session.delete(closure)
    await session.flush()
    await generate_slots(session, now=now, horizon_days=horizon_days, doctor_ids=[doctor.id])
    return len(overlapping)


async def alternatives(
    session: AsyncSession, *, booking: Booking, now: datetime, count: int = 3
) -> list[Slot]:
    """The nearest free times for a cancelled booking: its doctor first, then colleagues."""
    taken = select(Booking.slot_id).where(Booking.status == BookingStatus.ACTIVE)
    free = (
        select(Slot)
        .join(doctor_services, doctor_services.c.doctor_id == Slot.doctor_id)
        .where(
            doctor_services.c.service_id == booking.service_id,
            Slot.is_open.is_(True),
            Slot.starts_at > now,
            Slot.id.not_in(taken),
        )
        .options(selectinload(Slot.doctor).selectinload(Doctor.organization))
        .order_by(Slot.starts_at)
    )
    doctor_id = booking.slot.doctor_id
    own = (await session.scalars(free.where(Slot.doctor_id == doctor_id).limit(count))).all()
    others = (
        (
            await session.scalars(free.where(Slot.doctor_id != doctor_id).limit(count - len(own)))
        ).all()
        if len(own) < count
        else []
    )
    return [*own, *others]
