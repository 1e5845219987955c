from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.services.slots import Rule, day_slots, doctor_days, generate_slots, slot_starts
from db.models import Booking, BookingStatus, Slot, WorkingHours
from tests.factories import Factory

MOSCOW = ZoneInfo("Europe/Moscow")
YEKATERINBURG = ZoneInfo("Asia/Yekaterinburg")
BERLIN = ZoneInfo("Europe/Berlin")  # has DST, unlike Russian zones


def test_slots_are_local_wall_times_converted_to_utc() -> None:
    # 2026-12-03 is a Thursday (weekday 3).
    produced = list(
        slot_starts(
            rules=[Rule(3, time(8), time(9))],
            slot_minutes=20,
            tz=YEKATERINBURG,
            first_day=date(2026, 12, 3),
            days=1,
        )
    )
    assert [s for s, _ in produced] == [
        datetime(2026, 12, 3, 3, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 3, 20, tzinfo=UTC),
        datetime(2026, 12, 3, 3, 40, tzinfo=UTC),
    ]
    assert produced[-1][1] == datetime(2026, 12, 3, 4, 0, tzinfo=UTC)


def test_a_slot_that_does_not_fit_before_the_end_is_not_made() -> None:
    produced = list(
        slot_starts(
            rules=[Rule(3, time(8), time(8, 50))],
            slot_minutes=20,
            tz=MOSCOW,
            first_day=date(2026, 12, 3),
            days=1,
        )
    )
    assert len(produced) == 2  # 08:00, 08:20; 08:40 would end at 09:00


def test_days_off_and_split_hours() -> None:
    rules = [Rule(0, time(8), time(9)), Rule(0, time(13), time(14))]
    produced = list(
        slot_starts(rules=rules, slot_minutes=30, tz=MOSCOW, first_day=date(2026, 11, 30), days=7)
    )
    local = [s.astimezone(MOSCOW) for s, _ in produced]
    assert {d.date() for d in local} == {date(2026, 11, 30)}
    assert [d.strftime("%H:%M") for d in local] == ["08:00", "08:30", "13:00", "13:30"]


def test_dst_gap_wall_times_are_skipped_and_overlap_taken_once() -> None:
    spring = list(
        slot_starts(
            rules=[Rule(6, time(1), time(4))],
            slot_minutes=60,
            tz=BERLIN,
            first_day=date(2026, 3, 29),
            days=1,
        )
    )
    # 02:00 does not exist on 29 March 2026 in Berlin.
    assert [s.astimezone(BERLIN).strftime("%H:%M") for s, _ in spring] == ["01:00", "03:00"]
    starts = [s for s, _ in spring]
    assert len(set(starts)) == len(starts)


async def test_generation_skips_the_past_and_never_touches_booked_slots(factory: Factory) -> None:
    org = await factory.organization(timezone="Europe/Moscow")
    doctor = await factory.doctor(org, hours={3: (time(8), time(10))}, slot_minutes=30)
    doctor_id = doctor.id
    now = datetime(2026, 12, 3, 8, 45, tzinfo=MOSCOW).astimezone(UTC)  # Thursday 08:45 MSK
    session = factory.session

    # A 6-day horizon generates 7 days (one spare): Thursday to Wednesday.
    added = await generate_slots(session, now=now, horizon_days=6, doctor_ids=[doctor.id])
    await session.commit()
    times = [
        s.starts_at.astimezone(MOSCOW).strftime("%d %H:%M")
        for s in await session.scalars(select(Slot).order_by(Slot.starts_at))
    ]
    # Today 08:00 and 08:30 have passed; 09:00, 09:30 remain; next Thursday is outside.
    assert times == ["03 09:00", "03 09:30"]
    assert added == 2

    booked = (await session.scalars(select(Slot).order_by(Slot.starts_at))).first()
    assert booked is not None
    await factory.booking(slot=booked)
    # New hours: the booked 09:00 slot no longer fits the rules but must stay, closed.
    await session.execute(
        WorkingHours.__table__.update()
        .where(WorkingHours.doctor_id == doctor.id)
        .values(start_time=time(9, 30), end_time=time(11))
    )
    await session.commit()
    session.expire_all()
    await generate_slots(session, now=now, horizon_days=6, doctor_ids=[doctor_id])
    await session.commit()
    rows = (await session.scalars(select(Slot).order_by(Slot.starts_at))).all()
    state = {s.starts_at.astimezone(MOSCOW).strftime("%H:%M"): s.is_open for s in rows}
    assert state == {"09:00": False, "09:30": True, "10:00": True, "10:30": True}
    assert await session.scalar(select(func.count(Booking.id))) == 1

    again = await generate_slots(session, now=now, horizon_days=6, doctor_ids=[doctor_id])
    assert again == 0


