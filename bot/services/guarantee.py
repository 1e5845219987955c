"""The state's guarantee on waiting times (Программа государственных гарантий): a district
therapist, pediatrician or general practitioner within 24 hours of the request, a
specialist's consultation within 14 working days. The figures are per service in the import
(`max_wait_hours`, `max_wait_working_days`), as regional programmes differ.

`missed_guarantee` finds the service's first free OMS time (any doctor) and, when it lies
beyond the guaranteed time, says so and records the case for the registry (/waiting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.slots import local_day_bounds
from bot.services.waitlist import held_now
from db.models import Booking, BookingStatus, Slot, WaitBreach, doctor_services

__all__ = ["Missed", "deadline", "missed_guarantee", "recent_breaches"]


def _add_working_days(day: date, days: int) -> date:
    # Saturdays and Sundays are not working days; regional holidays are not known here, so
    # the guarantee is never read as longer than the programme's.
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def deadline(
    *, now: datetime, tz: ZoneInfo, hours: int | None, working_days: int | None
) -> datetime | None:
    """The latest start a free time may have to meet the guarantee; None without one."""
    if hours is not None:
        return now + timedelta(hours=hours)
    if working_days is not None:
        last = _add_working_days(now.astimezone(tz).date(), working_days)
        return local_day_bounds(last, tz)[1]
    return None


@dataclass(frozen=True, slots=True)
class Missed:
    first_free: datetime | None  # None: nothing free within the horizon


async def first_free_time(
    session: AsyncSession, *, service_id: int, now: datetime, until: datetime
) -> datetime | None:
    """The earliest free (open, unbooked, unheld) time of any doctor of the service."""
    value = await session.scalar(
        select(func.min(Slot.starts_at)).where(
            Slot.doctor_id.in_(
                select(doctor_services.c.doctor_id).where(
                    doctor_services.c.service_id == service_id
                )
            ),
            Slot.is_open.is_(True),
            Slot.starts_at > now,
            Slot.starts_at < until,
            ~exists().where(Booking.slot_id == Slot.id, Booking.status == BookingStatus.ACTIVE),
            ~held_now(Slot.id, now=now),
        )
    )
    return value if isinstance(value, datetime) else None


async def missed_guarantee(
    session: AsyncSession,
    *,
    service_id: int,
    paid: bool,
    hours: int | None,
    working_days: int | None,
    tz: ZoneInfo,
    now: datetime,
    horizon_until: datetime,
    user_id: int,
    limit_text: str,
) -> Missed | None:
    """The case, recorded once per account, service and day; None if the guarantee holds
    (or the service has none, or is paid: the guarantee is for OMS care)."""
    if paid:
        return None
    latest = deadline(now=now, tz=tz, hours=hours, working_days=working_days)
    if latest is None:
        return None
    first = await first_free_time(session, service_id=service_id, now=now, until=horizon_until)
    if first is not None and first <= latest:
        return None
    today = now.astimezone(tz).date()
    known = await session.scalar(
        select(WaitBreach.id).where(
            WaitBreach.telegram_user_id == user_id,
            WaitBreach.service_id == service_id,
            WaitBreach.day == today,
        )
    )
    if known is None:
        session.add(
            WaitBreach(
                telegram_user_id=user_id,
                service_id=service_id,
                day=today,
                seen_at=now,
                first_free_at=first,
                limit_text=limit_text,
            )
        )
        await session.flush()
    return Missed(first_free=first)


async def recent_breaches(
    session: AsyncSession, *, service_ids: list[int] | None, since: datetime
) -> list[tuple[int, int, datetime | None, str]]:
    """(service, cases, the latest first free time seen, the limit) since `since`."""
    query = (
        select(
            WaitBreach.service_id,
            func.count(),
            func.max(WaitBreach.first_free_at),
            func.max(WaitBreach.limit_text),
        )
        .where(WaitBreach.seen_at >= since)
        .group_by(WaitBreach.service_id)
    )
    if service_ids is not None:
        query = query.where(WaitBreach.service_id.in_(service_ids))
    return [(row[0], int(row[1]), row[2], str(row[3])) for row in await session.execute(query)]
