"""The doctor's days and times, as the booking screens show them.

`doctor_days` counts the free slots per local day in SQL (with the doctor's weekly hours in the
same statement on SQLite); `day_slots` reads one day's rows. Both are compiled `_Query`s on the
plain table constructs.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    String,
    and_,
    bindparam,
    case,
    cast,
    column,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    table,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.services.slots.rules import _SECOND, _naive
from bot.services.slots.storage import _ACTIVE, _BOOKINGS, _HOURS, _SLOTS, _Codec, _codec, _Query
from db.models import OfferState, SlotOffer


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


# Offers of freed slots from the waitlist (db/models/waitlist.py), as the grids read them.
_OFFERS = table(SlotOffer.__tablename__, column("slot_id"), column("state"), column("held_until"))
_HELD: ColumnElement[Any] = literal_column(f"'{OfferState.HELD.value}'")


def _booked() -> Any:
    """Taken: actively booked, or held from the waitlist for whoever was offered it."""
    # The literal status lets SQLite use the partial index of active bookings.
    booked = (
        exists()
        .where(_BOOKINGS.c.slot_id == _SLOTS.c.id, _BOOKINGS.c.status == _ACTIVE)
        .correlate(_SLOTS)
    )
    held = (
        exists()
        .where(
            _OFFERS.c.slot_id == _SLOTS.c.id,
            _OFFERS.c.state == _HELD,
            _OFFERS.c.held_until > bindparam("now"),
        )
        .correlate(_SLOTS)
    )
    return or_(booked, held)


def _open_slots_of_doctor() -> ColumnElement[bool]:
    return and_(_SLOTS.c.doctor_id == bindparam("doctor"), _SLOTS.c.is_open == true())


_TIME_GRID = _Query(
    select(_SLOTS.c.id, _SLOTS.c.starts_at, _booked())
    .where(
        _open_slots_of_doctor(),
        _SLOTS.c.starts_at >= bindparam("since"),
        _SLOTS.c.starts_at > bindparam("now"),
        _SLOTS.c.starts_at < bindparam("until"),
    )
    .order_by(_SLOTS.c.starts_at)
)
_FREE = and_(
    _open_slots_of_doctor(),
    _SLOTS.c.starts_at > bindparam("now"),
    _SLOTS.c.starts_at < bindparam("until"),
    ~_booked(),
)
# Databases with no local-date expression below: the free starts, grouped in Python.
_FREE_STARTS = _Query(select(_SLOTS.c.starts_at).where(_FREE))
_HOURS_OF_DOCTOR = _Query(
    select(_HOURS.c.weekday, _HOURS.c.start_time, _HOURS.c.end_time).where(
        _HOURS.c.doctor_id == bindparam("doctor")
    )
)


@functools.cache
def _free_per_day_query(dialect_name: str, segments: int) -> _Query:
    """Free slots per local date, counted by the database.

    PostgreSQL knows the time zones (`timezone()`). SQLite does not: each stretch of time with
    one UTC offset gets `date(starts_at, '+N seconds')`, the stretches cut at the zone's
    transitions (`_offset_segments`); a zone without DST has one stretch. On SQLite the
    doctor's weekly hours come in the same statement (rows with no count), one round trip
    fewer.
    """
    starts = _SLOTS.c.starts_at
    local: ColumnElement[Any]
    if dialect_name == "postgresql":
        local = cast(func.timezone(cast(bindparam("tz"), String), starts), Date)
    else:
        local = func.date(starts, bindparam(f"m{segments - 1}"))
        if segments > 1:
            local = case(
                *(
                    (starts < bindparam(f"t{i + 1}"), func.date(starts, bindparam(f"m{i}")))
                    for i in range(segments - 1)
                ),
                else_=local,
            )
    per_day = (
        select(local.label("local_day"), func.count().label("free"))
        .where(_FREE)
        .group_by(literal_column("local_day"))
    )
    if dialect_name != "sqlite":
        return _Query(per_day)
    return _Query(
        union_all(
            per_day.add_columns(null(), null()),
            select(_HOURS.c.weekday, null(), _HOURS.c.start_time, _HOURS.c.end_time).where(
                _HOURS.c.doctor_id == bindparam("doctor")
            ),
        )
    )


@functools.lru_cache(maxsize=1024)
def _offset_segments(
    tz: ZoneInfo, first_day: date, days: int
) -> tuple[tuple[datetime, ...], tuple[timedelta, ...]]:
    """The zone's UTC offsets over the local days [first_day, first_day + days), and the
    moments (naive UTC) where one gives way to the next, found to the second."""

    def offset(moment: datetime) -> timedelta:
        found = moment.astimezone(tz).utcoffset()
        assert found is not None
        return found

    edges = [local_day_bounds(first_day + timedelta(days=i), tz)[0] for i in range(days + 1)]
    offsets = [offset(edges[0])]
    cuts: list[datetime] = []
    for lo, hi in pairwise(edges):
        if offset(hi) == offset(lo):
            continue
        before = offset(lo)
        while hi - lo > _SECOND:
            middle = lo + ((hi - lo) // 2 // _SECOND) * _SECOND
            if offset(middle) == before:
                lo = middle
            else:
                hi = middle
        cuts.append(_naive(hi))
        offsets.append(offset(hi))
    return tuple(cuts), tuple(offsets)


async def _days_and_hours(
    conn: AsyncConnection,
    codec: _Codec,
    *,
    doctor_id: int,
    tz: ZoneInfo,
    today: date,
    days: int,
    now: datetime,
    until: datetime,
) -> tuple[dict[date, int], Sequence[Any]]:
    """Free slots per local date, and the doctor's weekly hours as (weekday, start, end)."""
    params: dict[str, Any] = {
        "doctor": doctor_id,
        "now": codec.encode(_naive(now)),
        "until": codec.encode(_naive(until)),
    }
    dialect = conn.dialect.name
    if dialect == "sqlite":
        return await _sqlite_days_and_hours(conn, codec, params, tz=tz, today=today, days=days)
    hours = list(await _HOURS_OF_DOCTOR.rows(conn, {"doctor": doctor_id}))
    if dialect == "postgresql" and tz.key:
        params["tz"] = tz.key
        rows = await _free_per_day_query(dialect, 1).rows(conn, params)
        return {day: int(count) for day, count in rows}, hours
    per_day: Counter[date] = Counter(
        codec.decode(starts_at).replace(tzinfo=UTC).astimezone(tz).date()
        for (starts_at,) in await _FREE_STARTS.rows(conn, params)
    )
    return dict(per_day), hours


