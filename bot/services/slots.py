"""Slot generation from weekly working hours, and the views of a doctor's schedule.

A region's registry holds millions of slots (1,000 doctors × 61 days × 40 = 2.44 M), so nothing
here loads slots as ORM objects, and the hot queries skip SQLAlchemy's per-value processing:
they bind and read the values the driver stores (`_Codec`), through Core statements on plain
`table()` constructs.

* `generate_slots` plans each doctor's wanted slots as runs (one per working period of a day:
  first start, count, all of the doctor's length), checks them against the database with a few
  aggregate queries instead of reading every row (`_find_changes`), and reads and rewrites only
  what differs, with executemany.
* `doctor_days` counts the free slots per local day in SQL; `day_slots` reads one day's rows.
"""

from __future__ import annotations

import asyncio
import functools
import operator
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate, pairwise, repeat
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    column,
    delete,
    exists,
    extract,
    false,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    table,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement, ColumnElement
from sqlalchemy.sql.expression import Executable

from db.models import Booking, BookingStatus, Closure, Doctor, Organization, Slot, WorkingHours

# --- Weekly rules -------------------------------------------------------------------------------


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


# --- Values as the driver stores them ----------------------------------------------------------

_SECOND: Final = timedelta(seconds=1)
_EPOCH: Final = datetime(1970, 1, 1)
# SQLite refuses statements with more bound parameters than this (999 on old builds).
_IN_CHUNK: Final = 500
_WRITE_CHUNK: Final = 50_000
# Spans of a doctor read one by one (three parameters each) before the whole future is cheaper.
_SPANS_PER_QUERY: Final = 150
_SPANS_PER_DOCTOR: Final = 8
_ACTIVE: Final[ColumnElement[Any]] = literal_column(f"'{BookingStatus.ACTIVE.value}'")


@dataclass(frozen=True, slots=True)
class _Codec:
    """Naive UTC datetimes to and from the values the driver stores.

    The same conversion as the models' `UTCDateTime` and the dialect's DATETIME, without
    their per-value Python calls; on SQLite the fast form is checked against them first.
    """

    encode: Callable[[datetime], Any]
    decode: Callable[[Any], datetime]
    read_time: Callable[[Any], time]


_codecs: dict[tuple[str, str], _Codec] = {}


def _codec(dialect: Dialect) -> _Codec:
    key = (dialect.name, dialect.driver)
    found = _codecs.get(key)
    if found is None:
        found = _codecs[key] = _make_codec(dialect)
    return found


def _make_codec(dialect: Dialect) -> _Codec:
    moment_type = Slot.__table__.c.starts_at.type.dialect_impl(dialect)
    bind = moment_type.bind_processor(dialect)
    result = moment_type.result_processor(dialect, None)
    time_type = WorkingHours.__table__.c.start_time.type.dialect_impl(dialect)
    time_result = time_type.result_processor(dialect, None)

    def encode(value: datetime) -> Any:
        aware = value.replace(tzinfo=UTC)
        return bind(aware) if bind is not None else aware

    def decode(value: Any) -> datetime:
        aware = result(value) if result is not None else value
        assert isinstance(aware, datetime)
        return aware.astimezone(UTC).replace(tzinfo=None)

    def read_time(value: Any) -> time:
        moment = time_result(value) if time_result is not None else value
        assert isinstance(moment, time)
        return moment

    if dialect.name == "sqlite":
        probe = datetime(2026, 3, 29, 1, 2, 3, 4005)
        stored = encode(probe)
        if _sqlite_text(probe) == stored and datetime.fromisoformat(stored) == probe:
            return _Codec(encode=_sqlite_text, decode=datetime.fromisoformat, read_time=read_time)
    return _Codec(encode=encode, decode=decode, read_time=read_time)


# The SQLite dialect's storage format, by a C-level call (no Python frame per value).
_sqlite_text: Callable[[datetime], str] = operator.methodcaller("isoformat", " ", "microseconds")


# Plain table constructs: Core statements on them bind and return the driver's own values.
_SLOTS = table(
    Slot.__tablename__,
    column("id"),
    column("doctor_id"),
    column("starts_at"),
    column("ends_at"),
    column("is_open"),
)
_BOOKINGS = table(Booking.__tablename__, column("slot_id"), column("status"))
_HOURS = table(
    WorkingHours.__tablename__,
    column("doctor_id"),
    column("weekday"),
    column("start_time"),
    column("end_time"),
)


