from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Consent


@cache
def agreement_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        raise ValueError(f"the agreement file {path} is empty")
    return text


async def has_consent(session: AsyncSession, *, telegram_user_id: int, version: str) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    Consent.telegram_user_id == telegram_user_id, Consent.version == version
                )
            )
        )
    )


async def record_consent(
    session: AsyncSession, *, telegram_user_id: int, version: str, now: datetime
) -> None:
    session.add(Consent(telegram_user_id=telegram_user_id, version=version, accepted_at=now))
    await session.commit()