async def test_day_views_show_hours_and_close_full_and_past_days(factory: Factory) -> None:
    org = await factory.organization(timezone="Asia/Yekaterinburg")
    doctor = await factory.doctor(
        org, hours={3: (time(8), time(9)), 4: (time(14), time(15))}, slot_minutes=30
    )
    # Thursday 3 Dec 2026, 08:40 in Yekaterinburg: one Thursday slot (08:30) is still ahead.
    now = datetime(2026, 12, 3, 8, 40, tzinfo=YEKATERINBURG).astimezone(UTC)
    session = factory.session
    await generate_slots(session, now=now - timedelta(hours=1), horizon_days=3)
    await session.commit()

    views = await doctor_days(
        session, doctor_id=doctor.id, tz=YEKATERINBURG, now=now, horizon_days=3
    )
    assert [v.day for v in views] == [date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 5)]
    thursday, friday, saturday = views
    assert thursday.hours == (time(8), time(9))
    assert thursday.free == 0  # 08:00 and 08:30 have both started by 08:40
    assert not thursday.is_open
    assert friday.hours == (time(14), time(15))
    assert friday.free == 2
    assert saturday.hours is None
    assert not saturday.is_open

    friday_slots = await day_slots(
        session, doctor_id=doctor.id, day=date(2026, 12, 4), tz=YEKATERINBURG, now=now
    )
    await factory.booking(slot_id=friday_slots[0].id)
    friday_slots = await day_slots(
        session, doctor_id=doctor.id, day=date(2026, 12, 4), tz=YEKATERINBURG, now=now
    )
    assert [s.is_free for s in friday_slots] == [False, True]
    await factory.booking(slot_id=friday_slots[1].id)
    views = await doctor_days(
        session, doctor_id=doctor.id, tz=YEKATERINBURG, now=now, horizon_days=3
    )
    assert views[1].free == 0
    assert not views[1].is_open


async def test_cancelled_booking_frees_the_slot(factory: Factory) -> None:
    org = await factory.organization()
    doctor = await factory.doctor(org, hours={3: (time(8), time(9))}, slot_minutes=60)
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    await generate_slots(factory.session, now=now, horizon_days=7)
    slot = await factory.session.scalar(select(Slot))
    assert slot is not None
    await factory.booking(slot=slot, status=BookingStatus.CANCELLED)
    views = await day_slots(
        factory.session, doctor_id=doctor.id, day=date(2026, 12, 3), tz=MOSCOW, now=now
    )
    assert [v.is_free for v in views] == [True]


@pytest.mark.parametrize("minutes", [15, 20, 30])
def test_slot_count_per_period(minutes: int) -> None:
    produced = list(
        slot_starts(
            rules=[Rule(3, time(8), time(14))],
            slot_minutes=minutes,
            tz=MOSCOW,
            first_day=date(2026, 12, 3),
            days=1,
        )
    )
    assert len(produced) == 6 * 60 // minutes


async def test_changing_slot_length_rebuilds_free_slots_in_one_run(factory: Factory) -> None:
    org = await factory.organization()
    doctor = await factory.doctor(org, hours={3: (time(8), time(10))}, slot_minutes=20)
    doctor_id = doctor.id
    now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    session = factory.session
    await generate_slots(session, now=now, horizon_days=7)
    await session.commit()
    doctor.slot_minutes = 30
    await session.commit()
    await generate_slots(session, now=now, horizon_days=7, doctor_ids=[doctor_id])
    await session.commit()
    starts = [
        s.starts_at.astimezone(MOSCOW).strftime("%H:%M")
        for s in await session.scalars(select(Slot).order_by(Slot.starts_at))
    ]
    assert starts == ["08:00", "08:30", "09:00", "09:30"]
