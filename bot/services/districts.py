"""District services (участковый терапевт, педиатр): who may book which doctor.

A service marked `by_district` is booked only by patients attached to its organization, and
only with the doctors of their own district. The patient is known only after identification
(or when a remembered patient is chosen), so the check runs when the booking is made; the
refusal names the reason and the doctors the patient may book instead (README explains why
the choice is not filtered earlier).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Doctor, Organization, Patient, Service, Slot, doctor_services

__all__ = ["DistrictDoctor", "DistrictReason", "DistrictRefusal", "district_refusal"]


class DistrictReason(enum.StrEnum):
    # Not attached to the service's organization at all: attach at its registry first.
    NOT_ATTACHED = "not_attached"
    # Attached, but the chosen doctor serves another district.
    OTHER_DISTRICT = "other_district"


@dataclass(frozen=True, slots=True)
class DistrictDoctor:
    doctor_id: int
    short_name: str
    position: str


@dataclass(frozen=True, slots=True)
class DistrictRefusal:
    reason: DistrictReason
    organization_name: str
    phone: str
    # The patient's own district and the chosen doctor's (OTHER_DISTRICT only).
    patient_district: str | None = None
    doctor_district: str | None = None
    # The service's doctors of the patient's district: what to book instead.
    doctors: tuple[DistrictDoctor, ...] = ()


async def district_refusal(
    session: AsyncSession, *, service_id: int, slot_id: int, patient_id: int
) -> DistrictRefusal | None:
    """Why this patient may not book this slot of a district service; None if they may."""
    row = (
        await session.execute(
            select(
                Service.by_district,
                Service.organization_id,
                Organization.short_name,
                Organization.phone,
                Doctor.district.label("doctor_district"),
                Patient.organization_id.label("attached_to"),
                Patient.district.label("patient_district"),
            )
            .join(Organization, Organization.id == Service.organization_id)
            .join(Slot, Slot.id == slot_id)
            .join(Doctor, Doctor.id == Slot.doctor_id)
            .join(Patient, Patient.id == patient_id)
            .where(Service.id == service_id)
        )
    ).first()
    if row is None or not row.by_district:
        return None
    if row.attached_to != row.organization_id:
        return DistrictRefusal(
            DistrictReason.NOT_ATTACHED, organization_name=row.short_name, phone=row.phone
        )
    if row.patient_district is not None and row.patient_district == row.doctor_district:
        return None
    doctors = (
        await _district_doctors(session, service_id=service_id, district=row.patient_district)
        if row.patient_district is not None
        else ()
    )
    return DistrictRefusal(
        DistrictReason.OTHER_DISTRICT,
        organization_name=row.short_name,
        phone=row.phone,
        patient_district=row.patient_district,
        doctor_district=row.doctor_district,
        doctors=doctors,
    )


async def _district_doctors(
    session: AsyncSession, *, service_id: int, district: str
) -> tuple[DistrictDoctor, ...]:
    rows = await session.execute(
        select(Doctor)
        .join(doctor_services, doctor_services.c.doctor_id == Doctor.id)
        .where(doctor_services.c.service_id == service_id, Doctor.district == district)
        .order_by(Doctor.last_name, Doctor.first_name)
    )
    return tuple(
        DistrictDoctor(doctor_id=doctor.id, short_name=doctor.short_name, position=doctor.position)
        for doctor in rows.scalars()
    )
