"""One record of a booked visit, read by one query, for everything that shows a visit.

The ticket, the calendar file, reminders, notices and cards all say the same things about a
visit (where, when, with whom, which ticket, for whom); they read them from this record so
that a field added here (e.g. a room) reaches all of them at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import RowMapping, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.identity import mask
from db.models import (
    Booking,
    BookingStatus,
    Doctor,
    Organization,
    Patient,
    Service,
    Slot,
    full_name,
    room_on,
    short_name,
)


@dataclass(frozen=True, slots=True)
class VisitRecord:
    booking_id: int
    ticket_number: str
    status: BookingStatus
    # Raised at every change: the calendar file's SEQUENCE.
    revision: int
    confirmed_at: datetime | None
    slot_id: int
    starts_at: datetime
    ends_at: datetime
    timezone: str
    organization_id: int
    organization_code: str
    organization_name: str
    organization_short_name: str
    organization_address: str
    organization_phone: str
    doctor_id: int
    doctor_full_name: str
    doctor_short_name: str
    doctor_position: str
    service_id: int
    service_name: str
    patient_id: int
    patient_full_name: str
    patient_short_name: str
    # Only the last digits, as registries print them: the full number stays in the registry.
    patient_oms_masked: str
    telegram_user_id: int | None
    telegram_chat_id: int | None
    # Where to go: the doctor's room on the visit's weekday, and the organization's notes.
    room: str | None = None
    visit_notes: str | None = None
    # A paid service (not covered by the OMS policy) and its price in whole roubles.
    service_paid: bool = False
    service_price: int | None = None
    # Printed on the ticket, as registries expect; personal data: kept out of every repr.
    patient_birth_date: date | None = field(default=None, repr=False)

    @property
    def is_active(self) -> bool:
        return self.status is BookingStatus.ACTIVE


# Columns read as they are, labelled with the record's field names.
_COLUMNS = (
    Booking.id.label("booking_id"),
    Booking.ticket_number,
    Booking.status,
    Booking.revision,
    Booking.confirmed_at,
    Slot.id.label("slot_id"),
    Slot.starts_at,
    Slot.ends_at,
    Organization.timezone,
    Organization.id.label("organization_id"),
    Organization.code.label("organization_code"),
    Organization.name.label("organization_name"),
    Organization.short_name.label("organization_short_name"),
    Organization.address.label("organization_address"),
    Organization.phone.label("organization_phone"),
    Doctor.id.label("doctor_id"),
    Doctor.position.label("doctor_position"),
    Service.id.label("service_id"),
    Service.name.label("service_name"),
    Patient.id.label("patient_id"),
    Booking.telegram_user_id,
    Booking.telegram_chat_id,
    Organization.visit_notes,
    Service.paid.label("service_paid"),
    Service.price.label("service_price"),
    Patient.birth_date.label("patient_birth_date"),
)
# Name parts, composed into full and short names.
_NAMES = (
    Doctor.last_name.label("d_last"),
    Doctor.first_name.label("d_first"),
    Doctor.middle_name.label("d_middle"),
    Patient.last_name.label("p_last"),
    Patient.first_name.label("p_first"),
    Patient.middle_name.label("p_middle"),
    Patient.oms_number.label("p_oms"),
    Doctor.room.label("d_room"),
    Doctor.rooms.label("d_rooms"),
)


def _query() -> Select[*tuple[Any, ...]]:
    return (
        select(*_COLUMNS, *_NAMES)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Doctor, Doctor.id == Slot.doctor_id)
        .join(Service, Service.id == Booking.service_id)
        .join(Organization, Organization.id == Service.organization_id)
        .join(Patient, Patient.id == Booking.patient_id)
    )


def _record(row: RowMapping) -> VisitRecord:
    doctor = (row["d_last"], row["d_first"], row["d_middle"])
    patient = (row["p_last"], row["p_first"], row["p_middle"])
    fields: dict[str, Any] = {column.key: row[column.key] for column in _COLUMNS}
    return VisitRecord(
        **fields,
        doctor_full_name=full_name(*doctor),
        doctor_short_name=short_name(*doctor),
        patient_full_name=full_name(*patient),
        patient_short_name=short_name(*patient),
        patient_oms_masked=mask(row["p_oms"], visible=4),
        room=room_on(row["d_room"], row["d_rooms"], _local_weekday(row)),
    )


def _local_weekday(row: RowMapping) -> int:
    # The room of the day the patient comes, in the organization's calendar.
    return int(row["starts_at"].astimezone(ZoneInfo(row["timezone"])).weekday())


async def load_visit(session: AsyncSession, *, booking_id: int) -> VisitRecord | None:
    row = (await session.execute(_query().where(Booking.id == booking_id))).mappings().first()
    return _record(row) if row is not None else None


async def load_visits(
    session: AsyncSession, *, booking_ids: Sequence[int]
) -> dict[int, VisitRecord]:
    """Several visits in one query (a reminder digest, a list of bookings), by booking id."""
    if not booking_ids:
        return {}
    rows = (await session.execute(_query().where(Booking.id.in_(booking_ids)))).mappings()
    return {record.booking_id: record for record in map(_record, rows)}
