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

from bot.services.booking import TICKET_DIGITS, TICKET_GROUP
from bot.services.slots import local_day_bounds
from bot.services.staff.access import StaffAccess
from db.models import Booking, BookingStatus, Doctor, Organization, Patient, Service, Slot

# An older ticket number's length without its dash (stored "LTQ5-VD92"); new ones have
# TICKET_DIGITS digits (stored "482 917 305", bot/services/booking.py).
OLD_TICKET_CHARS = 8


def _compact(text: str) -> str:
    """The text without the spaces and dashes an OMS number is typed with."""
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-‐‑‒–—")


def ticket_form(text: str) -> str:
    """A ticket number as stored, however the registry typed it from a patient's dictation.

    New numbers: "482 917 305", "482917305", "482-917-305", "482 917305" all mean
    "482 917 305". Old ones: "LTQ5-VD92", "ltq5vd92", "LTQ5 VD92" all mean "LTQ5-VD92".
    Spaces, dashes and any other punctuation between the characters are separators only.
    Anything else (an imported number, a surname) is only trimmed and upper-cased.
    """
    raw = "".join(ch for ch in text if ch.isalnum())
    if len(raw) == TICKET_DIGITS and raw.isascii() and raw.isdigit():
        return " ".join(
            raw[start : start + TICKET_GROUP] for start in range(0, TICKET_DIGITS, TICKET_GROUP)
        )
    if len(raw) == OLD_TICKET_CHARS and raw.isascii() and raw.isalnum():
        return f"{raw[:4]}-{raw[4:]}".upper()
    return text.strip().upper()


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
    compact = _compact(text)
    conditions = [Booking.ticket_number == ticket_form(text)]
    if compact.isascii() and compact.isdigit():
        # Digits alone are an OMS number too, whatever their length: a unified one has 16
        # digits, but older policies 6 to 16 (bot/services/identity.py), so a 9-digit query is
        # both a ticket number and a possible OMS, and a 9-digit policy still finds its patient.
        conditions.append(Patient.oms_number == compact)
    if text and not any(ch.isdigit() for ch in text):
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


async def find_ticket(session: AsyncSession, *, query: str, access: StaffAccess) -> Booking | None:
    """The booking whose ticket number `query` is, however typed (see `ticket_form`), within
    the access; None for anything else (an OMS number or a surname finds no ticket here)."""
    booking = await session.scalar(
        select(Booking).where(Booking.ticket_number == ticket_form(query)).options(*card_options())
    )
    if booking is None or not access.may_see(booking.service.organization.code):
        return None
    return booking


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


async def next_working_day(
    session: AsyncSession, *, doctor: Doctor, after: date, last: date
) -> date | None:
    """The first local day after `after`, up to `last` included, with an open slot of the
    doctor (booked or free: a fully booked day is a working day, a wholly closed one is not);
    None if there is none. One look-up on the (doctor, start) index."""
    tz = ZoneInfo(doctor.organization.timezone)
    _, since = local_day_bounds(after, tz)
    _, until = local_day_bounds(last, tz)
    first = await session.scalar(
        select(Slot.starts_at)
        .where(
            Slot.doctor_id == doctor.id,
            Slot.starts_at >= since,
            Slot.starts_at < until,
            Slot.is_open.is_(True),
        )
        .order_by(Slot.starts_at)
        .limit(1)
    )
    return None if first is None else first.astimezone(tz).date()


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
