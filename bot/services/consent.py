"""Consent to the processing of personal data, per operator and text version.

Each organization is a separate legal entity and operator of personal data (152-ФЗ), so a
consent covers one organization only. A consent without an organization covers the account's
own list of patients («Добавить пациента»), which no organization processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Consent, Organization


@cache
def agreement_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        raise ValueError(f"the agreement file {path} is empty")
    return text


@dataclass(frozen=True, slots=True)
class HeldConsent:
    """One operator holding the account's consent; no organization: the account's list."""

    organization_id: int | None
    organization_name: str | None
    # The organization's short name (for buttons) and zone (to show the date as it saw it).
    short_name: str | None
    timezone: str
    accepted_at: datetime


async def has_consent(
    session: AsyncSession, *, telegram_user_id: int, organization_id: int | None, version: str
) -> bool:
    scope = (
        Consent.organization_id.is_(None)
        if organization_id is None
        else Consent.organization_id == organization_id
    )
    return bool(
        await session.scalar(
            select(
                exists().where(
                    Consent.telegram_user_id == telegram_user_id,
                    Consent.version == version,
                    scope,
                )
            )
        )
    )


async def record_consent(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    organization_id: int | None,
    version: str,
    now: datetime,
) -> None:
    session.add(
        Consent(
            telegram_user_id=telegram_user_id,
            organization_id=organization_id,
            version=version,
            accepted_at=now,
        )
    )
    await session.flush()


async def held_consents(
    session: AsyncSession, *, telegram_user_id: int, version: str
) -> list[HeldConsent]:
    """The operators holding the account's consent to the current text, oldest first."""
    rows = await session.execute(
        select(
            Consent.organization_id,
            Organization.name,
            Organization.short_name,
            Organization.timezone,
            Consent.accepted_at,
        )
        .outerjoin(Organization, Organization.id == Consent.organization_id)
        .where(Consent.telegram_user_id == telegram_user_id, Consent.version == version)
        .order_by(Consent.accepted_at, Consent.id)
    )
    seen: dict[int | None, HeldConsent] = {}
    for organization_id, name, short_name, zone, accepted_at in rows:
        seen.setdefault(
            organization_id,
            HeldConsent(organization_id, name, short_name, zone or "UTC", accepted_at),
        )
    return list(seen.values())


async def delete_consents(
    session: AsyncSession, *, telegram_user_id: int, organization_id: int | None
) -> None:
    """One organization's consents of the account (every version); the caller commits."""
    scope = (
        Consent.organization_id.is_(None)
        if organization_id is None
        else Consent.organization_id == organization_id
    )
    await session.execute(
        delete(Consent).where(Consent.telegram_user_id == telegram_user_id, scope)
    )
