"""Generation, the rewrite: read the rows the check could not vouch for, work out what to
delete, close, reopen and insert, and write it with executemany."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from typing import Any, Final

from sqlalchemy import Select, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services.slots.checking import _ever_booked, _Existing, _Span
from bot.services.slots.planning import _Wanted
from bot.services.slots.storage import _SLOTS, _WRITE_CHUNK, _chunks, _Codec, _execute_many

# Spans read by one statement (three parameters each).
_SPANS_PER_QUERY: Final = 150

_INSERT_SLOT = insert(_SLOTS).values(
    doctor_id=bindparam("d"),
    starts_at=bindparam("s"),
    ends_at=bindparam("e"),
    is_open=bindparam("o"),
)
_SLOT_FIELDS: Final = ("d", "s", "e", "o")
_DELETE_SLOT = delete(_SLOTS).where(_SLOTS.c.id == bindparam("i"))
_SET_OPEN = update(_SLOTS).where(_SLOTS.c.id == bindparam("i")).values(is_open=bindparam("o"))
_SLOT_COLUMNS: Final = (
    _SLOTS.c.id,
    _SLOTS.c.doctor_id,
    _SLOTS.c.starts_at,
    _SLOTS.c.ends_at,
    _SLOTS.c.is_open,
)


async def _existing(
    conn: AsyncConnection,
    codec: _Codec,
    changed: Mapping[int, list[_Span] | None],
    now: datetime,
) -> dict[int, _Existing]:
    """The rows to compare: each doctor's whole future, or the rows in the given spans."""
    found: dict[int, _Existing] = {}
    whole = [doctor_id for doctor_id, spans in changed.items() if spans is None]
    for chunk in _chunks(sorted(whole)):
        query = select(*_SLOT_COLUMNS).where(
            _SLOTS.c.doctor_id.in_(chunk), _SLOTS.c.starts_at > bindparam("now")
        )
        _keep(found, codec, await conn.execute(query, {"now": codec.encode(now)}))
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
        query = _in_spans(spans[start : start + _SPANS_PER_QUERY], codec)
        _keep(found, codec, await conn.execute(query))
    return found


def _in_spans(spans: Sequence[tuple[int, datetime, datetime]], codec: _Codec) -> Select[Any]:
    """The rows of each (doctor, first, last) span."""
    return select(*_SLOT_COLUMNS).where(
        or_(
            *(
                and_(
                    _SLOTS.c.doctor_id == doctor_id,
                    _SLOTS.c.starts_at >= codec.encode(lo),
                    _SLOTS.c.starts_at <= codec.encode(hi),
                )
                for doctor_id, lo, hi in spans
            )
        )
    )


def _keep(found: dict[int, _Existing], codec: _Codec, rows: Iterable[Any]) -> None:
    for slot_id, doctor_id, starts_at, ends_at, is_open in rows:
        found.setdefault(doctor_id, {})[codec.decode(starts_at)] = (
            slot_id,
            codec.decode(ends_at),
            bool(is_open),
        )


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


# (doctor, start, slot id, open) of a row the rules no longer produce as it is.
_Stale = tuple[int, datetime, int, bool]


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
    targets, stale = _compare(plan, wanted, changed, existing)
    gone = await _drop_stale(conn, plan, stale)
    encode = codec.encode
    for doctor_id in sorted(changed):
        have = existing.get(doctor_id, {})
        for start, (end, is_open) in sorted(targets[doctor_id].items()):
            if start not in have or (doctor_id, start) in gone:
                plan.insert.append((doctor_id, encode(start), encode(end), is_open))
    return plan


def _compare(
    plan: _Rewrite,
    wanted: Mapping[int, _Wanted],
    changed: Mapping[int, list[_Span] | None],
    existing: Mapping[int, _Existing],
) -> tuple[dict[int, dict[datetime, tuple[datetime, bool]]], list[_Stale]]:
    """Each doctor's wanted slots among the compared ones, and the rows that are none of them;
    rows wanted but open or closed the other way go to `plan`."""
    stale: list[_Stale] = []
    targets: dict[int, dict[datetime, tuple[datetime, bool]]] = {}
    for doctor_id, spans in changed.items():
        want = targets[doctor_id] = wanted[doctor_id].slots(spans)
        for start, (slot_id, end, is_open) in existing.get(doctor_id, {}).items():
            target = want.get(start)
            if target is None or target[0] != end:
                stale.append((doctor_id, start, slot_id, is_open))
            elif target[1] != is_open:
                (plan.reopen if target[1] else plan.close).append(slot_id)
    return targets, stale


async def _drop_stale(
    conn: AsyncConnection, plan: _Rewrite, stale: Sequence[_Stale]
) -> set[tuple[int, datetime]]:
    """Stale rows to `plan`: closed if they ever had a booking, else deleted; returns the
    (doctor, start) of the deleted ones."""
    booked = await _ever_booked(conn, [slot_id for _, _, slot_id, _ in stale])
    gone: set[tuple[int, datetime]] = set()
    for doctor_id, start, slot_id, is_open in stale:
        if slot_id in booked:
            if is_open:
                plan.close.append(slot_id)
        else:
            plan.delete.append(slot_id)
            gone.add((doctor_id, start))
    return gone


async def _write_changes(conn: AsyncConnection, rewrite: _Rewrite) -> None:
    """The rewrite's deletes, closes and reopens (its inserts go with `_insert_new`)."""
    await _execute_many(conn, _DELETE_SLOT, ("i",), [(i,) for i in rewrite.delete])
    await _execute_many(conn, _SET_OPEN, ("o", "i"), [(False, i) for i in rewrite.close])
    await _execute_many(conn, _SET_OPEN, ("o", "i"), [(True, i) for i in rewrite.reopen])


async def _insert_new(
    conn: AsyncConnection,
    codec: _Codec,
    wanted: Mapping[int, _Wanted],
    counts: Mapping[int, int],
    rows: list[tuple[Any, ...]],
) -> int:
    """Inserts `rows`, and every slot of the doctors with none in the future; returns how many."""
    added = 0
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
    return added
