"""What an account does with its own data: remember or forget patients, give or withdraw
consent, identify a patient, choose its language; and the registry's staff list. Each call
is one transaction: the service adds and flushes, this commits. None is final for the update
(bot/unit.py::commit): each is harmless to repeat, and may be a step on the way to a booking
that the same update makes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import LOCALES, locale_for
from bot.services import accounts, attempts, consent, languages
from bot.services.attempts import FailureLimits, Identification
from bot.services.staff import access
from bot.unit import commit
from db.models import Patient, StaffMember


async def remember_from_booking(
    session: AsyncSession, *, user_id: int, booking_id: int, now: datetime
) -> Patient:
    """Raises BookingError when the booking is not this account's active one."""
    patient = await accounts.remember_from_booking(
        session, telegram_user_id=user_id, booking_id=booking_id, now=now
    )
    await commit(session, final=False)
    return patient


async def remember(
    session: AsyncSession, *, user_id: int, patient_id: int, now: datetime
) -> Patient:
    patient = await accounts.remember_patient(
        session, telegram_user_id=user_id, patient_id=patient_id, now=now
    )
    await commit(session, final=False)
    return patient


async def forget(session: AsyncSession, *, user_id: int, patient_id: int) -> None:
    await accounts.forget_patient(session, telegram_user_id=user_id, patient_id=patient_id)
    await commit(session, final=False)


async def withdraw(
    session: AsyncSession, *, user_id: int, now: datetime, organization_id: int | None = None
) -> None:
    """One organization's consent, or (None) every consent and remembered patient."""
    await accounts.withdraw_consent(
        session, telegram_user_id=user_id, now=now, organization_id=organization_id
    )
    await commit(session, final=False)


async def give_consent(
    session: AsyncSession,
    *,
    user_id: int,
    organization_id: int | None,
    version: str,
    now: datetime,
) -> None:
    await consent.record_consent(
        session,
        telegram_user_id=user_id,
        organization_id=organization_id,
        version=version,
        now=now,
    )
    await commit(session, final=False)


async def identify(
    session: AsyncSession,
    *,
    user_id: int,
    oms: str,
    document: str,
    birth_date: date,
    now: datetime,
    limits: FailureLimits,
) -> Identification:
    """The registry lookup; a failure is recorded (and counted) whatever happens next."""
    result = await attempts.identify(
        session,
        telegram_user_id=user_id,
        oms=oms,
        document=document,
        birth_date=birth_date,
        now=now,
        limits=limits,
    )
    await commit(session, final=False)
    return result


async def settle_language(
    session: AsyncSession, *, user_id: int, stored: str | None, language_code: str | None
) -> str:
    """The account's language: `stored` (read with the update's facts), or at first contact
    Telegram's, remembered (its own small transaction, before the update's handler runs)."""
    if stored in LOCALES:
        return stored
    language = locale_for(language_code)
    await choose_language(session, user_id=user_id, language=language)
    return language


async def choose_language(session: AsyncSession, *, user_id: int, language: str) -> None:
    await languages.choose_language(session, telegram_user_id=user_id, language=language)
    await commit(session, final=False)


async def add_member(
    session: AsyncSession,
    *,
    user_id: int,
    organization_codes: Sequence[str],
    added_by: int,
    now: datetime,
) -> StaffMember:
    """Raises StaffError for unknown organization codes; nothing is written then."""
    member = await access.add_member(
        session,
        telegram_user_id=user_id,
        organization_codes=organization_codes,
        added_by=added_by,
        now=now,
    )
    await commit(session, final=False)
    return member


async def remove_member(session: AsyncSession, *, user_id: int) -> bool:
    removed = await access.remove_member(session, telegram_user_id=user_id)
    await commit(session, final=False)
    return removed
