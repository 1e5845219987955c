"""A limit on failed identifications per Telegram account, so birth dates cannot be guessed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

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
