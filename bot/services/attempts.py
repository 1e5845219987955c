"""A limit on failed identifications per Telegram account, so birth dates cannot be guessed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.booking import identify_patient
from db.models import IdentityFailure


async def is_locked_out(
    session: AsyncSession, *, telegram_user_id: int, now: datetime, limit: int, window: timedelta
) -> bool:
    failures = await session.scalar(
        select(func.count(IdentityFailure.id)).where(
            IdentityFailure.telegram_user_id == telegram_user_id,
            IdentityFailure.failed_at > now - window,
        )
    )
    return (failures or 0) >= limit


async def record_failure(session: AsyncSession, *, telegram_user_id: int, now: datetime) -> None:
    session.add(IdentityFailure(telegram_user_id=telegram_user_id, failed_at=now))
    await session.commit()


async def purge_failures(session: AsyncSession, *, now: datetime, window: timedelta) -> None:
    await session.execute(delete(IdentityFailure).where(IdentityFailure.failed_at <= now - window))
    await session.commit()


@dataclass(frozen=True, slots=True)
class Identification:
    patient_id: int | None
    locked_out: bool = False


async def identify(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    oms: str,
    document: str,
    birth_date: date,
    now: datetime,
    limit: int,
    window: timedelta,
) -> Identification:
    """Look the patient up unless the account is locked out; count a failure if not found."""
    if await is_locked_out(
        session, telegram_user_id=telegram_user_id, now=now, limit=limit, window=window
    ):
        return Identification(patient_id=None, locked_out=True)
    patient = await identify_patient(session, oms=oms, document=document, birth_date=birth_date)
    if patient is None:
        await record_failure(session, telegram_user_id=telegram_user_id, now=now)
        return Identification(patient_id=None)
    return Identification(patient_id=patient.id)
