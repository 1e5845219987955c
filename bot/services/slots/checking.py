"""Generation, the one-pass check: which doctors' slots may differ from their plans.

`_find_changes` proves most doctors unchanged with a few aggregate queries over temporary
tables (each doctor's grid, each run's span) instead of reading every row; `_ever_booked` tells
which slots keep a booking.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Select,
    Table,
    bindparam,
    column,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import CreateTable

from bot.services.slots.planning import _Wanted
from bot.services.slots.storage import (
    _BOOKINGS,
    _SLOTS,
    _chunks,
    _Codec,
    _epoch_seconds,
    _execute_many,
    _off_the_second,
    _sqlite_text,
)

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
    odd_rows = _odd_rows_query(conn.dialect, codec)
    if odd_rows is None:
        return dict.fromkeys(wanted)
    span_counts, found = await _read_check(conn, codec, wanted, odd_rows, now)
    changed = await _odd_changes(conn, wanted, found)
    _span_changes(changed, wanted, counts, found, span_counts)
    return changed


def _odd_rows_query(dialect: Dialect, codec: _Codec) -> Select[Any] | None:
    """The rows after `now` of the doctors in the grid table that are not an open slot of the
    doctor's length on the doctor's grid; None where the database cannot tell."""
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
        return None
    # "+ 0": the pass goes over the table once, looking each row's doctor up in the grid,
    # rather than through the index and back to the table for every row.
    return (
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


def _span_rows(wanted: Mapping[int, _Wanted], codec: _Codec) -> list[tuple[int, int, Any, Any]]:
    """(id, doctor, first, last) of every run, numbered from 1 in the doctors' order."""
    encode = codec.encode
    span_rows: list[tuple[int, int, Any, Any]] = []
    for doctor_id, plan in wanted.items():
        for run in plan.runs:
            span_rows.append(
                (len(span_rows) + 1, doctor_id, encode(run.first), encode(plan.last(run)))
            )
    return span_rows


async def _read_check(
    conn: AsyncConnection,
    codec: _Codec,
    wanted: Mapping[int, _Wanted],
    odd_rows: Select[Any],
    now: datetime,
) -> tuple[dict[int, int], dict[int, _Existing]]:
    """The rows in each span (by the span's id), and each doctor's odd rows."""
    span_rows = _span_rows(wanted, codec)
    grid_rows = [(d, plan.step_seconds, plan.phase) for d, plan in wanted.items()]
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
    async with _Temporary(conn, _GRID_TABLE, _SPAN_TABLE):
        await _execute_many(conn, _INSERT_GRID, ("d", "st", "ph"), grid_rows)
        await _execute_many(conn, _INSERT_SPAN, ("n", "d", "l", "h"), span_rows)
        found_counts = await conn.execute(select(_SPANS.c.id, in_span))
        span_counts: dict[int, int] = {n: count for n, count in found_counts}  # noqa: C416
        found: dict[int, _Existing] = {}
        for slot_id, doctor_id, starts_at, ends_at, is_open in await conn.execute(
            odd_rows, {"now": codec.encode(now)}
        ):
            found.setdefault(doctor_id, {})[codec.decode(starts_at)] = (
                slot_id,
                codec.decode(ends_at),
                bool(is_open),
            )
    return span_counts, found


async def _odd_changes(
    conn: AsyncConnection, wanted: Mapping[int, _Wanted], found: Mapping[int, _Existing]
) -> dict[int, list[_Span] | None]:
    """The doctors whose odd rows are not exactly their wanted odd slots (None each)."""
    changed: dict[int, list[_Span] | None] = {}
    # Closed slots the rules no longer produce: unchanged if they keep a booking.
    dropped: dict[int, list[int]] = {}
    for doctor_id, plan in wanted.items():
        ids: list[int] = []
        if not _odd_as_wanted(plan, found.get(doctor_id, {}), ids):
            changed[doctor_id] = None
        if ids:
            dropped[doctor_id] = ids
    booked = await _ever_booked(conn, [i for ids in dropped.values() for i in ids])
    for doctor_id, ids in dropped.items():
        if any(slot_id not in booked for slot_id in ids):
            changed[doctor_id] = None
    return changed


def _odd_as_wanted(plan: _Wanted, odd: _Existing, dropped: list[int]) -> bool:
    """Whether a doctor's odd rows are the wanted odd slots, the closed slots the rules no
    longer produce aside (their ids go to `dropped`, met before any difference)."""
    same = len(plan.odd) <= len(odd)
    for start, (slot_id, end, is_open) in odd.items():
        expected = plan.odd.get(start)
        if expected == (end, is_open):
            continue
        if expected is None and not is_open and not plan.wants(start):
            dropped.append(slot_id)
            continue
        return False
    return same and all(start in odd for start in plan.odd)


def _span_changes(
    changed: dict[int, list[_Span] | None],
    wanted: Mapping[int, _Wanted],
    counts: Mapping[int, int],
    found: Mapping[int, _Existing],
    span_counts: Mapping[int, int],
) -> None:
    """Adds to `changed` the other doctors whose rows are not their runs: None when rows lie
    outside every span, else the spans whose count is off."""
    first_span = 1
    for doctor_id, plan in wanted.items():
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


@asynccontextmanager
async def _checked_on(conn: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    """The connection for the one-pass check.

    On SQLite the check's temporary tables start a transaction, whose reads then pin a
    snapshot of the database; such a transaction cannot take the write lock once another
    connection (the bot answering someone) has committed. So unless this connection already
    writes (and so holds the lock, and must see its own uncommitted rows), the check runs on
    a connection of its own, and the rewrite after it starts its transaction with its first
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
