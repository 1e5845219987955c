"""Writing a checked file into the database: an upsert by code, all or nothing.

Organizations, services and doctors are found by their codes and patients by their OMS number;
what the file names is created or overwritten, what it does not name is left alone. The
imported doctors' slots are then regenerated for the booking horizon.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.catalog import bump_reference_version
from bot.services.importing.errors import ImportErrors, ImportIssue
from bot.services.importing.schema import (
    DoctorPlan,
    DocumentPlan,
    ImportPlan,
    OrganizationPlan,
    PatientPlan,
    ServicePlan,
)
from bot.services.importing.validation import validate
from bot.services.slots import generate_slots
from db.models import Doctor, Organization, Patient, PatientDocument, Service, WorkingHours

__all__ = ["ImportReport", "Tally", "import_data"]

logger = logging.getLogger(__name__)

# SQLite refuses statements with more bound parameters than this (999 on old builds).
_IN_CHUNK: Final = 500


# --- The report ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    created: int = 0
    # Found by its key and overwritten with the file's values, whether or not anything differed.
    updated: int = 0

    def count(self, *, created: bool) -> None:
        if created:
            self.created += 1
        else:
            self.updated += 1


@dataclass(slots=True)
class ImportReport:
    organizations: Tally = field(default_factory=Tally)
    services: Tally = field(default_factory=Tally)
    doctors: Tally = field(default_factory=Tally)
    patients: Tally = field(default_factory=Tally)
    slots_added: int = 0

    def summary(self) -> str:
        parts = [
            f"{title}: создано {tally.created}, обновлено {tally.updated}"
            for title, tally in (
                ("организации", self.organizations),
                ("услуги", self.services),
                ("врачи", self.doctors),
                ("пациенты", self.patients),
            )
        ]
        return f"Импорт выполнен. {'; '.join(parts)}; новых слотов: {self.slots_added}."


# --- The transaction -----------------------------------------------------------------------------


def _latest_date_on_earth(now: datetime) -> date:
    # A child born today in Kamchatka (UTC+12, +14 at the Line Islands) must not be "in the
    # future" for a server that still lives in yesterday by UTC.
    return (now.astimezone(UTC) + timedelta(hours=14)).date()


async def import_data(
    session: AsyncSession,
    *,
    data: Mapping[str, Any],
    now: datetime,
    horizon_days: int,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Validate `data` fully, then upsert it and regenerate the imported doctors' slots.

    The session's transaction is owned here: committed on success, rolled back on any error,
    so a refused file leaves the database exactly as it was. `progress` hears the slot
    generation's (doctors done, doctors total), see `generate_slots`.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    plan = validate(data, today=_latest_date_on_earth(now))
    try:
        report = await _apply(
            session, plan=plan, now=now, horizon_days=horizon_days, progress=progress
        )
        # In the same transaction: running bots reload their cached reference data.
        await bump_reference_version(session)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    logger.info("import applied: %s", report.summary())
    return report


async def _apply(
    session: AsyncSession,
    *,
    plan: ImportPlan,
    now: datetime,
    horizon_days: int,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    doctors = await _apply_organizations(session, organizations=plan.organizations, report=report)
    await _apply_patients(session, patients=plan.patients, report=report)
    await session.flush()
    if doctors:
        report.slots_added = await generate_slots(
            session,
            now=now,
            horizon_days=horizon_days,
            doctor_ids=[doctor.id for doctor in doctors],
            progress=progress,
        )
    return report


# --- Organizations, services, doctors ------------------------------------------------------------


async def _apply_organizations(
    session: AsyncSession, *, organizations: Sequence[OrganizationPlan], report: ImportReport
) -> list[Doctor]:
    """Upsert the organizations with their services and doctors; the doctors touched."""
    existing = await _stored_organizations(session, codes=[org.code for org in organizations])
    touched: list[Doctor] = []
    for plan in organizations:
        stored = existing.get(plan.code)
        org = _upsert_organization(session, plan=plan, stored=stored, report=report)
        services, doctors = _children_by_code(stored)
        _upsert_services(session, org=org, plans=plan.services, known=services, report=report)
        for doctor_plan in plan.doctors:
            doctor = _upsert_doctor(
                session, org=org, plan=doctor_plan, known=doctors, report=report
            )
            _fill_doctor(doctor, plan=doctor_plan, services=services)
            touched.append(doctor)
    await session.flush()
    return touched


async def _stored_organizations(
    session: AsyncSession, *, codes: list[str]
) -> dict[str, Organization]:
    # Everything the upsert compares is loaded up front: a lazy load would fail under asyncio.
    found = await session.scalars(
        select(Organization)
        .where(Organization.code.in_(codes))
        .options(
            selectinload(Organization.services),
            selectinload(Organization.doctors).selectinload(Doctor.services),
            selectinload(Organization.doctors).selectinload(Doctor.hours),
        )
    )
    return {org.code: org for org in found.all()}


def _upsert_organization(
    session: AsyncSession,
    *,
    plan: OrganizationPlan,
    stored: Organization | None,
    report: ImportReport,
) -> Organization:
    report.organizations.count(created=stored is None)
    org = stored
    if org is None:
        org = Organization(code=plan.code)
        session.add(org)
    org.name = plan.name
    org.short_name = plan.short_name
    org.address = plan.address
    org.phone = plan.phone
    org.timezone = plan.timezone
    org.visit_notes = plan.visit_notes
    return org


def _children_by_code(
    stored: Organization | None,
) -> tuple[dict[str, Service], dict[str, Doctor]]:
    # A new organization has no children to find; a stored one has them loaded already.
    if stored is None:
        return {}, {}
    services = {service.code: service for service in stored.services}
    return services, {doctor.code: doctor for doctor in stored.doctors}


def _upsert_services(
    session: AsyncSession,
    *,
    org: Organization,
    plans: Sequence[ServicePlan],
    known: dict[str, Service],
    report: ImportReport,
) -> None:
    """Create or overwrite the services; new ones are added to `known` for the doctors."""
    for plan in plans:
        service = known.get(plan.code)
        report.services.count(created=service is None)
        if service is None:
            # SQLAlchemy 2 no longer cascades along backrefs: each new row is added itself.
            service = Service(organization=org, code=plan.code)
            session.add(service)
            known[plan.code] = service
        service.name = plan.name
        service.paid = plan.paid
        service.price = plan.price
        service.by_district = plan.by_district
        service.max_wait_hours = plan.max_wait_hours
        service.max_wait_working_days = plan.max_wait_working_days


def _upsert_doctor(
    session: AsyncSession,
    *,
    org: Organization,
    plan: DoctorPlan,
    known: Mapping[str, Doctor],
    report: ImportReport,
) -> Doctor:
    doctor = known.get(plan.code)
    report.doctors.count(created=doctor is None)
    if doctor is None:
        doctor = Doctor(organization=org, code=plan.code, services=[], hours=[])
        session.add(doctor)
    return doctor


def _fill_doctor(doctor: Doctor, *, plan: DoctorPlan, services: Mapping[str, Service]) -> None:
    doctor.last_name = plan.last_name
    doctor.first_name = plan.first_name
    doctor.middle_name = plan.middle_name
    doctor.position = plan.position
    doctor.slot_minutes = plan.slot_minutes
    doctor.room = plan.room
    # Keys as text: JSON objects have no integer keys on either database.
    rooms = {str(weekday): room for weekday, room in plan.rooms} or None
    if doctor.rooms != rooms:
        doctor.rooms = rooms
    doctor.district = plan.district
    wanted_services = [services[code] for code in plan.service_codes]
    if {id(service) for service in doctor.services} != {id(s) for s in wanted_services}:
        doctor.services = wanted_services
    # Rows are replaced only when the week actually changed, so a re-import of the same file
    # writes nothing.
    have = sorted((h.weekday, h.start_time, h.end_time) for h in doctor.hours)
    if have != list(plan.hours):
        doctor.hours = [
            WorkingHours(weekday=weekday, start_time=start, end_time=end)
            for weekday, start, end in plan.hours
        ]


# --- Patients ------------------------------------------------------------------------------------


async def _apply_patients(
    session: AsyncSession, *, patients: Sequence[PatientPlan], report: ImportReport
) -> None:
    stored = await _stored_patients(session, oms_numbers=sorted({p.oms for p in patients}))
    attached = await _organization_ids(session, patients=patients)
    for plan in patients:
        patient = stored.get(plan.oms)
        report.patients.count(created=patient is None)
        if patient is None:
            patient = _new_patient(plan)
            session.add(patient)
        else:
            _update_patient(patient, plan=plan)
        patient.organization_id = attached.get(plan.organization) if plan.organization else None
        patient.district = plan.district


async def _organization_ids(
    session: AsyncSession, *, patients: Sequence[PatientPlan]
) -> dict[str, int]:
    """The ids of the organizations the patients are attached to, by code (flushed already).

    An unknown code refuses the whole file: it is in neither this file nor the database.
    """
    codes = sorted({plan.organization for plan in patients if plan.organization})
    if not codes:
        return {}
    await session.flush()
    rows = await session.execute(
        select(Organization.code, Organization.id).where(Organization.code.in_(codes))
    )
    ids: dict[str, int] = {row.code: row.id for row in rows}
    unknown = [plan for plan in patients if plan.organization and plan.organization not in ids]
    if unknown:
        raise ImportErrors(
            [
                ImportIssue(
                    f"{plan.location}.organization",
                    f"организации с кодом «{plan.organization}» нет ни в файле, ни в базе",
                )
                for plan in unknown
            ]
        )
    return ids


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


async def _stored_patients(
    session: AsyncSession, *, oms_numbers: Sequence[str]
) -> dict[str, Patient]:
    """The stored patients with these OMS numbers, by number, their documents loaded."""
    by_oms: dict[str, Patient] = {}
    for chunk in _chunks(oms_numbers):
        found = await session.scalars(
            select(Patient)
            .where(Patient.oms_number.in_(chunk))
            .options(selectinload(Patient.documents))
        )
        by_oms.update({patient.oms_number: patient for patient in found})
    return by_oms


def _new_patient(plan: PatientPlan) -> Patient:
    return Patient(
        last_name=plan.last_name,
        first_name=plan.first_name,
        middle_name=plan.middle_name,
        birth_date=plan.birth_date,
        oms_number=plan.oms,
        documents=[
            PatientDocument(kind=document.kind, number=document.number)
            for document in plan.documents
        ],
    )


def _update_patient(patient: Patient, *, plan: PatientPlan) -> None:
    patient.last_name = plan.last_name
    patient.first_name = plan.first_name
    patient.middle_name = plan.middle_name
    patient.birth_date = plan.birth_date
    _replace_documents(patient, documents=plan.documents)


def _replace_documents(patient: Patient, *, documents: Sequence[DocumentPlan]) -> None:
    # The file's list replaces the stored one; rows that stay are left untouched, so a
    # re-import of the same file writes nothing.
    wanted = {(document.kind, document.number) for document in documents}
    for stored in list(patient.documents):
        if (stored.kind, stored.number) not in wanted:
            patient.documents.remove(stored)
    have = {(document.kind, document.number) for document in patient.documents}
    for document in documents:
        if (document.kind, document.number) not in have:
            patient.documents.append(PatientDocument(kind=document.kind, number=document.number))
