"""The rules of booking: who may change which booking, per-patient limits, bookable slots."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ParamSpec

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.reminders import Visit
from db.models import (
    AccountPatient,
    Booking,
    BookingStatus,
    Doctor,
    Organization,
    Patient,
    PatientDocument,
    Service,
    Slot,
    doctor_services,
)

# No 0/O, 1/I: the number is read aloud and typed by registry staff.
TICKET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TICKET_ATTEMPTS = 5
P = ParamSpec("P")


class BookingError(Exception):
    pass


class SlotUnavailableError(BookingError):
    """Taken by someone else, closed, or already started."""


def new_ticket_number() -> str:
    raw = "".join(secrets.choice(TICKET_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


async def identify_patient(
    session: AsyncSession, *, oms: str, document: str, birth_date: date
) -> Patient | None:
    """The registry patient matching all three values, or None; never says which one failed."""
    return await session.scalar(
        select(Patient).where(
            Patient.oms_number == oms,
            Patient.birth_date == birth_date,
            exists().where(
                PatientDocument.patient_id == Patient.id, PatientDocument.number == document
            ),
        )
    )


# Built once with bound parameters: it runs on every press of a time.
_SLOT_STATE = select(
    Slot.doctor_id,
    Slot.starts_at,
    Slot.is_open,
    exists().where(
        doctor_services.c.doctor_id == Slot.doctor_id,
        doctor_services.c.service_id == bindparam("service_id"),
    ),
    exists().where(Booking.slot_id == Slot.id, Booking.status == BookingStatus.ACTIVE),
).where(Slot.id == bindparam("slot_id"))


async def is_slot_bookable(
    session: AsyncSession,
    *,
    slot_id: int,
    service_id: int,
    now: datetime,
    doctor_id: int | None = None,
) -> bool:
    """Open, in the future, of a doctor who provides the service, and not actively booked.

    One statement (it runs on every press of a time): the slot's row with two EXISTS.
    """
    row = (
        await session.execute(_SLOT_STATE, {"slot_id": slot_id, "service_id": service_id})
    ).one_or_none()
    if row is None:
        return False
    slot_doctor, starts_at, is_open, provided, is_taken = row
    if doctor_id is not None and slot_doctor != doctor_id:
        return False
    return bool(is_open and starts_at > now and provided and not is_taken)


@dataclass(frozen=True, slots=True)
class BookingLimits:
    max_active: int = 5
    one_per_doctor: bool = True


class LimitReachedError(BookingError):
    def __init__(self, reason: LimitReason, *, detail: str = "") -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.detail = detail  # the doctor's name, or the limit's number, for the patient


class LimitReason(enum.StrEnum):
    SAME_DOCTOR = "same_doctor"
    TOO_MANY = "too_many"


async def check_limits(
    session: AsyncSession,
    *,
    patient_id: int,
    slot_id: int,
    now: datetime,
    limits: BookingLimits,
    ignore_booking_id: int | None = None,
) -> None:
    """Per-patient limits on upcoming active bookings (a move doesn't count against itself)."""
    active = (
        select(Booking.id, Slot.doctor_id)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.patient_id == patient_id,
            Booking.status == BookingStatus.ACTIVE,
            Slot.starts_at > now,
        )
    )
    if ignore_booking_id is not None:
        active = active.where(Booking.id != ignore_booking_id)
    rows = (await session.execute(active)).all()
    if limits.one_per_doctor:
        doctor_id = await session.scalar(select(Slot.doctor_id).where(Slot.id == slot_id))
        if any(row[1] == doctor_id for row in rows):
            doctor = await session.get(Doctor, doctor_id)
            raise LimitReachedError(
                LimitReason.SAME_DOCTOR, detail=doctor.short_name if doctor else ""
            )
    if len(rows) >= limits.max_active:
        raise LimitReachedError(LimitReason.TOO_MANY, detail=str(limits.max_active))


