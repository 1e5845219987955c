"""What the registry looks up: bookings, doctors and a doctor's day, within a staff's access."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.base import ExecutableOption

from bot.services.slots import local_day_bounds
from bot.services.staff.access import StaffAccess
from db.models import Booking, BookingStatus, Doctor, Organization, Patient, Service, Slot


def _ticket_form(text: str) -> str:
    """Tickets are typed as ABCD-EFGH, abcd efgh or ABCDEFGH: all mean the same."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else text.upper()


def _spellings(name: str) -> set[str]:
    # SQLite's lower() knows only ASCII, so Cyrillic surnames are matched in the usual cases.
    return {name, name.lower(), name.upper(), name.capitalize(), name.title()}


def card_options() -> tuple[ExecutableOption, ...]:
    """What a staff card of a booking shows: its patient, doctor, service and organization."""
    return (
        selectinload(Booking.patient),
        selectinload(Booking.slot).selectinload(Slot.doctor),
        selectinload(Booking.service).selectinload(Service.organization),
    )


async def find_bookings(
    session: AsyncSession, *, query: str, access: StaffAccess, limit: int = 10
) -> Sequence[Booking]:
    """By ticket number, OMS number or surname; newest visits first, within the access."""
    text = query.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    conditions = [Booking.ticket_number == _ticket_form(text)]
    if digits and len(digits) == len(text.replace(" ", "").replace("-", "")):
        conditions.append(Patient.oms_number == digits)
    if text and not digits:
        conditions.append(Patient.last_name.in_(_spellings(text)))
    statement = (
        select(Booking)
        .join(Patient, Patient.id == Booking.patient_id)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Service, Service.id == Booking.service_id)
        .join(Organization, Organization.id == Service.organization_id)
        .where(or_(*conditions))
        .order_by(Slot.starts_at.desc())
        .limit(limit)
        .options(*card_options())
    )
    if access.organization_codes:
        statement = statement.where(Organization.code.in_(access.organization_codes))
    return (await session.scalars(statement)).all()


async def find_doctors(
    session: AsyncSession, *, query: str, access: StaffAccess
) -> Sequence[Doctor]:
    org_code, _, name = query.rpartition(":")
    statement = (
        select(Doctor)
        .join(Organization, Organization.id == Doctor.organization_id)
        .where(or_(Doctor.code == name, Doctor.last_name.in_(_spellings(name))))
        .options(selectinload(Doctor.organization))
        .order_by(Doctor.last_name)
    )
    if org_code:
        # Doctor codes are unique within an organization: "gp1:ivanova" picks one.
        statement = statement.where(Organization.code == org_code)
    if access.organization_codes:
        statement = statement.where(Organization.code.in_(access.organization_codes))
    return (await session.scalars(statement)).all()


async def doctors_in_scope(session: AsyncSession, *, access: StaffAccess) -> Sequence[Doctor]:
    statement = (
        select(Doctor)
        .join(Organization, Organization.id == Doctor.organization_id)
        .options(selectinload(Doctor.organization))
        .order_by(Organization.code, Doctor.last_name)
    )
    if access.organization_codes:
        statement = statement.where(Organization.code.in_(access.organization_codes))
    return (await session.scalars(statement)).all()


@dataclass(frozen=True, slots=True)
class DaySlot:
    slot: Slot
    booking: Booking | None


async def doctor_day(session: AsyncSession, *, doctor: Doctor, day: date) -> list[DaySlot]:
    """Every slot of the doctor's local day, free or booked and by whom."""
    since, until = local_day_bounds(day, ZoneInfo(doctor.organization.timezone))
    slots = (
        await session.scalars(
            select(Slot)
            .where(Slot.doctor_id == doctor.id, Slot.starts_at >= since, Slot.starts_at < until)
            .order_by(Slot.starts_at)
        )
    ).all()
    bookings = {
        b.slot_id: b
        for b in (
            await session.scalars(
                select(Booking)
                .where(
                    Booking.slot_id.in_([s.id for s in slots]),
                    Booking.status == BookingStatus.ACTIVE,
                )
                .options(selectinload(Booking.patient))
            )
        ).all()
    }
    return [DaySlot(slot=s, booking=bookings.get(s.id)) for s in slots]


async def booking_for(
    session: AsyncSession, *, booking_id: int, access: StaffAccess
) -> Booking | None:
    """A booking the staff member may act on, loaded for a card."""
    booking = await session.scalar(
        select(Booking).where(Booking.id == booking_id).options(*card_options())
    )
    if booking is None or not access.may_see(booking.service.organization.code):
        return None
    return booking
