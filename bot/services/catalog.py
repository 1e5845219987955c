"""Read-only lookups of organizations, services and doctors."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import Doctor, Organization, Service, doctor_services


async def list_organizations(session: AsyncSession) -> Sequence[Organization]:
    return (await session.scalars(select(Organization).order_by(Organization.short_name))).all()


async def get_organization(session: AsyncSession, organization_id: int) -> Organization | None:
    return await session.get(Organization, organization_id)


async def list_services(session: AsyncSession, *, organization_id: int) -> Sequence[Service]:
    return (
        await session.scalars(
            select(Service).where(Service.organization_id == organization_id).order_by(Service.name)
        )
    ).all()


async def get_service(session: AsyncSession, service_id: int) -> Service | None:
    return await session.get(Service, service_id, options=[selectinload(Service.organization)])


async def list_doctors(session: AsyncSession, *, service_id: int) -> Sequence[Doctor]:
    return (
        await session.scalars(
            select(Doctor)
            .join(doctor_services, doctor_services.c.doctor_id == Doctor.id)
            .where(doctor_services.c.service_id == service_id)
            .order_by(Doctor.last_name, Doctor.first_name)
        )
    ).all()


async def get_doctor_for_service(
    session: AsyncSession, *, doctor_id: int, service_id: int
) -> Doctor | None:
    """The doctor, only if they provide the service (callback data can be forged)."""
    return await session.scalar(
        select(Doctor)
        .join(doctor_services, doctor_services.c.doctor_id == Doctor.id)
        .where(Doctor.id == doctor_id, doctor_services.c.service_id == service_id)
        .options(selectinload(Doctor.organization))
    )
