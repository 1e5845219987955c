"""Slot generation from weekly working hours, and the views of a doctor's schedule."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import Booking, BookingStatus, Closure, Doctor, Slot, WorkingHours


@dataclass(frozen=True, slots=True)
class Rule:
    weekday: int
    start: time
    end: time


def slot_starts(
    *,
    rules: Iterable[Rule],
    slot_minutes: int,
    tz: ZoneInfo,
    first_day: date,
    days: int,
) -> Iterator[tuple[datetime, datetime]]:
    """(start, end) pairs in UTC for local days [first_day, first_day + days).

    Times are local wall-clock times of the organization; a slot that would not fit before
    the end of the working period is not produced. Wall times that do not exist (a DST gap)
    are skipped rather than shifted, so no slot moves to an hour the doctor did not set.
    """
    step = timedelta(minutes=slot_minutes)
    by_weekday: dict[int, list[Rule]] = {}
    for rule in rules:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for rule in sorted(by_weekday.get(day.weekday(), []), key=lambda r: r.start):
            cursor = datetime.combine(day, rule.start)
            end = datetime.combine(day, rule.end)
            while cursor + step <= end:
                local = cursor.replace(tzinfo=tz)
                if _exists_locally(local):
                    starts = local.astimezone(UTC)
                    yield starts, (local + step).astimezone(UTC)
                cursor += step


def _exists_locally(local: datetime) -> bool:
    return local.astimezone(UTC).astimezone(local.tzinfo).replace(tzinfo=None) == local.replace(
        tzinfo=None
    )


async def generate_slots(
    session: AsyncSession, *, now: datetime, horizon_days: int, doctor_ids: list[int] | None = None
) -> int:
    """Bring future slots in line with the rules for the horizon; return how many were added.

    Booked slots (and slots that ever had a booking) are never deleted or moved: a slot the
    rules no longer produce is closed instead, so its bookings and history stay intact.
    """
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
                # One day more than patients see: the daily run happens at one server hour,
                # and a far-eastern clinic's newest day must not wait for it after midnight.
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
            # Deletes must reach the database before inserts reuse their start times.
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
            # Closed by the registry stays closed; otherwise the rules decide.
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


@dataclass(frozen=True, slots=True)
class DayView:
    day: date
    hours: tuple[time, time] | None
    free: int

    @property
    def is_open(self) -> bool:
        return self.free > 0


@dataclass(frozen=True, slots=True)
class SlotView:
    id: int
    starts_at: datetime
    is_free: bool


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


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


async def doctor_days(
    session: AsyncSession, *, doctor_id: int, tz: ZoneInfo, now: datetime, horizon_days: int
) -> list[DayView]:
    """The next `horizon_days` local days: the doctor's weekly hours, and free future slots."""
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


async def day_slots(
    session: AsyncSession, *, doctor_id: int, day: date, tz: ZoneInfo, now: datetime
) -> list[SlotView]:
    """The day's slots that have not started yet, free or taken."""
    since, until = local_day_bounds(day, tz)
    return [
        SlotView(id=slot.id, starts_at=slot.starts_at, is_free=not booked)
        for slot, booked in await _slots_with_state(
            session, doctor_id=doctor_id, since=max(since, now), until=until
        )
        if slot.starts_at > now
    ]
