"""Organizations, services and doctors: read from memory, reloaded when an import changed them.

Every click of the booking dialogue shows some of them; they change only when the registry
is imported. So each process keeps one immutable snapshot per database (`Reference`), and
compares its version with the stamp every update reads anyway (bot/services/account_facts.py).
An import increments the stamp in its own transaction (`bump_reference_version`), so a bot
in another process reloads at its next update. Callers get frozen records, never ORM objects:
they can't lazy-load, and are safe to share between updates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.ordering import natural_key
from bot.unit import current_unit
from db.models import Doctor, Organization, ReferenceStamp, Service, doctor_services, room_on
from db.models import full_name as _full_name
from db.models import short_name as _short_name


@dataclass(frozen=True, slots=True)
class OrganizationRef:
    id: int
    code: str
    name: str
    short_name: str
    address: str
    phone: str
    timezone: str


@dataclass(frozen=True, slots=True)
class ServiceRef:
    id: int
    code: str
    name: str
    organization: OrganizationRef
    paid: bool = False
    price: int | None = None
    by_district: bool = False
    # The state's guarantee on waiting times (services/guarantee.py).
    max_wait_hours: int | None = None
    max_wait_working_days: int | None = None

    @property
    def organization_id(self) -> int:
        return self.organization.id


@dataclass(frozen=True, slots=True)
class DoctorRef:
    id: int
    code: str
    last_name: str
    first_name: str
    middle_name: str | None
    position: str
    slot_minutes: int
    organization: OrganizationRef
    room: str | None = None
    # A dict: left out of the record's hash (the record stays usable as a key).
    rooms: dict[str, str] | None = field(default=None, hash=False, compare=False)
    district: str | None = None

    @property
    def organization_id(self) -> int:
        return self.organization.id

    @property
    def full_name(self) -> str:
        return _full_name(self.last_name, self.first_name, self.middle_name)

    @property
    def short_name(self) -> str:
        return _short_name(self.last_name, self.first_name, self.middle_name)

    def room_on(self, weekday: int) -> str | None:
        return room_on(self.room, self.rooms, weekday)


@dataclass(frozen=True, slots=True)
class Reference:
    version: int
    # Lists as the reader expects them: «№ 3» before «№ 14» (bot/services/ordering.py).
    organizations: tuple[OrganizationRef, ...]  # by short name
    services_of: dict[int, tuple[ServiceRef, ...]] = field(repr=False)  # by organization, by name
    doctors_of: dict[int, tuple[DoctorRef, ...]] = field(repr=False)  # by service, by name
    organization_by_id: dict[int, OrganizationRef] = field(repr=False)
    service_by_id: dict[int, ServiceRef] = field(repr=False)
    doctor_by_id: dict[int, DoctorRef] = field(repr=False)


_snapshots: WeakKeyDictionary[Engine, Reference] = WeakKeyDictionary()


async def reference(session: AsyncSession) -> Reference:
    """The current snapshot; the stamp comes from the update's facts when there is one."""
    unit = current_unit()
    version = unit.reference_version if unit is not None and unit.session is session else None
    if version is None:
        version = await _stamp(session)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    known = _snapshots.get(engine)
    if known is None or known.version != version:
        known = await _load(session, version=version)
        _snapshots[engine] = known
    return known


async def _stamp(session: AsyncSession) -> int:
    return int(await session.scalar(select(ReferenceStamp.version)) or 0)


async def bump_reference_version(session: AsyncSession) -> None:
    """Called by whatever changes organizations, services, doctors or hours (not committed)."""
    await session.execute(update(ReferenceStamp).values(version=ReferenceStamp.version + 1))


def _columns(model: type[Any], record: type[Any]) -> list[Any]:
    """The model's columns named like the record's fields (its references excepted)."""
    names = [f.name for f in fields(record) if f.name != "organization"]
    return [getattr(model, name) for name in names]


async def _load(session: AsyncSession, *, version: int) -> Reference:
    organizations = {
        row.id: OrganizationRef(**row._mapping)
        for row in await session.execute(select(*_columns(Organization, OrganizationRef)))
    }

    async def with_organization(model: type[Any], record: type[Any]) -> dict[int, Any]:
        query = select(*_columns(model, record), model.organization_id)
        rows = (row._mapping for row in await session.execute(query))
        return {
            row["id"]: record(
                **{k: v for k, v in row.items() if k != "organization_id"},
                organization=organizations[row["organization_id"]],
            )
            for row in rows
        }

    services: dict[int, ServiceRef] = await with_organization(Service, ServiceRef)
    doctors: dict[int, DoctorRef] = await with_organization(Doctor, DoctorRef)
    services_of: dict[int, list[ServiceRef]] = {}
    for service in sorted(services.values(), key=lambda s: (natural_key(s.name), s.id)):
        services_of.setdefault(service.organization.id, []).append(service)
    doctors_of: dict[int, list[DoctorRef]] = {}
    links = await session.execute(select(doctor_services.c.service_id, doctor_services.c.doctor_id))
    for service_id, doctor_id in links:
        doctors_of.setdefault(service_id, []).append(doctors[doctor_id])
    return Reference(
        version=version,
        organizations=tuple(
            sorted(organizations.values(), key=lambda o: (natural_key(o.short_name), o.id))
        ),
        services_of={org: tuple(items) for org, items in services_of.items()},
        doctors_of={
            service: tuple(sorted(items, key=_doctor_order))
            for service, items in doctors_of.items()
        },
        organization_by_id=organizations,
        service_by_id=services,
        doctor_by_id=doctors,
    )


def _doctor_order(doctor: DoctorRef) -> tuple[Any, ...]:
    return (natural_key(doctor.last_name, doctor.first_name, doctor.middle_name), doctor.id)


async def list_organizations(session: AsyncSession) -> Sequence[OrganizationRef]:
    return (await reference(session)).organizations


async def get_organization(session: AsyncSession, organization_id: int) -> OrganizationRef | None:
    return (await reference(session)).organization_by_id.get(organization_id)


async def list_services(session: AsyncSession, *, organization_id: int) -> Sequence[ServiceRef]:
    return (await reference(session)).services_of.get(organization_id, ())


async def get_service(session: AsyncSession, service_id: int) -> ServiceRef | None:
    return (await reference(session)).service_by_id.get(service_id)


async def list_doctors(session: AsyncSession, *, service_id: int) -> Sequence[DoctorRef]:
    return (await reference(session)).doctors_of.get(service_id, ())


async def get_doctor_for_service(
    session: AsyncSession, *, doctor_id: int, service_id: int
) -> DoctorRef | None:
    """The doctor, only if they provide the service (callback data can be forged)."""
    for doctor in (await reference(session)).doctors_of.get(service_id, ()):
        if doctor.id == doctor_id:
            return doctor
    return None


async def get_doctor(session: AsyncSession, doctor_id: int) -> DoctorRef | None:
    return (await reference(session)).doctor_by_id.get(doctor_id)
