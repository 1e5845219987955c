"""Generation, what each doctor wants: the pure planning, no database.

`_plan` turns a doctor's weekly rules, zone and closures into `_Wanted`: open runs of the
doctor's length on one grid (a run per working period of a day: first start, count), and the
slots that do not fit that shape one by one.
"""

from __future__ import annotations

import functools
import operator
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate, pairwise, repeat
from typing import Final
from zoneinfo import ZoneInfo

from bot.services.slots.rules import _SECOND, Rule, slot_starts

_EPOCH: Final = datetime(1970, 1, 1)


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

    def on_grid(self, moment: datetime) -> bool:
        return (
            _on_whole_second(moment)
            and ((moment - _EPOCH) // _SECOND) % self.step_seconds == self.phase
        )

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
    wanted = _Wanted(step=step)
    runs, single = _day_runs(doctor, now=now, horizon_days=horizon_days)
    future = _future_runs(runs, now=now, step=step)
    single = {start: end for start, end in single.items() if start > now}
    open_runs, closed = _without_closures(future, closures, step)
    wanted.phase = _phase(open_runs, wanted.step_seconds)
    regular = _regular_runs(wanted, open_runs, closed, single, closures)
    _lay_out(wanted, regular)
    return wanted


def _rules_by_weekday(rules: Sequence[Rule]) -> dict[int, list[Rule]]:
    """The rules of each weekday, by start."""
    by_weekday: dict[int, list[Rule]] = {}
    for rule in rules:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    for weekday_rules in by_weekday.values():
        weekday_rules.sort(key=lambda r: r.start)
    return by_weekday


def _periods(
    by_weekday: dict[int, list[Rule]], step: timedelta
) -> dict[int, list[tuple[timedelta, int]] | None]:
    """Per weekday: each period's start (from midnight) and number of slots; None when the
    periods overlap."""
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
    return periods


def _day_runs(
    doctor: _Doctor, *, now: datetime, horizon_days: int
) -> tuple[list[_Run], dict[datetime, datetime]]:
    """The runs of the days that take the arithmetic, and start → end of the slots of the
    other days (from `slot_starts`), from today on, past ones included."""
    tz = doctor.tz
    today = now.replace(tzinfo=UTC).astimezone(tz).date()
    by_weekday = _rules_by_weekday(doctor.rules)
    periods = _periods(by_weekday, timedelta(minutes=doctor.slot_minutes))
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
    return runs, single


def _future_runs(runs: Sequence[_Run], *, now: datetime, step: timedelta) -> list[_Run]:
    """The runs cut to their slots that start after `now`."""
    future: list[_Run] = []
    for run in runs:
        if run.first <= now:
            passed = (now - run.first) // step + 1
            if passed >= run.count:
                continue
            run = _Run(run.first + step * passed, run.count - passed)
        future.append(run)
    return future


def _phase(open_runs: Sequence[_Run], step_seconds: int) -> int:
    """The grid most of the open slots are on."""
    weights: Counter[int] = Counter()
    for run in open_runs:
        if _on_whole_second(run.first):
            weights[((run.first - _EPOCH) // _SECOND) % step_seconds] += run.count
    return weights.most_common(1)[0][0] if weights else 0


def _regular_runs(
    wanted: _Wanted,
    open_runs: Sequence[_Run],
    closed: Sequence[datetime],
    single: dict[datetime, datetime],
    closures: Sequence[tuple[datetime, datetime]],
) -> list[_Run]:
    """The open runs (and single slots) on the wanted grid; the rest go to `wanted.odd`."""
    step = wanted.step
    regular: list[_Run] = []
    for run in open_runs:
        if wanted.on_grid(run.first):
            regular.append(run)
        else:
            for start in wanted.run_starts(run):
                wanted.odd[start] = (start + step, True)
    for start in closed:
        wanted.odd[start] = (start + step, False)
    for start, end in single.items():
        is_closed = any(c_start < end and start < c_end for c_start, c_end in closures)
        if not is_closed and end - start == step and wanted.on_grid(start):
            regular.append(_Run(start, 1))
        else:
            wanted.odd[start] = (end, not is_closed)
    return regular


def _lay_out(wanted: _Wanted, regular: list[_Run]) -> None:
    """The regular runs in order, each joined to the one before where they meet; overlaps (or
    odd slots inside the runs) leave only the exact check."""
    step = wanted.step
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
