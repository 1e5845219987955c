"""A region's registry: import, regeneration, the two grids, and the bot starting on it.

A generated import file (bench/clinic.py `registry_file`) of D doctors, each working every
day 08:00–18:00 in 15-minute appointments (40 a day), is imported into a fresh SQLite file
with a horizon of H days (`generate_slots` makes H + 1 days, so D × (H + 1) × 40 slots). Then,
on the same database:

* `generate_slots` again, with nothing to change (what `python -m bot slots` does, and the
  bot in the background after it starts);
* the day grid and the time grid of one doctor, through the services the bot's screens call
  (bot/handlers/screens.py `days` → `slots.doctor_days`, `times` → `slots.day_slots`), each in
  a fresh session, median of several runs. Side by side with each, the floor: one Core query
  on the same index that gives the same answer (the free slots per day as one GROUP BY; the
  day's slots as rows). The registry holds no bookings and its days are the same in UTC and in
  Moscow, so the floors can be that simple; the answers are compared;
* the Talon bot process (bench/botproc.py, with the regeneration in the background as
  `run_polling` starts it) started on that database: seconds from starting the process until
  its answer to /start reached the stand-in; the baseline is the bare aiogram bot, started and
  asked the same way;
* `generate_slots` a day later, as the nightly job finds it: one new day for every doctor.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select

from bench.clinic import SLOTS_PER_DAY, TIMEZONE, registry_file
from bench.driver import BenchError, BotProcess, Driver, Step
from bench.table import Row, ms, ratio
from bot.services import slots
from bot.services.importing import import_data, load_toml
from bot.standin.harness import random_token
from bot.standin.server import StandInServer
from db.engine import Database, open_database
from db.models import Booking, BookingStatus, Doctor, Slot

TZ = ZoneInfo(TIMEZONE)
START_TIMEOUT = 120.0
# Midnight in Moscow: today's 40 appointments are all ahead.
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=TZ)
T = TypeVar("T")


def _progress(message: str) -> None:
    print(f"registry: {message}", file=sys.stderr, flush=True)


async def _median(
    db: Database, repeats: int, query: Callable[[Any], Awaitable[T]], *, core: bool
) -> tuple[float, T]:
    """Median seconds of `query` run `repeats` times, each in a fresh session (or connection)."""
    times: list[float] = []
    result: T | None = None
    for _ in range(repeats + 1):  # the first run warms caches and is not counted
        began = time.perf_counter()
        if core:
            async with db.engine.connect() as conn:
                result = await query(conn)
        else:
            async with db.sessions() as session:
                result = await query(session)
        times.append(time.perf_counter() - began)
    assert result is not None
    return statistics.median(times[1:]), result


async def _answers_start(mode: Literal["talon", "bare"], url: str, days: int) -> float:
    """Seconds from starting the bot process until its answer to /start was handled."""
    async with StandInServer(token=random_token()) as server:
        driver = Driver(server, timeout=START_TIMEOUT)
        user = driver.user(1, "Пациент")
        began = time.perf_counter()
        async with BotProcess(
            server, mode=mode, db_url=url, now=NOW.isoformat(), refresh=True, horizon_days=days
        ) as bot:
            await driver.walk(user, [Step.send("/start")])
            answered = time.perf_counter() - began
            driver.check_clean()
            sent = [m for m in server.messages(user.id) if m.from_bot]
            if not sent or not sent[-1].inline_keyboard:
                raise BenchError(f"the {bot.mode} bot did not answer /start with buttons")
    return answered


def _free(query: Any, doctor_id: int, since: datetime, until: datetime) -> Any:
    booked = (
        exists()
        .where(Booking.slot_id == Slot.id, Booking.status == BookingStatus.ACTIVE)
        .correlate(Slot)
    )
    return query.where(
        Slot.doctor_id == doctor_id,
        Slot.is_open.is_(True),
        Slot.starts_at >= since,
        Slot.starts_at < until,
        Slot.starts_at > NOW,
        ~booked,
    )


async def run(doctors: int, days: int, repeats: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="talon-bench-") as tmp:
        folder = Path(tmp)
        source = folder / "registry.toml"
        registry_file(source, doctors)
        url = f"sqlite+aiosqlite:///{folder / 'registry.sqlite3'}"
        async with open_database(url) as db:
            _progress(f"importing {doctors} doctors × {days + 1} days × {SLOTS_PER_DAY} slots…")
            began = time.perf_counter()
            data = load_toml(source)
            async with db.sessions() as session:
                await import_data(session, data=data, now=NOW, horizon_days=days)
            import_s = time.perf_counter() - began
            async with db.sessions() as session:
                total = int(await session.scalar(select(func.count(Slot.id))) or 0)
                doctor_id = await session.scalar(select(func.min(Doctor.id)))
            assert doctor_id is not None
            _progress(f"{total} slots in {import_s:.1f} s; regenerating with nothing to change…")

            began = time.perf_counter()
            async with db.sessions() as session:
                added = await slots.generate_slots(session, now=NOW, horizon_days=days)
                await session.commit()
            regen_s = time.perf_counter() - began
            _progress(f"regeneration {regen_s:.1f} s ({added} added); grids…")

            today = NOW.astimezone(TZ).date()
            since = slots.local_day_bounds(today, TZ)[0]
            until = slots.local_day_bounds(today + timedelta(days=days - 1), TZ)[1]
            pick = today + timedelta(days=days // 2)
            day = func.date(Slot.starts_at)

            async def day_grid(session: Any) -> list[slots.DayView]:
                return await slots.doctor_days(
                    session, doctor_id=doctor_id, tz=TZ, now=NOW, horizon_days=days
                )

            async def day_floor(conn: Any) -> list[Any]:
                query = _free(select(day, func.count()), doctor_id, since, until).group_by(day)
                return list((await conn.execute(query)).all())

            async def time_grid(session: Any) -> list[slots.SlotView]:
                return await slots.day_slots(session, doctor_id=doctor_id, day=pick, tz=TZ, now=NOW)

            async def time_floor(conn: Any) -> list[Any]:
                bounds = slots.local_day_bounds(pick, TZ)
                query = _free(select(Slot.id, Slot.starts_at), doctor_id, *bounds)
                return list((await conn.execute(query.order_by(Slot.starts_at))).all())

            grid_s, views = await _median(db, repeats, day_grid, core=False)
            floor_s, per_day = await _median(db, repeats, day_floor, core=True)
            grid_free = {v.day: v.free for v in views if v.free}
            floor_free = {date.fromisoformat(d): n for d, n in per_day}
            if grid_free != floor_free:
                raise BenchError("the day grid and its GROUP BY floor disagree")
            times_s, items = await _median(db, repeats, time_grid, core=False)
            rows_s, rows = await _median(db, repeats, time_floor, core=True)
            if [i.id for i in items if i.is_free] != [r.id for r in rows]:
                raise BenchError("the time grid and its Core floor disagree")

            _progress("starting the bot on the registry, and a bare aiogram bot…")
            talon_start_s = await _answers_start("talon", url, days)
            bare_start_s = await _answers_start("bare", url, days)
            _progress(f"/start answered {talon_start_s:.1f} s after start; a day later…")

            began = time.perf_counter()
            async with db.sessions() as session:
                nightly = await slots.generate_slots(
                    session, now=NOW + timedelta(days=1), horizon_days=days
                )
                await session.commit()
            nightly_s = time.perf_counter() - began
            if nightly != doctors * SLOTS_PER_DAY:
                raise BenchError(f"a day later {nightly} slots were added, not one day's")
    section = "registry"
    return [
        Row(
            section,
            "size",
            f"{doctors} doctors × {days + 1} days × {SLOTS_PER_DAY}",
            f"{total:,} slots",
        ),
        Row(section, "import (import_data)", f"{import_s:.2f} s"),
        Row(section, "import rate", f"{total / import_s:,.0f} slots/s"),
        Row(
            section,
            "regeneration, nothing to change",
            f"{regen_s:.2f} s",
            f"{added} added",
        ),
        Row(
            section,
            f"day grid, {days}-day horizon (baseline: GROUP BY)",
            ms(grid_s),
            ms(floor_s),
            ratio(grid_s, floor_s),
        ),
        Row(
            section,
            "time grid, one day (baseline: Core rows)",
            ms(times_s),
            ms(rows_s),
            ratio(times_s, rows_s),
        ),
        Row(
            section,
            "/start answered after the bot starts on it (baseline: bare aiogram bot)",
            f"{talon_start_s:.2f} s",
            f"{bare_start_s:.2f} s",
            ratio(talon_start_s, bare_start_s),
        ),
        Row(
            section,
            "regeneration a day later (one new day per doctor)",
            f"{nightly_s:.2f} s",
            f"{nightly:,} added",
        ),
    ]