async def slot_visit(session: AsyncSession, *, slot_id: int) -> Visit:
    row = (
        await session.execute(
            select(Slot.starts_at, Organization.timezone)
            .join(Doctor, Doctor.id == Slot.doctor_id)
            .join(Organization, Organization.id == Doctor.organization_id)
            .where(Slot.id == slot_id)
        )
    ).first()
    if row is None:
        raise SlotUnavailableError
    return Visit(starts_at=row[0], tz_name=row[1])


class NotChangeableError(BookingError):
    """The booking cannot be changed from this chat now; `reason` says why, for the patient."""

    def __init__(self, reason: ChangeRefusal, *, phone: str | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.phone = phone  # the organization's, where the patient must call instead


class ChangeRefusal(enum.StrEnum):
    NOT_FOUND = "not_found"  # also: not this chat's booking, so nothing is revealed
    CANCELLED = "cancelled"
    MOVED = "moved"
    PAST = "past"
    TOO_LATE = "too_late"  # within the cut-off before the visit
    CHANGED = "changed"  # someone else changed it at the same moment
    OTHER_SERVICE = "other_service"  # a move keeps the service; only the doctor may change
    REBOOKED = "rebooked"  # an offered alternative was already taken


async def changeable_booking(
    session: AsyncSession,
    *,
    booking_id: int,
    slot_id: int | None,
    telegram_user_id: int,
    now: datetime,
    cutoff: timedelta = timedelta(0),
    lock: bool = True,
) -> Booking:
    """The account's own active, future booking, still at `slot_id` if given; else refuse.

    The account's own: booked from it, or of a patient it remembers. `cutoff` is how long
    before the visit changes stop being possible online. `lock` (a change will follow) takes
    the row lock on PostgreSQL; a screen that only shows the booking does without.
    """
    query = (
        select(Booking)
        .where(Booking.id == booking_id)
        .options(
            selectinload(Booking.slot),
            selectinload(Booking.service).selectinload(Service.organization),
        )
        .execution_options(populate_existing=True)
    )
    booking = await session.scalar(query.with_for_update() if lock else query)
    if booking is None or not await _belongs_to(session, booking, telegram_user_id):
        raise NotChangeableError(ChangeRefusal.NOT_FOUND)
    if booking.status is not BookingStatus.ACTIVE:
        raise NotChangeableError(ChangeRefusal.CANCELLED)
    if slot_id is not None and booking.slot_id != slot_id:
        raise NotChangeableError(ChangeRefusal.MOVED)
    if booking.slot.starts_at <= now:
        raise NotChangeableError(ChangeRefusal.PAST)
    if booking.slot.starts_at - now < cutoff:
        raise NotChangeableError(ChangeRefusal.TOO_LATE, phone=booking.service.organization.phone)
    return booking


async def _belongs_to(session: AsyncSession, booking: Booking, telegram_user_id: int) -> bool:
    if booking.telegram_user_id == telegram_user_id:
        return True
    return bool(
        await session.scalar(
            select(
                exists().where(
                    AccountPatient.telegram_user_id == telegram_user_id,
                    AccountPatient.patient_id == booking.patient_id,
                )
            )
        )
    )


async def staff_booking(
    session: AsyncSession,
    *,
    booking_id: int,
    organization_codes: tuple[str, ...],
    now: datetime,
) -> Booking:
    booking = await session.scalar(
        select(Booking)
        .where(Booking.id == booking_id)
        .options(
            selectinload(Booking.slot),
            selectinload(Booking.service).selectinload(Service.organization),
        )
        .execution_options(populate_existing=True)
    )
    if booking is None or (
        organization_codes and booking.service.organization.code not in organization_codes
    ):
        raise NotChangeableError(ChangeRefusal.NOT_FOUND)
    if booking.status is not BookingStatus.ACTIVE:
        raise NotChangeableError(ChangeRefusal.CANCELLED)
    if booking.slot.starts_at <= now:
        raise NotChangeableError(ChangeRefusal.PAST)
    return booking


async def slot_taken(session: AsyncSession, *, slot_id: int) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(Booking.slot_id == slot_id, Booking.status == BookingStatus.ACTIVE)
            )
        )
    )
