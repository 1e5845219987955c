"""The slot code as it was before issue 11, kept as the oracle of the faster one.

`reference_generate`, `reference_days` and `reference_day_slots` are the ORM implementations
that loaded every slot as an object; the tests of `bot.services.slots` compare their results
with these on generated data (tests/unit/test_slots_generation.py, test_slots_grids.py) and
the import's slots with them (tests/unit/test_importer.py).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.slots import DayView, Rule, SlotView, local_day_bounds, slot_starts
from db.models import Booking, BookingStatus, Closure, Doctor, Slot, WorkingHours


async def reference_generate(
    session: AsyncSession, *, now: datetime, horizon_days: int, doctor_ids: list[int] | None = None
) -> int:
    query = select(Doctor).options(selectinload(Doctor.hours), selectinload(Doctor.organization))
    if doctor_ids is not None:
        query = query.where(Doctor.id.in_(doctor_ids))
    added = 0
    for doctor in (await session.scalars(query)).all():
        tz = ZoneInfo(doctor.organization.timezone)
        today = now.astimezone(tz).date()
        wanted = {
            start: end
            for start, end in slot_starts(
                rules=[Rule(h.weekday, h.start_time, h.end_time) for h in doctor.hours],
                slot_minutes=doctor.slot_minutes,
                tz=tz,
                first_day=today,
                days=horizon_days + 1,
            )
            if start > now
        }
        existing = (
            await session.scalars(
                select(Slot).where(Slot.doctor_id == doctor.id, Slot.starts_at > now)
            )
        ).all()
        have = {slot.starts_at: slot for slot in existing}
        stale = [slot for start, slot in have.items() if wanted.get(start) != slot.ends_at]
        if stale:
            ever_booked = set(
                await session.scalars(
                    select(Booking.slot_id).where(Booking.slot_id.in_([s.id for s in stale]))
                )
            )
            for slot in stale:
                if slot.id in ever_booked:
                    slot.is_open = False
                else:
                    await session.delete(slot)
                    del have[slot.starts_at]
            await session.flush()
        closures = (
            await session.scalars(
                select(Closure).where(Closure.doctor_id == doctor.id, Closure.ends_at > now)
            )
        ).all()
        closed = {
            start
            for start, end in wanted.items()
            if any(c.starts_at < end and start < c.ends_at for c in closures)
        }
        for start, slot in have.items():
            should_open = wanted.get(start) == slot.ends_at and start not in closed
            if slot.is_open != should_open and (should_open or start in closed):
                slot.is_open = should_open
        new = [
            Slot(doctor_id=doctor.id, starts_at=start, ends_at=end, is_open=start not in closed)
            for start, end in wanted.items()
            if start not in have
        ]
        session.add_all(new)
        added += len(new)
    await session.flush()
    return added


async def _slots_with_state(
    session: AsyncSession, *, doctor_id: int, since: datetime, until: datetime
) -> list[tuple[Slot, bool]]:
    booked = (
        exists()
        .where(Booking.slot_id == Slot.id, Booking.status == BookingStatus.ACTIVE)
        .correlate(Slot)
    )
    rows = await session.execute(
        select(Slot, booked)
        .where(
            Slot.doctor_id == doctor_id,
            Slot.is_open.is_(True),
            Slot.starts_at >= since,
            Slot.starts_at < until,
        )
        .order_by(Slot.starts_at)
    )
    return [(slot, bool(is_booked)) for slot, is_booked in rows.all()]


async def reference_days(
    session: AsyncSession, *, doctor_id: int, tz: ZoneInfo, now: datetime, horizon_days: int
) -> list[DayView]:
    today = now.astimezone(tz).date()
    since, _ = local_day_bounds(today, tz)
    _, until = local_day_bounds(today + timedelta(days=horizon_days - 1), tz)
    per_day: dict[date, list[tuple[Slot, bool]]] = {}
    for slot, booked in await _slots_with_state(
        session, doctor_id=doctor_id, since=since, until=until
    ):
        per_day.setdefault(slot.starts_at.astimezone(tz).date(), []).append((slot, booked))
    rules = (
        await session.scalars(select(WorkingHours).where(WorkingHours.doctor_id == doctor_id))
    ).all()
    hours_by_weekday: dict[int, tuple[time, time]] = {}
    for rule in rules:
        start, end = hours_by_weekday.get(rule.weekday, (rule.start_time, rule.end_time))
        hours_by_weekday[rule.weekday] = (min(start, rule.start_time), max(end, rule.end_time))
    views = []
    for offset in range(horizon_days):
        day = today + timedelta(days=offset)
        free = sum(
            1 for slot, booked in per_day.get(day, []) if not booked and slot.starts_at > now
        )
        views.append(DayView(day=day, hours=hours_by_weekday.get(day.weekday()), free=free))
    return views


async def reference_day_slots(
    session: AsyncSession, *, doctor_id: int, day: date, tz: ZoneInfo, now: datetime
) -> list[SlotView]:
    since, until = local_day_bounds(day, tz)
    return [
        SlotView(id=slot.id, starts_at=slot.starts_at, is_free=not booked)
        for slot, booked in await _slots_with_state(
            session, doctor_id=doctor_id, since=max(since, now), until=until
        )
        if slot.starts_at > now
    ]
