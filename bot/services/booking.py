"""The rules of booking: who may change which booking, per-patient limits, bookable slots."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ParamSpec

from sqlalchemy import Select, bindparam, case, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.reminders import Visit
from bot.services.waitlist import held_now
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

# New ticket numbers are 9 digits grouped in threes, "482 917 305": patients read them aloud
# to the registry over the phone, and digits in threes are dictated, heard and typed back
# without spelling out a letter (the older "LTQ5-VD92" numbers, which stay valid, were not).
# The first digit is never 0, so the number never reads as a shorter one. 900 million numbers
# make a clash rare; the unique constraint catches one and the booking is drawn again
# (TICKET_ATTEMPTS in bot/usecases/patient.py). The grouped form, 11 characters, is what is
# stored (String(16)) and shown; file names drop the spaces (bot/delivery/documents.py).
TICKET_DIGITS = 9
TICKET_GROUP = 3
TICKET_ATTEMPTS = 5
P = ParamSpec("P")


class BookingError(Exception):
    pass


class SlotUnavailableError(BookingError):
    """Taken by someone else, closed, or already started."""


def new_ticket_number() -> str:
    """A fresh ticket number such as "482 917 305" (see TICKET_DIGITS for why digits)."""
    lowest = 10 ** (TICKET_DIGITS - 1)  # the first digit is not 0
    digits = str(lowest + secrets.randbelow(9 * lowest))
    return " ".join(
        digits[start : start + TICKET_GROUP] for start in range(0, TICKET_DIGITS, TICKET_GROUP)
    )


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
    # Held from the waitlist for another account (services/waitlist.py); 0: anyone's hold.
    held_now(Slot.id, now=bindparam("now"), except_user=bindparam("user")),
).where(Slot.id == bindparam("slot_id"))


async def is_slot_bookable(
    session: AsyncSession,
    *,
    slot_id: int,
    service_id: int,
    now: datetime,
    doctor_id: int | None = None,
    user_id: int | None = None,
) -> bool:
    """Open, in the future, of a doctor who provides the service, not actively booked, and
    not held from the waitlist for an account other than `user_id` (None: held for anyone).

    One statement (it runs on every press of a time): the slot's row with three EXISTS.
    """
    params = {"slot_id": slot_id, "service_id": service_id, "now": now, "user": user_id or 0}
    row = (await session.execute(_SLOT_STATE, params)).one_or_none()
    if row is None:
        return False
    slot_doctor, starts_at, is_open, provided, is_taken, is_held = row
    if doctor_id is not None and slot_doctor != doctor_id:
        return False
    return bool(is_open and starts_at > now and provided and not is_taken and not is_held)


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


async def lock_patient(session: AsyncSession, *, patient_id: int) -> None:
    """Serialise the patient's bookings and moves until this transaction ends.

    The limits are a read (the patient's upcoming bookings) followed by a write (the new or
    moved booking); two transactions of one patient, from two accounts that both know the
    patient's data, would otherwise both read "none yet" and both write. Whoever takes this
    lock second waits until the first commits or rolls back, then reads what it left.
    """
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks, and Python's sqlite3 driver (legacy transaction control,
        # db/engine.py) sends BEGIN (deferred) only before the first write: until then every
        # SELECT sees whatever is committed at that moment, so a check would not be isolated.
        # A write as the first statement takes the database's write lock (RESERVED; in WAL
        # mode the one writer's lock, waited for under busy_timeout), and a WAL write
        # transaction always starts on the newest snapshot: every later read of this
        # transaction sees every committed booking, and no other writer commits until this
        # transaction ends. A non-key column is rewritten with itself: nothing changes, and
        # rewriting the key would make SQLite check every table referencing patients.
        await session.execute(
            update(Patient)
            .where(Patient.id == patient_id)
            .values(last_name=Patient.last_name)
            .execution_options(synchronize_session=False)
        )
        return
    # PostgreSQL: the patient's row lock. Under READ COMMITTED each later statement takes a
    # fresh snapshot, so the check that follows sees the bookings the other one committed.
    # FOR NO KEY UPDATE (key_share) excludes the other lockers but not the KEY SHARE locks
    # that foreign-key checks take: rows that merely reference the patient are not held up.
    await session.execute(
        select(Patient.id).where(Patient.id == patient_id).with_for_update(key_share=True)
    )


def _limit_counts(
    *, patient_id: int, slot_id: int, now: datetime, ignore_booking_id: int | None
) -> Select[int, int | None]:
    """One row: how many upcoming active bookings the patient has, and the slot's doctor's
    id if one of them is with that doctor (else NULL)."""
    slot_doctor = select(Slot.doctor_id).where(Slot.id == slot_id).scalar_subquery()
    query = (
        select(
            func.count(Booking.id),
            func.max(case((Slot.doctor_id == slot_doctor, Slot.doctor_id))),
        )
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.patient_id == patient_id,
            Booking.status == BookingStatus.ACTIVE,
            Slot.starts_at > now,
        )
    )
    if ignore_booking_id is not None:
        query = query.where(Booking.id != ignore_booking_id)
    return query


async def check_limits(
    session: AsyncSession,
    *,
    patient_id: int,
    slot_id: int,
    now: datetime,
    limits: BookingLimits,
    ignore_booking_id: int | None = None,
) -> None:
    """Per-patient limits on upcoming active bookings (a move doesn't count against itself).

    Takes the patient's lock first (`lock_patient`): the caller's write that follows, in the
    same transaction, is then decided against every booking committed before it.
    """
    await lock_patient(session, patient_id=patient_id)
    query = _limit_counts(
        patient_id=patient_id, slot_id=slot_id, now=now, ignore_booking_id=ignore_booking_id
    )
    active, same_doctor = (await session.execute(query)).one()
    if limits.one_per_doctor and same_doctor is not None:
        # Only a refusal needs the doctor's name.
        doctor = await session.get(Doctor, same_doctor)
        raise LimitReachedError(LimitReason.SAME_DOCTOR, detail=doctor.short_name if doctor else "")
    if active >= limits.max_active:
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


def within_cutoff(starts_at: datetime, *, now: datetime, cutoff: timedelta) -> bool:
    """Whether at `now` the cut-off before a visit at `starts_at` has come: from then on a
    patient can no longer move it online (cancelling stays possible until the visit starts).

    The moment itself counts as within, so a reminder sent exactly `cutoff` before the visit
    offers no move (one it would refuse a second later); the reminder keyboards and the move
    itself both decide by this one rule. A zero cut-off is never reached before the start.
    """
    return cutoff > timedelta(0) and starts_at - now <= cutoff


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
    before the visit the change stops being possible online: a move passes the configured
    cut-off, a cancel none (it frees the time, so it is allowed until the visit starts).
    `lock` (a change will follow) takes the row lock on PostgreSQL; a screen that only shows
    the booking does without.
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
    if within_cutoff(booking.slot.starts_at, now=now, cutoff=cutoff):
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
