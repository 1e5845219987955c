"""The day grid counted in SQL, and the time grid, against the per-slot code they replaced.

Random clinics in zones without DST (Moscow, Vladivostok, Kolkata at +5:30), with DST
(Berlin, New York, Lord Howe Island, whose clocks move by half an hour, and Havana and
Santiago, whose clocks change at midnight), with hours at both
ends of the local day, random bookings (active and cancelled) and closed time, seen at
moments near local midnight and near DST transitions. `doctor_days` and `day_slots` must give
exactly what the old code (tests/unit/test_slots_reference.py) gives.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.services.slots import day_slots, doctor_days, generate_slots
from db.models import (
    Booking,
    BookingStatus,
    Doctor,
    Service,
    Slot,
    WorkingHours,
)
from tests.factories import Factory
from tests.unit.test_slots_reference import reference_day_slots, reference_days

ZONES = (
    "Europe/Moscow",
    "Asia/Vladivostok",
    "Asia/Kolkata",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    # Clocks that change at local midnight, so a day's first slots move between dates.
    "America/Havana",
    "America/Santiago",
)
MOMENTS = (
    datetime(2026, 12, 1, 20, 59, tzinfo=UTC),  # a minute before midnight in Moscow
    datetime(2026, 12, 1, 14, 0, tzinfo=UTC),  # midnight in Vladivostok
    datetime(2026, 3, 25, 12, 0, tzinfo=UTC),  # Berlin's clocks go forward within days
    datetime(2026, 10, 22, 22, 5, tzinfo=UTC),  # … and back
    datetime(2026, 3, 4, 5, 0, tzinfo=UTC),  # New York's go forward on 8 March
    datetime(2026, 3, 30, 10, 0, tzinfo=UTC),  # Lord Howe goes back half an hour on 5 April
    datetime(2026, 9, 30, 13, 30, tzinfo=UTC),  # … and forward on 4 October
    datetime(2026, 3, 1, 12, 0, tzinfo=UTC),  # Havana: 00:00 becomes 01:00 on 8 March
    datetime(2026, 8, 30, 12, 0, tzinfo=UTC),  # Santiago: 00:00 becomes 01:00 on 6 September
)
HORIZON = 14


async def clinic(factory: Factory, rng: random.Random, zone: str) -> list[Doctor]:
    org = await factory.organization(timezone=zone)
    doctors = []
    for minutes in rng.sample([10, 15, 20, 25, 30, 60], 2):
        # Saturday ends at midnight and Sunday starts there, where dates and DST meet.
        hours: dict[int, tuple[time, time]] = {
            5: (time(22), time(23, 59)),
            6: (time(0), time(1, 30)),
        }
        for weekday in range(5):
            hours[weekday] = rng.choice(
                [
                    (time(0), time(1, 30)),
                    (time(22, 0), time(23, 59)),
                    (time(0, 30), time(4, 15)),
                    (time(8), time(18)),
                    (time(8, 10), time(12, 5)),
                ]
            )
        doctor = await factory.doctor(org, hours=hours, slot_minutes=minutes)
        # A second period on Mondays, so one day has two.
        factory.session.add(
            WorkingHours(doctor_id=doctor.id, weekday=0, start_time=time(19), end_time=time(20))
        )
        doctors.append(doctor)
    await factory.session.commit()
    return doctors


async def scatter(factory: Factory, rng: random.Random, now: datetime) -> None:
    """Random bookings, active and cancelled, and random closed slots."""
    session = factory.session
    slot_ids = list(await session.scalars(select(Slot.id).where(Slot.starts_at > now)))
    patient = await factory.patient()
    service_id = await session.scalar(select(Service.id))
    assert service_id is not None
    for slot_id in rng.sample(slot_ids, len(slot_ids) // 5):
        session.add(
            Booking(
                ticket_number=f"T{slot_id}",
                slot_id=slot_id,
                patient_id=patient.id,
                service_id=service_id,
                status=rng.choice([BookingStatus.ACTIVE, BookingStatus.CANCELLED]),
                created_at=now,
                updated_at=now,
            )
        )
    closed = rng.sample(slot_ids, len(slot_ids) // 10)
    await session.execute(update(Slot).where(Slot.id.in_(closed)).values(is_open=False))
    await session.commit()


@pytest.mark.parametrize("zone", ZONES)
async def test_grids_agree_with_the_per_slot_code(factory: Factory, zone: str) -> None:
    rng = random.Random(zone)
    session = factory.session
    tz = ZoneInfo(zone)
    doctors = await clinic(factory, rng, zone)
    first = min(MOMENTS) - timedelta(days=2)
    # Slots from before the earliest moment to after the latest one's horizon.
    await generate_slots(session, now=first, horizon_days=(max(MOMENTS) - first).days + HORIZON)
    await session.commit()
    await scatter(factory, rng, first)
    for now in MOMENTS:
        for doctor in doctors:
            views = await doctor_days(
                session, doctor_id=doctor.id, tz=tz, now=now, horizon_days=HORIZON
            )
            assert views == await reference_days(
                session, doctor_id=doctor.id, tz=tz, now=now, horizon_days=HORIZON
            )
            assert sum(view.free for view in views) > 0
            today = now.astimezone(tz).date()
            for day in (today + timedelta(days=n) for n in range(-1, HORIZON + 1)):
                assert await day_slots(
                    session, doctor_id=doctor.id, day=day, tz=tz, now=now
                ) == await reference_day_slots(
                    session, doctor_id=doctor.id, day=day, tz=tz, now=now
                )


async def test_the_day_grid_counts_by_the_local_date(factory: Factory) -> None:
    # 23:00 in Vladivostok (UTC+10) is 13:00 UTC the same date; 00:30 the next day is 14:30
    # UTC the date before. By UTC date all four would fall on one day.
    org = await factory.organization(timezone="Asia/Vladivostok")
    doctor = await factory.doctor(
        org, hours={2: (time(0), time(1)), 1: (time(22, 30), time(23, 59))}, slot_minutes=30
    )
    tz = ZoneInfo("Asia/Vladivostok")
    now = datetime(2026, 11, 30, 12, 0, tzinfo=tz)  # Monday noon
    await generate_slots(factory.session, now=now, horizon_days=3)
    await factory.session.commit()
    views = await doctor_days(factory.session, doctor_id=doctor.id, tz=tz, now=now, horizon_days=3)
    assert [(v.day, v.free) for v in views] == [
        (date(2026, 11, 30), 0),
        (date(2026, 12, 1), 2),  # Tuesday 22:30, 23:00
        (date(2026, 12, 2), 2),  # Wednesday 00:00, 00:30
    ]
    stored = await factory.session.scalars(select(Slot.starts_at))
    assert {s.astimezone(UTC).date() for s in stored} == {date(2026, 12, 1)}