async def _sqlite_days_and_hours(
    conn: AsyncConnection,
    codec: _Codec,
    params: dict[str, Any],
    *,
    tz: ZoneInfo,
    today: date,
    days: int,
) -> tuple[dict[date, int], Sequence[Any]]:
    """`_days_and_hours` on SQLite: one statement, the zone's offsets bound per stretch."""
    cuts, offsets = _offset_segments(tz, today, days)
    for i, utc_offset in enumerate(offsets):
        params[f"m{i}"] = f"{utc_offset // _SECOND:+d} seconds"
    for i, cut in enumerate(cuts, start=1):
        params[f"t{i}"] = codec.encode(cut)
    free: dict[date, int] = {}
    hours: list[Any] = []
    for key, count, start, end in await _free_per_day_query("sqlite", len(offsets)).rows(
        conn, params
    ):
        if count is None:
            hours.append((key, start, end))
        else:
            free[date.fromisoformat(key)] = count
    return free, hours


async def _connection(session: AsyncSession) -> AsyncConnection:
    # The queries below are Core statements: what the session holds unflushed goes first, as
    # an ORM query would have flushed it.
    if session.new or session.dirty or session.deleted:
        await session.flush()
    return await session.connection()


async def doctor_days(
    session: AsyncSession, *, doctor_id: int, tz: ZoneInfo, now: datetime, horizon_days: int
) -> list[DayView]:
    """The next `horizon_days` local days: the doctor's weekly hours, and free future slots."""
    today = now.astimezone(tz).date()
    if horizon_days <= 0:
        return []
    conn = await _connection(session)
    codec = _codec(conn.dialect)
    _, until = local_day_bounds(today + timedelta(days=horizon_days - 1), tz)
    free, hours = await _days_and_hours(
        conn,
        codec,
        doctor_id=doctor_id,
        tz=tz,
        today=today,
        days=horizon_days,
        now=now,
        until=until,
    )
    hours_by_weekday: dict[int, tuple[time, time]] = {}
    for weekday, raw_start, raw_end in hours:
        rule_start, rule_end = codec.read_time(raw_start), codec.read_time(raw_end)
        start, end = hours_by_weekday.get(weekday, (rule_start, rule_end))
        hours_by_weekday[weekday] = (min(start, rule_start), max(end, rule_end))
    views = []
    for offset in range(horizon_days):
        day = today + timedelta(days=offset)
        views.append(
            DayView(day=day, hours=hours_by_weekday.get(day.weekday()), free=free.get(day, 0))
        )
    return views


async def day_slots(
    session: AsyncSession, *, doctor_id: int, day: date, tz: ZoneInfo, now: datetime
) -> list[SlotView]:
    """The day's slots that have not started yet, free or taken."""
    since, until = local_day_bounds(day, tz)
    conn = await _connection(session)
    codec = _codec(conn.dialect)
    encode = codec.encode
    rows = await _TIME_GRID.rows(
        conn,
        {
            "doctor": doctor_id,
            "since": encode(_naive(since)),
            "now": encode(_naive(now)),
            "until": encode(_naive(until)),
        },
    )
    decode = codec.decode
    return [
        SlotView(id=slot_id, starts_at=decode(starts_at).replace(tzinfo=UTC), is_free=not booked)
        for slot_id, starts_at, booked in rows
    ]
