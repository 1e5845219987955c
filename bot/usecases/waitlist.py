"""The waitlist's use cases; each call is one transaction, with the offers it owes queued in
the outbox in the same commit (see transaction.py for the booking changes)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.services import catalog
from bot.services import waitlist as line
from bot.services.outbox import OfferOwed, enqueue
from bot.services.slots import local_day_bounds
from bot.unit import commit
from db.models import Slot, SlotOffer, WaitlistEntry

logger = logging.getLogger(__name__)


async def _commit_owing(
    session: AsyncSession, owed: list[OfferOwed], *, acting_chat: int | None, now: datetime
) -> tuple[int, ...]:
    queued = await enqueue(session, owed, acting_chat=acting_chat, now=now)
    await commit(session, owed=queued)
    return queued


async def _passed_on(
    session: AsyncSession, owed: list[OfferOwed] | None, *, user_id: int, now: datetime
) -> bool:
    """Committed with the offers the account's step passed on; False (nothing changed) when
    the offer or entry was not the account's to act on."""
    if owed is None:
        await session.rollback()
        return False
    await _commit_owing(session, owed, acting_chat=user_id, now=now)
    return True


async def join(
    session: AsyncSession,
    *,
    user_id: int,
    chat_id: int,
    service_id: int,
    doctor_id: int,
    any_doctor: bool,
    day: date | None,
    now: datetime,
    settings: Settings,
) -> WaitlistEntry | line.JoinRefusal:
    """At the end of the line until the end of `day`, or of the booking horizon (the
    organization's last bookable day) for any day; or why not."""
    doctor = await catalog.get_doctor_for_service(
        session, doctor_id=doctor_id, service_id=service_id
    )
    if doctor is None:
        return line.JoinRefusal.ALREADY
    tz = ZoneInfo(doctor.organization.timezone)
    last_day = now.astimezone(tz).date() + timedelta(days=settings.booking.horizon_days - 1)
    if day is not None and not now.astimezone(tz).date() <= day <= last_day:
        return line.JoinRefusal.ALREADY  # a forged or stale day: nothing to wait for
    _, expires_at = local_day_bounds(day or last_day, tz)
    result = await line.join(
        session,
        user_id=user_id,
        chat_id=chat_id,
        service_id=service_id,
        doctor_id=doctor_id,
        any_doctor=any_doctor,
        day=day,
        expires_at=expires_at,
        max_entries=settings.waitlist.max_entries,
        now=now,
    )
    await commit(session)
    if isinstance(result, WaitlistEntry):
        logger.info("telegram user %s joined the waitlist of doctor %s", user_id, doctor_id)
    return result


async def offer_to_take(
    session: AsyncSession, *, offer_id: int, user_id: int, now: datetime
) -> line.OfferView | line.OfferRefusal:
    return await line.offer_to_take(session, offer_id=offer_id, user_id=user_id, now=now)


async def offer_doctor(session: AsyncSession, *, offer_id: int) -> tuple[int, int] | None:
    """(service, doctor) of an offer, to show that doctor's free times after it ended."""
    row = (
        await session.execute(
            select(WaitlistEntry.service_id, Slot.doctor_id)
            .join(SlotOffer, SlotOffer.entry_id == WaitlistEntry.id)
            .join(Slot, Slot.id == SlotOffer.slot_id)
            .where(SlotOffer.id == offer_id)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def decline(
    session: AsyncSession, *, offer_id: int, user_id: int, now: datetime, settings: Settings
) -> bool:
    """«Не подходит»: the slot goes to the next in line at once."""
    owed = await line.decline(
        session, offer_id=offer_id, user_id=user_id, now=now, hold=settings.waitlist.hold
    )
    return await _passed_on(session, owed, user_id=user_id, now=now)


async def leave(
    session: AsyncSession, *, entry_id: int, user_id: int, now: datetime, settings: Settings
) -> bool:
    owed = await line.leave(
        session, entry_id=entry_id, user_id=user_id, now=now, hold=settings.waitlist.hold
    )
    return await _passed_on(session, owed, user_id=user_id, now=now)


async def expire(session: AsyncSession, *, now: datetime, hold: timedelta) -> tuple[int, ...]:
    """The periodic job: holds that ran out pass on; the outbox rows of the new offers."""
    owed = await line.expire(session, now=now, hold=hold)
    queued = await _commit_owing(session, owed, acting_chat=None, now=now)
    if owed:
        logger.info("waitlist: %d held times passed to the next in line", len(owed))
    return queued
