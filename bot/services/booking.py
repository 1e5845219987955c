"""Making a booking: one transaction, one active booking per slot, enforced by the database."""

from __future__ import annotations

import enum
import functools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ParamSpec

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from bot.services import audit, calendar
from bot.services.audit import Actor
from bot.services.reminder_plan import ReminderPolicy
from bot.services.reminders import Visit, cancel_for_booking, mark_reachable, plan_rows
from bot.services.ticket import TicketData
from db.models import (
    AccountPatient,
    AuditEntry,
    Booking,
    BookingStatus,
    Doctor,
    Organization,
    Patient,
    PatientDocument,
    Reminder,
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


async def is_slot_bookable(
    session: AsyncSession,
    *,
    slot_id: int,
    service_id: int,
    now: datetime,
    doctor_id: int | None = None,
) -> bool:
    slot = await session.get(Slot, slot_id)
    if slot is None or not slot.is_open or slot.starts_at <= now:
        return False
    if doctor_id is not None and slot.doctor_id != doctor_id:
        return False
    provides = await session.scalar(
        select(
            exists().where(
                doctor_services.c.doctor_id == slot.doctor_id,
                doctor_services.c.service_id == service_id,
            )
        )
    )
    taken = await session.scalar(
        select(exists().where(Booking.slot_id == slot_id, Booking.status == BookingStatus.ACTIVE))
    )
    return bool(provides) and not taken


async def book_slot(
    session: AsyncSession,
    *,
    slot_id: int,
    service_id: int,
    patient_id: int,
    telegram_user_id: int | None,
    telegram_chat_id: int | None,
    now: datetime,
    reminders: ReminderPolicy | None = None,
    limits: BookingLimits | None = None,
    actor: Actor | None = None,
) -> Booking:
    """Book and commit, or raise SlotUnavailableError leaving nothing behind.

    The partial unique index on active bookings decides races: of two patients committing the
    same slot, exactly one insert succeeds whatever the code above it saw. The reminders are
    planned in the same transaction, so a booking never exists without them.
    """
    if not await is_slot_bookable(session, slot_id=slot_id, service_id=service_id, now=now):
        raise SlotUnavailableError
    if limits is not None:
        await _check_limits(session, patient_id=patient_id, slot_id=slot_id, now=now, limits=limits)
    visit = await _visit(session, slot_id=slot_id)
    for _ in range(TICKET_ATTEMPTS):
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
            actor=actor or Actor.patient(telegram_user_id),
            now=now,
            after={**audit.snapshot(booking), "starts_at": visit.starts_at.isoformat()},
        )
        if reminders is not None and telegram_chat_id is not None:
            booking.reminders = plan_rows(visit=visit, policy=reminders, now=now)
        try:
            if telegram_chat_id is not None:
                # Booking again means the patient talks to the bot: reminders may go there.
                await mark_reachable(session, chat_id=telegram_chat_id)
            await session.commit()
        except IntegrityError:
            await session.rollback()
            if await _slot_taken(session, slot_id=slot_id):
                raise SlotUnavailableError from None
            continue  # a ticket number collision: draw another
        return booking
    raise BookingError("could not allocate a unique ticket number")


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


def _refuse_when_overtaken(
    change: Callable[P, Awaitable[Booking]],
) -> Callable[P, Awaitable[Booking]]:
    """Another change to the same booking got there first (the revision moved on): refuse.

    The stale UPDATE may fail at any flush, not only at the final commit.
    """

    @functools.wraps(change)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> Booking:
        try:
            return await change(*args, **kwargs)
        except StaleDataError:
            session = kwargs.get("session", args[0] if args else None)
            assert isinstance(session, AsyncSession)
            await session.rollback()
            raise NotChangeableError(ChangeRefusal.CHANGED) from None

    return guarded