class _Query:
    """A Core statement run with the driver's values.

    On aiosqlite the statement is compiled once and sent to the driver directly: the screens'
    queries take well under a millisecond there, and SQLAlchemy's execution path would
    double that. Elsewhere SQLAlchemy runs it as usual.
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._sqlite: tuple[str, tuple[str, ...], SQLCompiler] | None = None

    async def rows(self, conn: AsyncConnection, params: Mapping[str, Any]) -> Sequence[Any]:
        if conn.dialect.driver != "aiosqlite":
            return (await conn.execute(self.statement, dict(params))).all()
        if self._sqlite is None:
            compiled = _compile(self.statement, conn.dialect)
            self._sqlite = (compiled.string, tuple(compiled.positiontup or ()), compiled)
        sql, names, compiled = self._sqlite
        values = compiled.construct_params(dict(params))
        assert values is not None
        positional = [values[name] for name in names]
        sync = conn.sync_connection
        if sync is not None:
            # Listeners (statement counts, logs) still see the statement; they get no cursor.
            for listener in sync.dispatch.before_cursor_execute:
                listener(sync, None, sql, positional, None, False)
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        return list(await driver.execute_fetchall(sql, positional))


async def _execute_many(
    conn: AsyncConnection,
    statement: Executable,
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """The statement once per row; a row holds the values of `names`, in that order."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        compiled = _compile(statement, conn.dialect)
        if list(compiled.positiontup or ()) == list(names):
            # Tuples go to the driver's executemany as they are: no per-row dict, no processing.
            for start in range(0, len(rows), _WRITE_CHUNK):
                await conn.exec_driver_sql(
                    compiled.string, list(rows[start : start + _WRITE_CHUNK])
                )
            return
    for start in range(0, len(rows), _WRITE_CHUNK):
        chunk = rows[start : start + _WRITE_CHUNK]
        await conn.execute(statement, [dict(zip(names, row, strict=True)) for row in chunk])


def _compile(statement: Executable, dialect: Dialect) -> SQLCompiler:
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    return compiled


def _off_the_second(moment: ColumnElement[Any], dialect: Dialect) -> ColumnElement[Any] | None:
    """True for a stored moment with a fraction of a second (or, on SQLite, stored in another
    form than the dialect's); None on other databases."""
    if dialect.name == "sqlite":
        return func.substr(moment, 20) != literal_column("'.000000'")
    if dialect.name == "postgresql":
        micro = cast(extract("microseconds", moment), BigInteger)
        return micro % literal_column("1000000") != literal_column("0")
    return None


def _epoch_seconds(moment: ColumnElement[Any], dialect: Dialect) -> ColumnElement[Any] | None:
    """Whole seconds since 1970 of a stored UTC moment, in SQL; None on other databases."""
    if dialect.name == "sqlite":
        days = func.julianday(moment) - literal_column("2440587.5")
        return cast(func.round(days * literal_column("86400")), Integer)
    if dialect.name == "postgresql":
        return cast(extract("epoch", moment), BigInteger)
    return None


# --- Generation: what each doctor wants --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Doctor:
    id: int
    slot_minutes: int
    tz: ZoneInfo
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class _Run:
    """Slots `first + k × step` for k < count, each lasting `step`, open (naive UTC)."""

    first: datetime
    count: int


@dataclass(slots=True)
class _Wanted:
    """One doctor's wanted future slots: open runs of the doctor's length on one grid
    (`phase` seconds past a multiple of the length since 1970), and the rest one by one."""

    step: timedelta
    runs: list[_Run] = field(default_factory=list)
    # start → (end, open): closed by the registry, another length (a DST day), off the grid.
    odd: dict[datetime, tuple[datetime, bool]] = field(default_factory=dict)
    phase: int = 0
    # The runs could not be laid out one after another (overlapping rules): no quick check.
    exact_only: bool = False
    _firsts: list[datetime] = field(default_factory=list)

    @property
    def step_seconds(self) -> int:
        return self.step // _SECOND

    def last(self, run: _Run) -> datetime:
        return run.first + self.step * (run.count - 1)

    def run_at(self, moment: datetime) -> _Run | None:
        """The run whose span [first, last] holds `moment`."""
        index = bisect_right(self._firsts, moment) - 1
        if index < 0:
            return None
        run = self.runs[index]
        return run if moment <= self.last(run) else None

    def in_runs(self, moment: datetime) -> bool:
        run = self.run_at(moment)
        return run is not None and (moment - run.first) % self.step == timedelta(0)

    def wants(self, moment: datetime) -> bool:
        return moment in self.odd or self.in_runs(moment)

    def run_starts(self, run: _Run) -> list[datetime]:
        return list(accumulate(repeat(self.step, run.count - 1), operator.add, initial=run.first))

    def slots(
        self, spans: Sequence[tuple[datetime, datetime]] | None = None
    ) -> dict[datetime, tuple[datetime, bool]]:
        """start → (end, open) of every wanted slot, or of those starting within `spans`."""
        found: dict[datetime, tuple[datetime, bool]] = {}
        step = self.step
        for run in self.runs:
            if spans is not None and not _overlaps(spans, run.first, self.last(run)):
                continue
            for start in self.run_starts(run):
                if spans is None or _within(spans, start):
                    found[start] = (start + step, True)
        for start, value in self.odd.items():
            if spans is None or _within(spans, start):
                found[start] = value
        return found


def _within(spans: Sequence[tuple[datetime, datetime]], moment: datetime) -> bool:
    return any(lo <= moment <= hi for lo, hi in spans)


