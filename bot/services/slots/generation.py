"""Generation against the database: `generate_slots` and `doctors_without_slots`.

`_generate` loads the doctors, their rules and closures, plans each (`planning`), asks the
one-pass check which doctors may differ (`checking`), and reads and rewrites only those rows
(`rewriting`); the slots the session holds as objects then show what was written.

A region's first import writes millions of rows for minutes: `progress`, if given, hears
(doctors done, doctors total) as the work goes (`_Progress`), ending at the total.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.services.slots.checking import _checked_on, _find_changes, _Span
from bot.services.slots.planning import _Doctor, _plan, _Wanted
from bot.services.slots.rewriting import _existing, _insert_new, _rewrite, _write_changes
from bot.services.slots.rules import Rule, _naive
from bot.services.slots.storage import _chunks, _Codec, _codec
from db.models import Closure, Doctor, Organization, Slot, WorkingHours

# Spans of a doctor read one by one before the whole future is cheaper.
_SPANS_PER_DOCTOR: Final = 8
# Doctors with no slots yet, written between two progress reports: a few of `_insert_new`'s
# write chunks each (the writes overlap the building within a batch), so that a region's
# first import (1,000 doctors, 2.4 M slots) reports some twenty times.
_PROGRESS_BATCH: Final = 50

# (doctors done, doctors total); see `generate_slots`.
_Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    pass


async def generate_slots(
    session: AsyncSession,
    *,
    now: datetime,
    horizon_days: int,
    doctor_ids: list[int] | None = None,
    progress: _Progress | None = None,
) -> int:
    """Bring future slots in line with the rules for the horizon; return how many were added.

    Booked slots (and slots that ever had a booking) are never deleted or moved: a slot the
    rules no longer produce is closed instead, so its bookings and history stay intact.

    `progress(done, total)`, if given, is called as the doctors are done: first with 0, then
    with a rising count, last with the total (not at all when there are no doctors).
    """
    return await _generate(
        session, now=now, horizon_days=horizon_days, doctor_ids=doctor_ids, progress=progress
    )


async def _generate(
    session: AsyncSession,
    *,
    now: datetime,
    horizon_days: int,
    doctor_ids: Sequence[int] | None,
    scan: bool | None = None,
    progress: _Progress | None = None,
) -> int:
    """`generate_slots`; `scan` forces the one-pass check (True) or reading the doctors' rows
    (False) where None chooses by how much of the table the doctors hold."""
    report = progress or _no_progress
    # The rows below are written with Core statements, which do not flush the session first.
    await session.flush()
    moment = _naive(now)
    doctors = await _load_doctors(session, doctor_ids)
    if not doctors:
        return 0
    total = len(doctors)
    report(0, total)
    closures = await _load_closures(session, now=now, doctor_ids=doctor_ids)
    wanted = _plan_each(doctors, closures, now=moment, horizon_days=horizon_days)
    counts = await _future_counts(session, now=now, doctor_ids=doctor_ids)
    conn = await session.connection()
    codec = _codec(conn.dialect)
    changed = await _to_compare(
        session, conn, codec, wanted, counts, now=moment, doctor_ids=doctor_ids, scan=scan
    )
    # Doctors with slots that the check found as wanted are done already.
    new = [doctor_id for doctor_id in wanted if not counts.get(doctor_id)]
    done = total - len(new) - len(changed)
    if 0 < done < total:
        report(done, total)
    existing = await _existing(conn, codec, changed, moment)
    rewrite = await _rewrite(conn, codec, wanted, changed, existing)
    # Deletes must reach the database before inserts reuse their start times.
    await _write_changes(conn, rewrite)
    done += len(changed)
    if changed and new:
        report(done, total)
    added = await _insert_batches(
        conn, codec, wanted, counts, rewrite.insert, new=new, report=report, done=done, total=total
    )
    # Each batch reported itself, the last with the total; a run with no new doctor ends here.
    if not new:
        report(total, total)
    _sync_identity_map(
        session,
        deleted=set(rewrite.delete),
        is_open={**dict.fromkeys(rewrite.close, False), **dict.fromkeys(rewrite.reopen, True)},
    )
    return added


async def _insert_batches(
    conn: AsyncConnection,
    codec: _Codec,
    wanted: Mapping[int, _Wanted],
    counts: Mapping[int, int],
    rows: list[tuple[Any, ...]],
    *,
    new: Sequence[int],
    report: _Progress,
    done: int,
    total: int,
) -> int:
    """`_insert_new`: the rewrite's `rows`, then every slot of the `new` doctors, reported by
    batches of doctors as it goes; returns how many slots were added."""
    reporting = _Reporting(wanted, new, report=report, done=done, total=total)
    added = await _insert_new(conn, codec, reporting, counts, rows)
    if new:
        report(total, total)
    return added


class _Reporting(Mapping[int, _Wanted]):
    """The plans of the doctors with no slots yet, reporting progress as they are gone through.

    `_insert_new` builds each doctor's rows in this order while the driver writes the rows
    built before (one call, so those writes keep overlapping the building); reaching a batch's
    first doctor means the batches before it are built, all but the chunk in hand written.
    """

    def __init__(
        self,
        wanted: Mapping[int, _Wanted],
        new: Sequence[int],
        *,
        report: _Progress,
        done: int,
        total: int,
    ) -> None:
        self._wanted = wanted
        self._new = new
        self._report = report
        self._done = done
        self._total = total

    def __getitem__(self, doctor_id: int) -> _Wanted:
        return self._wanted[doctor_id]

    def __len__(self) -> int:
        return len(self._new)

    def __iter__(self) -> Iterator[int]:
        for index, doctor_id in enumerate(self._new):
            if index and index % _PROGRESS_BATCH == 0:
                self._report(self._done + index, self._total)
            yield doctor_id


def _plan_each(
    doctors: Sequence[_Doctor],
    closures: Mapping[int, list[_Span]],
    *,
    now: datetime,
    horizon_days: int,
) -> dict[int, _Wanted]:
    """Each doctor's plan, by doctor."""
    # Doctors of one zone, week, length and closures want the same: plan them once.
    plans: dict[tuple[Any, ...], _Wanted] = {}
    wanted: dict[int, _Wanted] = {}
    for doctor in doctors:
        own = closures.get(doctor.id, [])
        key = (doctor.tz, doctor.slot_minutes, doctor.rules, tuple(own))
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _plan(doctor, now=now, horizon_days=horizon_days, closures=own)
        wanted[doctor.id] = plan
    return wanted