async def _check_limits(
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


async def _visit(session: AsyncSession, *, slot_id: int) -> Visit:
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
) -> Booking:
    """The account's own active, future booking, still at `slot_id` if given; else refuse.

    The account's own: booked from it, or of a patient it remembers. `cutoff` is how long
    before the visit changes stop being possible online.
    """
    booking = await session.scalar(
        select(Booking)
        .where(Booking.id == booking_id)
        .options(
            selectinload(Booking.slot),
            selectinload(Booking.service).selectinload(Service.organization),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
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


@_refuse_when_overtaken
async def confirm_booking(
    session: AsyncSession, *, booking_id: int, slot_id: int, telegram_user_id: int, now: datetime
) -> Booking:
    booking = await changeable_booking(
        session,
        booking_id=booking_id,
        slot_id=slot_id,
        telegram_user_id=telegram_user_id,
        now=now,
    )
    if booking.confirmed_at is None:
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
    await session.commit()
    return booking


@_refuse_when_overtaken
async def cancel_booking(
    session: AsyncSession,
    *,
    booking_id: int,
    slot_id: int,
    telegram_user_id: int,
    now: datetime,
    cutoff: timedelta = timedelta(0),
    actor: Actor | None = None,
    reason: str | None = None,
) -> Booking:
    """Cancel and free the slot at once; planned reminders are cancelled with it."""
    booking = await changeable_booking(
        session,
        booking_id=booking_id,
        slot_id=slot_id,
        telegram_user_id=telegram_user_id,
        now=now,
        cutoff=cutoff,
    )
    return await _cancel(
        session,
        booking=booking,
        actor=actor or Actor.patient(telegram_user_id),
        reason=reason,
        now=now,
    )


@_refuse_when_overtaken
async def cancel_booking_by_staff(
    session: AsyncSession,
    *,
    booking_id: int,
    staff_telegram_id: int,
    organization_codes: tuple[str, ...],
    reason: str,
    now: datetime,
) -> Booking:
    """The registry cancels with a reason: no ownership or cut-off, only the staff's scope."""
    booking = await _staff_booking(
        session, booking_id=booking_id, organization_codes=organization_codes, now=now
    )
    return await _cancel(
        session, booking=booking, actor=Actor.staff(staff_telegram_id), reason=reason, now=now
    )


async def _staff_booking(
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


async def _cancel(
    session: AsyncSession,
    *,
    booking: Booking,
    actor: Actor,
    reason: str | None,
    now: datetime,
    commit: bool = True,
) -> Booking:
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
    if commit:
        await session.commit()
    return booking


async def cancel_in_closure(
    session: AsyncSession, *, booking: Booking, staff_telegram_id: int, reason: str, now: datetime
) -> Booking:
    """Cancel inside the caller's transaction (closing a day cancels all its bookings at once)."""
    return await _cancel(
        session,
        booking=booking,
        actor=Actor.staff(staff_telegram_id),
        reason=reason,
        now=now,
        commit=False,
    )


@_refuse_when_overtaken
async def move_booking(
    session: AsyncSession,
    *,
    booking_id: int,
    slot_id: int,
    new_slot_id: int,
    telegram_user_id: int,
    now: datetime,
    reminders: ReminderPolicy,
    cutoff: timedelta = timedelta(0),
    limits: BookingLimits | None = None,
    actor: Actor | None = None,
    reason: str | None = None,
) -> Booking:
    """One transaction: the old slot is released only if the new one is taken."""
    booking = await changeable_booking(
        session,
        booking_id=booking_id,
        slot_id=slot_id,
        telegram_user_id=telegram_user_id,
        now=now,
        cutoff=cutoff,
    )
    return await _move(
        session,
        booking=booking,
        new_slot_id=new_slot_id,
        now=now,
        reminders=reminders,
        limits=limits,
        actor=actor or Actor.patient(telegram_user_id),
        reason=reason,
    )


@_refuse_when_overtaken
async def move_booking_by_staff(
    session: AsyncSession,
    *,
    booking_id: int,
    new_slot_id: int,
    staff_telegram_id: int,
    organization_codes: tuple[str, ...],
    now: datetime,
    reminders: ReminderPolicy,
) -> Booking:
    """The registry moves a booking: its scope only; no cut-off and no per-patient limits."""
    booking = await _staff_booking(
        session, booking_id=booking_id, organization_codes=organization_codes, now=now
    )
    return await _move(
        session,
        booking=booking,
        new_slot_id=new_slot_id,
        now=now,
        reminders=reminders,
        limits=None,
        actor=Actor.staff(staff_telegram_id),
        reason=None,
    )


async def _move(
    session: AsyncSession,
    *,
    booking: Booking,
    new_slot_id: int,
    now: datetime,
    reminders: ReminderPolicy,
    limits: BookingLimits | None,
    actor: Actor,
    reason: str | None,
) -> Booking:
    slot_id = booking.slot_id
    # Any doctor who provides the booked service will do, but not another service.
    if new_slot_id == slot_id:
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
    if limits is not None:
        await _check_limits(
            session,
            patient_id=booking.patient_id,
            slot_id=new_slot_id,
            now=now,
            limits=limits,
            ignore_booking_id=booking.id,
        )
    await cancel_for_booking(session, booking_id=booking.id)
    await session.flush()
    before = audit.snapshot(booking, starts_at=booking.slot.starts_at)
    booking.slot_id = new_slot_id
    booking.confirmed_at = None
    booking.updated_at = now
    visit = await _visit(session, slot_id=new_slot_id)
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
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise SlotUnavailableError from None
    return booking


async def _slot_taken(session: AsyncSession, *, slot_id: int) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(Booking.slot_id == slot_id, Booking.status == BookingStatus.ACTIVE)
            )
        )
    )


