"""Patients remembered for a Telegram account, the account's bookings, and consent withdrawal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from bot.services.audit import Actor
from bot.services.booking import BookingError
from bot.services.consent import delete_consents
from bot.services.reminders import IN_FLIGHT
from bot.services.visits import VisitRecord, load_visits
from db.models import (
    AccountPatient,
    Booking,
    BookingStatus,
    Consent,
    Patient,
    Reminder,
    ReminderState,
    Service,
    Slot,
)


async def remember_from_booking(
    session: AsyncSession, *, telegram_user_id: int, booking_id: int, now: datetime
) -> Patient:
    """Remember the patient of a booking this account made: identification already proved it."""
    booking = await session.get(Booking, booking_id)
    if (
        booking is None
        or booking.telegram_user_id != telegram_user_id
        or booking.status is not BookingStatus.ACTIVE
    ):
        raise BookingError("no such active booking of this account")
    return await remember_patient(
        session, telegram_user_id=telegram_user_id, patient_id=booking.patient_id, now=now
    )


async def remember_patient(
    session: AsyncSession, *, telegram_user_id: int, patient_id: int, now: datetime
) -> Patient:
    """Link a patient this account has just proved to know (identified or booked)."""
    if not await is_remembered(session, telegram_user_id=telegram_user_id, patient_id=patient_id):
        session.add(
            AccountPatient(telegram_user_id=telegram_user_id, patient_id=patient_id, created_at=now)
        )
        await session.flush()
    patient = await session.get(Patient, patient_id)
    assert patient is not None
    return patient


async def is_remembered(session: AsyncSession, *, telegram_user_id: int, patient_id: int) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    AccountPatient.telegram_user_id == telegram_user_id,
                    AccountPatient.patient_id == patient_id,
                )
            )
        )
    )


async def remembered_patients(session: AsyncSession, *, telegram_user_id: int) -> Sequence[Patient]:
    return (
        await session.scalars(
            select(Patient)
            .join(AccountPatient, AccountPatient.patient_id == Patient.id)
            .where(AccountPatient.telegram_user_id == telegram_user_id)
            .order_by(AccountPatient.created_at, Patient.id)
        )
    ).all()


async def forget_patient(session: AsyncSession, *, telegram_user_id: int, patient_id: int) -> None:
    await session.execute(
        delete(AccountPatient).where(
            AccountPatient.telegram_user_id == telegram_user_id,
            AccountPatient.patient_id == patient_id,
        )
    )


async def upcoming_bookings(
    session: AsyncSession, *, telegram_user_id: int, now: datetime
) -> list[VisitRecord]:
    """Active future bookings made from this account or of the patients it remembers,
    soonest first."""
    remembered = select(AccountPatient.patient_id).where(
        AccountPatient.telegram_user_id == telegram_user_id
    )
    ids = (
        await session.scalars(
            select(Booking.id)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(
                Booking.status == BookingStatus.ACTIVE,
                Slot.starts_at > now,
                or_(
                    Booking.telegram_user_id == telegram_user_id,
                    Booking.patient_id.in_(remembered),
                ),
            )
            .order_by(Slot.starts_at, Booking.id)
        )
    ).all()
    visits = await load_visits(session, booking_ids=ids)
    return [visits[booking_id] for booking_id in ids if booking_id in visits]


async def withdraw_consent(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    now: datetime,
    organization_id: int | None = None,
) -> None:
    """Remove the links between the account and patients' data: all of them, or those of
    one organization (the operator the consent was given to).

    Bookings stay (the clinic keeps its appointments) but no longer point at the account, so
    no reminder or notice goes to it. Withdrawing everything also forgets the remembered
    patients; withdrawing one organization keeps them for the others.
    """
    linked = select(Booking.id).where(Booking.telegram_user_id == telegram_user_id)
    if organization_id is not None:
        linked = linked.join(Service, Service.id == Booking.service_id).where(
            Service.organization_id == organization_id
        )
    # The action itself says why (consent withdrawn); the staff history renders it in the
    # reader's language.
    for booking in (await session.scalars(select(Booking).where(Booking.id.in_(linked)))).all():
        audit.record(
            session,
            booking=booking,
            action="unlinked",
            actor=Actor.patient(telegram_user_id),
            now=now,
        )
    await session.execute(
        update(Reminder)
        .where(
            Reminder.booking_id.in_(linked),
            Reminder.state.in_([ReminderState.PLANNED, *IN_FLIGHT]),
        )
        .values(state=ReminderState.CANCELLED)
    )
    await session.execute(
        update(Booking)
        .where(Booking.id.in_(linked))
        .values(telegram_user_id=None, telegram_chat_id=None)
    )
    # Failed identifications stay until their window passes: they hold no typed values, and
    # dropping them would let a withdrawal reset the lock-out against guessing.
    if organization_id is None:
        await session.execute(
            delete(AccountPatient).where(AccountPatient.telegram_user_id == telegram_user_id)
        )
        await session.execute(delete(Consent).where(Consent.telegram_user_id == telegram_user_id))
    else:
        await delete_consents(
            session, telegram_user_id=telegram_user_id, organization_id=organization_id
        )
    await session.flush()
