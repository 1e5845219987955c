"""Limits on failed identifications, so birth dates and documents cannot be guessed.

Two limits: per Telegram account (a few failures an hour), and per registry patient named by
the typed OMS number, counted across all accounts (a few a day), since anyone can open many
accounts. Failures store who and when, and the registry patient the OMS number belongs to,
never a typed value. A burst of failures across accounts raises a warning in the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.services.booking import identify_patient
from db.models import IdentityFailure, Patient

logger = logging.getLogger(__name__)

PATIENT_WINDOW = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class FailureLimits:
    per_account: int
    account_window: timedelta
    per_patient: int
    alarm_threshold: int
    alarm_window: timedelta

    @property
    def keep_for(self) -> timedelta:
        """How long a failure record matters to any of the limits."""
        return max(self.account_window, PATIENT_WINDOW, self.alarm_window)


@dataclass(frozen=True, slots=True)
class Identification:
    patient_id: int | None
    locked_out: bool = False


async def _count(session: AsyncSession, *conditions: ColumnElement[bool]) -> int:
    return int(await session.scalar(select(func.count(IdentityFailure.id)).where(*conditions)) or 0)


async def identify(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    oms: str,
    document: str,
    birth_date: date,
    now: datetime,
    limits: FailureLimits,
) -> Identification:
    """Look the patient up unless a limit is reached; record a failure if not found.

    A patient past the daily limit is refused even with the right values: otherwise the
    guess that finally matches would still get through.
    """
    if (
        await _count(
            session,
            IdentityFailure.telegram_user_id == telegram_user_id,
            IdentityFailure.failed_at > now - limits.account_window,
        )
        >= limits.per_account
    ):
        return Identification(patient_id=None, locked_out=True)
    named = await session.scalar(select(Patient.id).where(Patient.oms_number == oms))
    if (
        named is not None
        and await _count(
            session,
            IdentityFailure.patient_id == named,
            IdentityFailure.failed_at > now - PATIENT_WINDOW,
        )
        >= limits.per_patient
    ):
        logger.warning(
            "identification refused: a registry patient reached %d failures within a day",
            limits.per_patient,
        )
        return Identification(patient_id=None, locked_out=True)
    patient = await identify_patient(session, oms=oms, document=document, birth_date=birth_date)
    if patient is not None:
        return Identification(patient_id=patient.id)
    session.add(IdentityFailure(telegram_user_id=telegram_user_id, patient_id=named, failed_at=now))
    await session.flush()
    await _alarm(session, now=now, limits=limits)
    return Identification(patient_id=None)


async def _alarm(session: AsyncSession, *, now: datetime, limits: FailureLimits) -> None:
    """Warn at every multiple of the threshold within the window (no typed values logged)."""
    recent = IdentityFailure.failed_at > now - limits.alarm_window
    failures = await _count(session, recent)
    if failures < limits.alarm_threshold or failures % limits.alarm_threshold:
        return
    accounts = await session.scalar(
        select(func.count(distinct(IdentityFailure.telegram_user_id))).where(recent)
    )
    logger.warning(
        "ALARM: %d failed identifications from %d accounts within %d minutes "
        "(threshold %d): someone may be guessing patients' data",
        failures,
        accounts or 0,
        int(limits.alarm_window.total_seconds() // 60),
        limits.alarm_threshold,
    )


async def purge_failures(session: AsyncSession, *, now: datetime, keep_for: timedelta) -> None:
    await session.execute(
        delete(IdentityFailure).where(IdentityFailure.failed_at <= now - keep_for)
    )
    await session.commit()