async def load_ticket(session: AsyncSession, *, booking_id: int, now: datetime) -> TicketData:
    booking = await session.scalar(
        select(Booking)
        .where(Booking.id == booking_id)
        .options(
            selectinload(Booking.patient),
            selectinload(Booking.service).selectinload(Service.organization),
            selectinload(Booking.slot).selectinload(Slot.doctor),
        )
        # The booking may sit in the session from before a move, with its old slot attached.
        .execution_options(populate_existing=True)
    )
    if booking is None:
        raise BookingError(f"booking {booking_id} not found")
    org = booking.service.organization
    doctor: Doctor = booking.slot.doctor
    return TicketData(
        ticket_number=booking.ticket_number,
        organization_name=org.name,
        organization_address=org.address,
        organization_phone=org.phone,
        doctor_full_name=doctor.full_name,
        doctor_position=doctor.position,
        service_name=booking.service.name,
        patient_full_name=booking.patient.full_name,
        starts_at=booking.slot.starts_at,
        timezone=org.timezone,
        issued_at=now,
    )


async def booking_calendar(
    session: AsyncSession, *, booking_id: int, now: datetime, cancelled: bool = False
) -> bytes:
    """The booking's .ics: the event, or (after a cancellation) its CANCEL with the same UID."""
    booking = await session.scalar(
        select(Booking)
        .where(Booking.id == booking_id)
        .options(
            selectinload(Booking.service).selectinload(Service.organization),
            selectinload(Booking.slot).selectinload(Slot.doctor),
        )
        .execution_options(populate_existing=True)
    )
    if booking is None:
        raise BookingError(f"booking {booking_id} not found")
    org = booking.service.organization
    make = calendar.booking_cancellation if cancelled else calendar.booking_event
    return make(
        uid=f"booking-{booking.id}@talon",
        ticket_number=booking.ticket_number,
        starts_at=booking.slot.starts_at,
        ends_at=booking.slot.ends_at,
        tz_name=org.timezone,
        organization_name=org.name,
        organization_address=org.address,
        organization_phone=org.phone,
        doctor_full_name=booking.slot.doctor.full_name,
        doctor_position=booking.slot.doctor.position,
        service_name=booking.service.name,
        sequence=booking.revision,
        now=now,
    )


async def book_alternative(
    session: AsyncSession,
    *,
    cancelled_booking_id: int,
    slot_id: int,
    telegram_user_id: int,
    now: datetime,
    reminders: ReminderPolicy,
    limits: BookingLimits,
    horizon_days: int,
) -> Booking:
    """One press on an alternative offered after the registry cancelled a booking.

    Only the chat that was told may use the offer, only once, and only for the same patient
    and service; a time taken meanwhile is refused like any other.
    """
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
    # Offers exist only for what the registry cancelled, and only within the booking horizon.
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
    new = await book_slot(
        session,
        slot_id=slot_id,
        service_id=old.service_id,
        patient_id=old.patient_id,
        telegram_user_id=telegram_user_id,
        telegram_chat_id=old.telegram_chat_id,
        now=now,
        reminders=reminders,
        limits=limits,
    )
    old.rebooked_as_id = new.id
    audit.record(
        session,
        booking=old,
        action="rebooked",
        actor=Actor.patient(telegram_user_id),
        now=now,
        after={"rebooked_as": new.ticket_number},
    )
    await session.commit()
    return new
