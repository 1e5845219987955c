"""Making a booking: one transaction, one active booking per slot, enforced by the database."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.ticket import TicketData
from db.models import (
    Booking,
    BookingStatus,
    Doctor,
    Patient,
    PatientDocument,
    Service,
    Slot,
    doctor_services,
)

# No 0/O, 1/I: the number is read aloud and typed by registry staff.
TICKET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TICKET_ATTEMPTS = 5


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
) -> Booking:
    """Book and commit, or raise SlotUnavailableError leaving nothing behind.

    The partial unique index on active bookings decides races: of two patients committing the
    same slot, exactly one insert succeeds whatever the code above it saw.
    """
    if not await is_slot_bookable(session, slot_id=slot_id, service_id=service_id, now=now):
        raise SlotUnavailableError
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
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            if await _slot_taken(session, slot_id=slot_id):
                raise SlotUnavailableError from None
            continue  # a ticket number collision: draw another
        return booking
    raise BookingError("could not allocate a unique ticket number")


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