def _overlaps(spans: Sequence[tuple[datetime, datetime]], lo: datetime, hi: datetime) -> bool:
    return any(a <= hi and lo <= b for a, b in spans)


def _since_midnight(moment: time) -> timedelta:
    return timedelta(
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        microseconds=moment.microsecond,
    )


@functools.lru_cache(maxsize=4096)
def _steady_offset(tz: ZoneInfo, day: date) -> timedelta | None:
    """The day's UTC offset if it is the same at both of its midnights, else None."""
    first = datetime.combine(day, time.min, tzinfo=tz).utcoffset()
    last = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).utcoffset()
    return first if first == last else None


def _overlapping(rules: Sequence[Rule]) -> bool:
    return any(b.start < a.end for a, b in pairwise(rules))


def _on_whole_second(moment: datetime) -> bool:
    return (moment - _EPOCH) % _SECOND == timedelta(0)


def _plan(
    doctor: _Doctor,
    *,
    now: datetime,
    horizon_days: int,
    closures: Sequence[tuple[datetime, datetime]],
) -> _Wanted:
    """What `slot_starts` gives for the horizon after `now`, closures applied, as runs.

    A day whose UTC offset is the same at both ends takes the arithmetic; a day with a
    transition, or with overlapping rules, goes slot by slot through `slot_starts` itself.
    """
    step = timedelta(minutes=doctor.slot_minutes)
    tz = doctor.tz
    wanted = _Wanted(step=step)
    today = now.replace(tzinfo=UTC).astimezone(tz).date()
    by_weekday: dict[int, list[Rule]] = {}
    for rule in doctor.rules:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    for weekday_rules in by_weekday.values():
        weekday_rules.sort(key=lambda r: r.start)
    # Per weekday: each period's start (from midnight) and number of slots; None when the
    # periods overlap.
    periods: dict[int, list[tuple[timedelta, int]] | None] = {}
    for weekday, day_rules in by_weekday.items():
        if _overlapping(day_rules):
            periods[weekday] = None
            continue
        periods[weekday] = [
            (since, count)
            for since, count in (
                (
                    _since_midnight(rule.start),
                    (_since_midnight(rule.end) - _since_midnight(rule.start)) // step,
                )
                for rule in day_rules
            )
            if count > 0
        ]
    runs: list[_Run] = []
    single: dict[datetime, datetime] = {}
    first_weekday = today.weekday()
    # One day more than patients see: the daily run happens at one server hour, and a
    # far-eastern clinic's newest day must not wait for it after midnight.
    for offset in range(horizon_days + 1):
        weekday = (first_weekday + offset) % 7
        if weekday not in periods:
            continue
        day = today + timedelta(days=offset)
        day_periods = periods[weekday]
        utc_offset = _steady_offset(tz, day)
        if utc_offset is None or day_periods is None:
            for start, end in slot_starts(
                rules=by_weekday[weekday],
                slot_minutes=doctor.slot_minutes,
                tz=tz,
                first_day=day,
                days=1,
            ):
                single[start.replace(tzinfo=None)] = end.replace(tzinfo=None)
            continue
        midnight = datetime.combine(day, time.min) - utc_offset
        runs.extend(_Run(midnight + since, count) for since, count in day_periods)

    future: list[_Run] = []
    for run in runs:
        if run.first <= now:
            passed = (now - run.first) // step + 1
            if passed >= run.count:
                continue
            run = _Run(run.first + step * passed, run.count - passed)
        future.append(run)
    single = {start: end for start, end in single.items() if start > now}

    open_runs, closed = _without_closures(future, closures, step)
    weights: Counter[int] = Counter()
    for run in open_runs:
        if _on_whole_second(run.first):
            weights[((run.first - _EPOCH) // _SECOND) % wanted.step_seconds] += run.count
    wanted.phase = weights.most_common(1)[0][0] if weights else 0

    def on_grid(moment: datetime) -> bool:
        return (
            _on_whole_second(moment)
            and ((moment - _EPOCH) // _SECOND) % wanted.step_seconds == wanted.phase
        )

    regular: list[_Run] = []
    for run in open_runs:
        if on_grid(run.first):
            regular.append(run)
        else:
            for start in wanted.run_starts(run):
                wanted.odd[start] = (start + step, True)
    for start in closed:
        wanted.odd[start] = (start + step, False)
    for start, end in single.items():
        is_closed = any(c_start < end and start < c_end for c_start, c_end in closures)
        if not is_closed and end - start == step and on_grid(start):
            regular.append(_Run(start, 1))
        else:
            wanted.odd[start] = (end, not is_closed)

    regular.sort(key=lambda r: r.first)
    merged: list[_Run] = []
    for run in regular:
        if merged:
            last = wanted.last(merged[-1])
            if run.first <= last:
                wanted.exact_only = True
            elif run.first == last + step:
                merged[-1] = _Run(merged[-1].first, merged[-1].count + run.count)
                continue
        merged.append(run)
    wanted.runs = merged
    wanted._firsts = [run.first for run in merged]
    if any(wanted.in_runs(start) for start in wanted.odd):
        wanted.exact_only = True
    return wanted


def _without_closures(
    runs: Sequence[_Run], closures: Sequence[tuple[datetime, datetime]], step: timedelta
) -> tuple[list[_Run], list[datetime]]:
    """The runs' slots not overlapping any closure (as runs), and the starts of those that do."""
    if not closures:
        return list(runs), []
    pieces: list[_Run] = []
    closed: list[datetime] = []
    for run in runs:
        marks: list[tuple[int, int]] = []
        for c_start, c_end in closures:
            # Slot k overlaps [c_start, c_end) when c_start < first + (k + 1)·step and
            # first + k·step < c_end.
            lo = max(0, (c_start - run.first) // step)
            hi = min(run.count, -((run.first - c_end) // step))
            if lo < hi:
                marks.append((lo, hi))
        if not marks:
            pieces.append(run)
            continue
        marks.sort()
        cursor = 0
        for lo, hi in marks:
            if lo > cursor:
                pieces.append(_Run(run.first + step * cursor, lo - cursor))
            for k in range(max(lo, cursor), hi):
                closed.append(run.first + step * k)
            cursor = max(cursor, hi)
        if cursor < run.count:
            pieces.append(_Run(run.first + step * cursor, run.count - cursor))
    return pieces, closed


# --- Generation: against the database ----------------------------------------------------------

_TEMP = MetaData()
_GRID_TABLE = Table(
    "talon_tmp_slot_grid",
    _TEMP,
    Column("doctor_id", Integer, primary_key=True, autoincrement=False),
    Column("step", Integer, nullable=False),
    Column("phase", Integer, nullable=False),
    prefixes=["TEMPORARY"],
)
_SPAN_TABLE = Table(
    "talon_tmp_slot_spans",
    _TEMP,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("doctor_id", Integer, nullable=False),
    Column("lo", DateTime(timezone=True), nullable=False),
    Column("hi", DateTime(timezone=True), nullable=False),
    prefixes=["TEMPORARY"],
)
_GRID = table(_GRID_TABLE.name, column("doctor_id"), column("step"), column("phase"))
_SPANS = table(_SPAN_TABLE.name, column("id"), column("doctor_id"), column("lo"), column("hi"))

_INSERT_SLOT = insert(_SLOTS).values(
    doctor_id=bindparam("d"),
    starts_at=bindparam("s"),
    ends_at=bindparam("e"),
    is_open=bindparam("o"),
)
_SLOT_FIELDS: Final = ("d", "s", "e", "o")
_DELETE_SLOT = delete(_SLOTS).where(_SLOTS.c.id == bindparam("i"))
_SET_OPEN = update(_SLOTS).where(_SLOTS.c.id == bindparam("i")).values(is_open=bindparam("o"))
_INSERT_GRID = insert(_GRID).values(
    doctor_id=bindparam("d"), step=bindparam("st"), phase=bindparam("ph")
)
_INSERT_SPAN = insert(_SPANS).values(
    id=bindparam("n"), doctor_id=bindparam("d"), lo=bindparam("l"), hi=bindparam("h")
)

# (first, last) starts, inclusive, naive UTC.
_Span = tuple[datetime, datetime]
# start → (slot id, end, open)
_Existing = dict[datetime, tuple[int, datetime, bool]]


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


class _Temporary:
    """Temporary tables for one statement group: dropped first if a failed run left them."""

    def __init__(self, conn: AsyncConnection, *tables: Table) -> None:
        self._conn = conn
        self._tables = tables
        schema = {"sqlite": "temp.", "postgresql": "pg_temp."}.get(conn.dialect.name, "")
        self._names = [f"{schema}{t.name}" for t in tables]

    async def __aenter__(self) -> None:
        for name, created in zip(self._names, self._tables, strict=True):
            await self._conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
            await self._conn.execute(CreateTable(created))

    async def __aexit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:
            for name in self._names:
                await self._conn.execute(text(f"DROP TABLE {name}"))


async def _load_doctors(session: AsyncSession, doctor_ids: Sequence[int] | None) -> list[_Doctor]:
    doctors = select(Doctor.id, Doctor.slot_minutes, Organization.timezone).join(
        Organization, Organization.id == Doctor.organization_id
    )
    hours = select(
        WorkingHours.doctor_id, WorkingHours.weekday, WorkingHours.start_time, WorkingHours.end_time
    )
    doctor_rows: list[Any] = []
    hour_rows: list[Any] = []
    if doctor_ids is None:
        doctor_rows = list(await session.execute(doctors))
        hour_rows = list(await session.execute(hours))
    else:
        for chunk in _chunks(sorted(set(doctor_ids))):
            doctor_rows += await session.execute(doctors.where(Doctor.id.in_(chunk)))
            hour_rows += await session.execute(hours.where(WorkingHours.doctor_id.in_(chunk)))
    rules: dict[int, list[Rule]] = {}
    for doctor_id, weekday, start, end in sorted(hour_rows):
        rules.setdefault(doctor_id, []).append(Rule(weekday, start, end))
    return [
        _Doctor(
            id=doctor_id,
            slot_minutes=slot_minutes,
            tz=ZoneInfo(timezone),
            rules=tuple(rules.get(doctor_id, ())),
        )
        for doctor_id, slot_minutes, timezone in sorted(doctor_rows)
    ]


async def _load_closures(
    session: AsyncSession, *, now: datetime, doctor_ids: Sequence[int] | None
) -> dict[int, list[_Span]]:
    query = select(Closure.doctor_id, Closure.starts_at, Closure.ends_at).where(
        Closure.ends_at > now
    )
    rows: list[Any] = []
    if doctor_ids is None:
        rows = list(await session.execute(query))
    else:
        for chunk in _chunks(sorted(set(doctor_ids))):
            rows += await session.execute(query.where(Closure.doctor_id.in_(chunk)))
    found: dict[int, list[_Span]] = {}
    for doctor_id, starts_at, ends_at in rows:
        found.setdefault(doctor_id, []).append((_naive(starts_at), _naive(ends_at)))
    return found


async def _future_counts(
    session: AsyncSession, *, now: datetime, doctor_ids: Sequence[int] | None
) -> dict[int, int]:
    """How many slots start after `now`, per doctor (from the (doctor, start) index alone)."""
    query = (
        select(Slot.doctor_id, func.count()).where(Slot.starts_at > now).group_by(Slot.doctor_id)
    )
    if doctor_ids is None:
        return {d: n for d, n in await session.execute(query)}  # noqa: C416
    counts: dict[int, int] = {}
    for chunk in _chunks(sorted(set(doctor_ids))):
        counts.update(
            {d: n for d, n in await session.execute(query.where(Slot.doctor_id.in_(chunk)))}  # noqa: C416
        )
    return counts


async def _worth_scanning(session: AsyncSession, rows: int) -> bool:
    """Whether `rows` are enough of the table to check them in one pass over all of it."""
    low, high = (await session.execute(select(func.min(Slot.id), func.max(Slot.id)))).one()
    return low is not None and high is not None and rows * 8 >= high - low + 1


async def _find_changes(
    conn: AsyncConnection,
    codec: _Codec,
    wanted: Mapping[int, _Wanted],
    counts: Mapping[int, int],
    now: datetime,
) -> dict[int, list[_Span] | None]:
    """Which of these doctors' slots may differ from what they want, without reading them all.

    Returns, for each doctor that needs a closer look, the spans of runs to compare row by
    row, or None for the whole future. Exact, by these facts about the doctor's rows after
    `now`:

    * one pass over the table returns every row that is not an open slot of the doctor's
      length on the doctor's grid, in whole seconds ("odd"); they must be exactly the wanted
      odd slots (or closed slots the rules dropped that keep a booking);
    * a run's span [first, last] holds exactly its `count` grid points; the rows there that are
      not odd are on the grid and have distinct starts, so there are `count` of them exactly
      when they are the run;
    * the rows outside every span, counted as all rows less those inside, must all be odd.
    """
    doctors = list(wanted)
    dialect = conn.dialect
    start_s = _epoch_seconds(_SLOTS.c.starts_at, dialect)
    end_s = _epoch_seconds(_SLOTS.c.ends_at, dialect)
    start_split = _off_the_second(_SLOTS.c.starts_at, dialect)
    end_split = _off_the_second(_SLOTS.c.ends_at, dialect)
    if (
        start_s is None
        or end_s is None
        or start_split is None
        or end_split is None
        or (dialect.name == "sqlite" and codec.encode is not _sqlite_text)
    ):
        return dict.fromkeys(doctors)
    encode = codec.encode
    span_rows: list[tuple[int, int, Any, Any]] = []
    for doctor_id in doctors:
        plan = wanted[doctor_id]
        for run in plan.runs:
            span_rows.append(
                (len(span_rows) + 1, doctor_id, encode(run.first), encode(plan.last(run)))
            )
    grid_rows = [(d, wanted[d].step_seconds, wanted[d].phase) for d in doctors]
    in_span = (
        select(func.count())
        .select_from(_SLOTS)
        .where(
            _SLOTS.c.doctor_id == _SPANS.c.doctor_id,
            _SLOTS.c.starts_at >= _SPANS.c.lo,
            _SLOTS.c.starts_at <= _SPANS.c.hi,
        )
        .scalar_subquery()
    )
    # "+ 0": the pass goes over the table once, looking each row's doctor up in the grid,
    # rather than through the index and back to the table for every row.
    odd_rows = (
        select(
            _SLOTS.c.id, _SLOTS.c.doctor_id, _SLOTS.c.starts_at, _SLOTS.c.ends_at, _SLOTS.c.is_open
        )
        .select_from(
            _SLOTS.join(_GRID, _GRID.c.doctor_id == _SLOTS.c.doctor_id + literal_column("0"))
        )
        .where(
            _SLOTS.c.starts_at > bindparam("now"),
            or_(
                _SLOTS.c.is_open == false(),
                end_s - start_s != _GRID.c.step,
                (start_s - _GRID.c.phase) % _GRID.c.step != literal_column("0"),
                # Whole seconds, so that the seconds above are the moments themselves.
                start_split,
                end_split,
            ),
        )
    )
    async with _Temporary(conn, _GRID_TABLE, _SPAN_TABLE):
        await _execute_many(conn, _INSERT_GRID, ("d", "st", "ph"), grid_rows)
        await _execute_many(conn, _INSERT_SPAN, ("n", "d", "l", "h"), span_rows)
        found_counts = await conn.execute(select(_SPANS.c.id, in_span))
        span_counts: dict[int, int] = {n: count for n, count in found_counts}  # noqa: C416
        found: dict[int, dict[datetime, tuple[int, datetime, bool]]] = {}
        for slot_id, doctor_id, starts_at, ends_at, is_open in await conn.execute(
            odd_rows, {"now": codec.encode(now)}
        ):
            found.setdefault(doctor_id, {})[codec.decode(starts_at)] = (
                slot_id,
                codec.decode(ends_at),
                bool(is_open),
            )

    changed: dict[int, list[_Span] | None] = {}
    # Closed slots the rules no longer produce: unchanged if they keep a booking.
    dropped: dict[int, list[int]] = {}
    for doctor_id in doctors:
        plan = wanted[doctor_id]
        odd = found.get(doctor_id, {})
        same = len(plan.odd) <= len(odd)
        for start, (slot_id, end, is_open) in odd.items():
            expected = plan.odd.get(start)
            if expected == (end, is_open):
                continue
            if expected is None and not is_open and not plan.wants(start):
                dropped.setdefault(doctor_id, []).append(slot_id)
                continue
            same = False
            break
        if same and any(start not in odd for start in plan.odd):
            same = False
        if not same:
            changed[doctor_id] = None
    booked = await _ever_booked(conn, [i for ids in dropped.values() for i in ids])
    for doctor_id, ids in dropped.items():
        if any(slot_id not in booked for slot_id in ids):
            changed[doctor_id] = None

    first_span = 1
    for doctor_id in doctors:
        plan = wanted[doctor_id]
        span_ids = range(first_span, first_span + len(plan.runs))
        first_span += len(plan.runs)
        if doctor_id in changed:
            continue
        odd_starts = sorted(found.get(doctor_id, {}))
        inside = odd_inside = 0
        spans: list[_Span] = []
        for n, run in zip(span_ids, plan.runs, strict=True):
            count = span_counts.get(n, 0)
            last = plan.last(run)
            here = bisect_right(odd_starts, last) - bisect_left(odd_starts, run.first)
            inside += count
            odd_inside += here
            if count != run.count + here:
                spans.append((run.first, last))
        if counts.get(doctor_id, 0) != inside + len(odd_starts) - odd_inside:
            changed[doctor_id] = None
        elif spans:
            changed[doctor_id] = spans
    return changed


@asynccontextmanager
async def _checked_on(conn: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    """The connection for the one-pass check.

    On SQLite the check's temporary tables start a transaction, whose reads then pin a
    snapshot of the database; such a transaction cannot take the write lock once another
    connection (the bot answering someone) has committed. So unless this connection already
    writes (and so holds the lock, and must see its own uncommitted rows), the check runs on
    a connection of its own, and the rewrite below starts its transaction with its first
    write, as every transaction of the bot does.
    """
    if conn.dialect.name == "sqlite":
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        if not driver.in_transaction:
            async with conn.engine.connect() as own:
                yield own
            return
    yield conn


async def _ever_booked(conn: AsyncConnection, slot_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(sorted(set(slot_ids))):
        query = select(_BOOKINGS.c.slot_id).where(_BOOKINGS.c.slot_id.in_(chunk)).distinct()
        found.update(slot_id for (slot_id,) in await conn.execute(query))
    return found


async def _existing(
    conn: AsyncConnection,
    codec: _Codec,
    changed: Mapping[int, list[_Span] | None],
    now: datetime,
) -> dict[int, _Existing]:
    """The rows to compare: each doctor's whole future, or the rows in the given spans."""
    found: dict[int, _Existing] = {}

    def keep(rows: Iterable[Any]) -> None:
        for slot_id, doctor_id, starts_at, ends_at, is_open in rows:
            found.setdefault(doctor_id, {})[codec.decode(starts_at)] = (
                slot_id,
                codec.decode(ends_at),
                bool(is_open),
            )

    columns = (
        _SLOTS.c.id,
        _SLOTS.c.doctor_id,
        _SLOTS.c.starts_at,
        _SLOTS.c.ends_at,
        _SLOTS.c.is_open,
    )
    whole = [doctor_id for doctor_id, spans in changed.items() if spans is None]
    for chunk in _chunks(sorted(whole)):
        query = select(*columns).where(
            _SLOTS.c.doctor_id.in_(chunk), _SLOTS.c.starts_at > bindparam("now")
        )
        keep(await conn.execute(query, {"now": codec.encode(now)}))
    # No temporary table here: on SQLite its rows would start the transaction with a read of
    # the database, and a transaction that has read cannot take the write lock once another
    # connection has committed (see `_checked_on`).
    spans = [
        (doctor_id, lo, hi)
        for doctor_id, doctor_spans in changed.items()
        if doctor_spans is not None
        for lo, hi in doctor_spans
    ]
    for start in range(0, len(spans), _SPANS_PER_QUERY):
        query = select(*columns).where(
            or_(
                *(
                    and_(
                        _SLOTS.c.doctor_id == doctor_id,
                        _SLOTS.c.starts_at >= codec.encode(lo),
                        _SLOTS.c.starts_at <= codec.encode(hi),
                    )
                    for doctor_id, lo, hi in spans[start : start + _SPANS_PER_QUERY]
                )
            )
        )
        keep(await conn.execute(query))
    return found


def _all_rows(doctor_id: int, plan: _Wanted, codec: _Codec) -> list[tuple[Any, ...]]:
    """Every wanted slot of a doctor who has none yet, as rows to insert, by start."""
    encode = codec.encode
    if plan.odd:
        return [
            (doctor_id, encode(start), encode(end), is_open)
            for start, (end, is_open) in sorted(plan.slots().items())
        ]
    rows: list[tuple[Any, ...]] = []
    for run in plan.runs:
        # Within a run each slot ends where the next one starts: encode each moment once.
        starts = [encode(start) for start in plan.run_starts(run)]
        ends = starts[1:]
        ends.append(encode(plan.last(run) + plan.step))
        rows.extend(zip(repeat(doctor_id), starts, ends, repeat(True), strict=False))
    return rows


@dataclass(slots=True)
class _Rewrite:
    delete: list[int] = field(default_factory=list)
    close: list[int] = field(default_factory=list)
    reopen: list[int] = field(default_factory=list)
    insert: list[tuple[Any, ...]] = field(default_factory=list)


async def _rewrite(
    conn: AsyncConnection,
    codec: _Codec,
    wanted: Mapping[int, _Wanted],
    changed: Mapping[int, list[_Span] | None],
    existing: Mapping[int, _Existing],
) -> _Rewrite:
    """What to write so that the compared rows become the wanted ones (the old rules kept:
    a slot that ever had a booking is closed, never deleted)."""
    plan = _Rewrite()
    stale: list[tuple[int, datetime, int, bool]] = []
    targets: dict[int, dict[datetime, tuple[datetime, bool]]] = {}
    for doctor_id, spans in changed.items():
        want = targets[doctor_id] = wanted[doctor_id].slots(spans)
        for start, (slot_id, end, is_open) in existing.get(doctor_id, {}).items():
            target = want.get(start)
            if target is None or target[0] != end:
                stale.append((doctor_id, start, slot_id, is_open))
            elif target[1] != is_open:
                (plan.reopen if target[1] else plan.close).append(slot_id)
    booked = await _ever_booked(conn, [slot_id for _, _, slot_id, _ in stale])
    gone: set[tuple[int, datetime]] = set()
    for doctor_id, start, slot_id, is_open in stale:
        if slot_id in booked:
            if is_open:
                plan.close.append(slot_id)
        else:
            plan.delete.append(slot_id)
            gone.add((doctor_id, start))
    encode = codec.encode
    for doctor_id in sorted(changed):
        have = existing.get(doctor_id, {})
        for start, (end, is_open) in sorted(targets[doctor_id].items()):
            if start not in have or (doctor_id, start) in gone:
                plan.insert.append((doctor_id, encode(start), encode(end), is_open))
    return plan


async def generate_slots(
    session: AsyncSession, *, now: datetime, horizon_days: int, doctor_ids: list[int] | None = None
) -> int:
    """Bring future slots in line with the rules for the horizon; return how many were added.

    Booked slots (and slots that ever had a booking) are never deleted or moved: a slot the
    rules no longer produce is closed instead, so its bookings and history stay intact.
    """
    return await _generate(session, now=now, horizon_days=horizon_days, doctor_ids=doctor_ids)


async def _generate(
    session: AsyncSession,
    *,
    now: datetime,
    horizon_days: int,
    doctor_ids: Sequence[int] | None,
    scan: bool | None = None,
) -> int:
    """`generate_slots`; `scan` forces the one-pass check (True) or reading the doctors' rows
    (False) where None chooses by how much of the table the doctors hold."""
    # The rows below are written with Core statements, which do not flush the session first.
    await session.flush()
    moment = _naive(now)
    doctors = await _load_doctors(session, doctor_ids)
    if not doctors:
        return 0
    closures = await _load_closures(session, now=now, doctor_ids=doctor_ids)
    # Doctors of one zone, week, length and closures want the same: plan them once.
    plans: dict[tuple[Any, ...], _Wanted] = {}
    wanted: dict[int, _Wanted] = {}
    for doctor in doctors:
        own = closures.get(doctor.id, [])
        key = (doctor.tz, doctor.slot_minutes, doctor.rules, tuple(own))
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _plan(doctor, now=moment, horizon_days=horizon_days, closures=own)
        wanted[doctor.id] = plan
    counts = await _future_counts(session, now=now, doctor_ids=doctor_ids)
    conn = await session.connection()
    codec = _codec(conn.dialect)
    present = [d for d in wanted if counts.get(d)]
    quick = {d: wanted[d] for d in present if not wanted[d].exact_only}
    changed: dict[int, list[_Span] | None] = {d: None for d in present if d not in quick}
    if scan is None and quick:
        scan = doctor_ids is None or await _worth_scanning(session, sum(counts[d] for d in quick))
    if quick and scan:
        async with _checked_on(conn) as checking:
            found = await _find_changes(checking, codec, quick, counts, moment)
        changed.update(
            {
                d: None if spans is not None and len(spans) > _SPANS_PER_DOCTOR else spans
                for d, spans in found.items()
            }
        )
    else:
        changed.update(dict.fromkeys(quick))
    existing = await _existing(conn, codec, changed, moment)
    rewrite = await _rewrite(conn, codec, wanted, changed, existing)
    # Deletes must reach the database before inserts reuse their start times.
    await _execute_many(conn, _DELETE_SLOT, ("i",), [(i,) for i in rewrite.delete])
    await _execute_many(conn, _SET_OPEN, ("o", "i"), [(False, i) for i in rewrite.close])
    await _execute_many(conn, _SET_OPEN, ("o", "i"), [(True, i) for i in rewrite.reopen])
    added = 0
    rows = rewrite.insert
    # A chunk is written while the next one is built: the driver's thread inserts while this
    # one computes (nothing else uses the connection meanwhile).
    writing: asyncio.Future[None] | None = None
    try:
        for doctor_id in wanted:
            if not counts.get(doctor_id):
                rows.extend(_all_rows(doctor_id, wanted[doctor_id], codec))
                if len(rows) >= _WRITE_CHUNK:
                    if writing is not None:
                        await writing
                    writing = asyncio.ensure_future(
                        _execute_many(conn, _INSERT_SLOT, _SLOT_FIELDS, rows)
                    )
                    # Let it reach the driver before building on.
                    await asyncio.sleep(0)
                    added += len(rows)
                    rows = []
    except BaseException:
        # The driver finishes the chunk in hand before the caller rolls back.
        if writing is not None:
            await asyncio.wait({writing})
        raise
    if writing is not None:
        await writing
    await _execute_many(conn, _INSERT_SLOT, _SLOT_FIELDS, rows)
    added += len(rows)
    _sync_identity_map(
        session,
        deleted=set(rewrite.delete),
        is_open={**dict.fromkeys(rewrite.close, False), **dict.fromkeys(rewrite.reopen, True)},
    )
    return added


async def doctors_without_slots(session: AsyncSession, *, now: datetime) -> list[int]:
    """Doctors with no slot after `now` at all: new ones, or a database left unused for longer
    than the horizon. One index look-up per doctor."""
    ahead = exists().where(Slot.doctor_id == Doctor.id, Slot.starts_at > now)
    return list(await session.scalars(select(Doctor.id).where(~ahead).order_by(Doctor.id)))


def _sync_identity_map(
    session: AsyncSession, *, deleted: set[int], is_open: dict[int, bool]
) -> None:
    """Slots the session holds as objects, changed by the statements above: they show the
    new state, as if loaded again (a deleted one leaves the session)."""
    if not (deleted or is_open):
        return
    identity_map = session.identity_map
    for key in list(identity_map.keys()):
        obj = identity_map.get(key)
        if obj is None or key[0] is not Slot:
            continue
        slot_id = key[1][0]
        if slot_id in deleted:
            session.expunge(obj)
        elif slot_id in is_open:
            set_committed_value(obj, "is_open", is_open[slot_id])


# --- The doctor's days and times ---------------------------------------------------------------


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


def _booked() -> Any:
    # The literal status lets SQLite use the partial index of active bookings.
    return (
        exists()
        .where(_BOOKINGS.c.slot_id == _SLOTS.c.id, _BOOKINGS.c.status == _ACTIVE)
        .correlate(_SLOTS)
    )


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
        cuts, offsets = _offset_segments(tz, today, days)
        for i, utc_offset in enumerate(offsets):
            params[f"m{i}"] = f"{utc_offset // _SECOND:+d} seconds"
        for i, cut in enumerate(cuts, start=1):
            params[f"t{i}"] = codec.encode(cut)
        free: dict[date, int] = {}
        hours: list[Any] = []
        for key, count, start, end in await _free_per_day_query(dialect, len(offsets)).rows(
            conn, params
        ):
            if count is None:
                hours.append((key, start, end))
            else:
                free[date.fromisoformat(key)] = count
        return free, hours
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