async def _to_compare(
    session: AsyncSession,
    conn: AsyncConnection,
    codec: _Codec,
    wanted: Mapping[int, _Wanted],
    counts: Mapping[int, int],
    *,
    now: datetime,
    doctor_ids: Sequence[int] | None,
    scan: bool | None,
) -> dict[int, list[_Span] | None]:
    """The doctors with future slots whose rows to compare: all of them (None), or spans."""
    present = [d for d in wanted if counts.get(d)]
    quick = {d: wanted[d] for d in present if not wanted[d].exact_only}
    changed: dict[int, list[_Span] | None] = {d: None for d in present if d not in quick}
    if scan is None and quick:
        scan = doctor_ids is None or await _worth_scanning(session, sum(counts[d] for d in quick))
    if quick and scan:
        async with _checked_on(conn) as checking:
            found = await _find_changes(checking, codec, quick, counts, now)
        changed.update(
            {
                d: None if spans is not None and len(spans) > _SPANS_PER_DOCTOR else spans
                for d, spans in found.items()
            }
        )
    else:
        changed.update(dict.fromkeys(quick))
    return changed


async def doctors_without_slots(session: AsyncSession, *, now: datetime) -> list[int]:
    """Doctors with no slot after `now` at all: new ones, or a database left unused for longer
    than the horizon. One index look-up per doctor."""
    ahead = exists().where(Slot.doctor_id == Doctor.id, Slot.starts_at > now)
    return list(await session.scalars(select(Doctor.id).where(~ahead).order_by(Doctor.id)))


def _sync_identity_map(
    session: AsyncSession, *, deleted: set[int], is_open: dict[int, bool]
) -> None:
    """Slots the session holds as objects, changed by the rewrite's statements: they show the
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
