"""Checking a doctor's working week: `hours = { mon = "08:00-14:00", tue = [...] }`.

Checked by hand rather than by a model: a model gives nothing back once any day is wrong, and
the overlap check should still run on every day that is right.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from bot.services.importing.rendering import IssueCollector, Loc
from bot.services.importing.schema import WEEKDAYS, WeekRule, parse_interval

__all__ = ["check_hours"]

# (position in the day's list, start, end): the position is kept to point at the interval.
_Interval = tuple[int, time, time]


def check_hours(
    issues: IssueCollector, *, raw_doctor: Any, doctor_loc: Loc
) -> tuple[WeekRule, ...] | None:
    """The doctor's week, sorted; None, with every mistake added, if any day is wrong."""
    if not isinstance(raw_doctor, Mapping) or "hours" not in raw_doctor:
        return None  # "missing" has been reported by the structure check
    loc: Loc = (*doctor_loc, "hours")
    week = raw_doctor["hours"]
    if not isinstance(week, Mapping):
        issues.add(loc, 'ожидается таблица дней недели, например { mon = "08:00-14:00" }')
        return None
    ok = _check_day_names(issues, week=week, loc=loc)
    slot_minutes = _slot_minutes(raw_doctor)
    rules: list[WeekRule] = []
    for weekday, day in enumerate(WEEKDAYS):
        value = week.get(day)
        if value is None:
            continue
        day_rules = _check_day(
            issues, value=value, loc=(*loc, day), weekday=weekday, slot_minutes=slot_minutes
        )
        if day_rules is None:
            ok = False
        else:
            rules.extend(day_rules)
    return tuple(sorted(rules)) if ok else None


def _check_day_names(issues: IssueCollector, *, week: Mapping[str, Any], loc: Loc) -> bool:
    ok = True
    for key in week:
        if key not in WEEKDAYS:
            ok = False
            issues.add((*loc, key), f"неизвестный день недели; допустимы: {', '.join(WEEKDAYS)}")
    return ok


def _slot_minutes(raw_doctor: Mapping[str, Any]) -> int | None:
    # Intervals are checked against the doctor's visit length only when it is a real number;
    # a wrong one is reported by the structure check.
    slot_minutes = raw_doctor.get("slot_minutes")
    if not isinstance(slot_minutes, int) or isinstance(slot_minutes, bool):
        return None
    return slot_minutes


def _check_day(
    issues: IssueCollector, *, value: Any, loc: Loc, weekday: int, slot_minutes: int | None
) -> list[WeekRule] | None:
    # One shift a day is written as a plain string; a list is only needed for a break.
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        issues.add(loc, 'ожидается "ЧЧ:ММ-ЧЧ:ММ" или список таких строк в [ ]')
        return None
    ok = True
    intervals: list[_Interval] = []
    for position, item in enumerate(items):
        try:
            intervals.append((position, *parse_interval(item)))
        except ValueError as exc:
            ok = False
            issues.add((*loc, position), str(exc))
    fit = _check_intervals_fit(issues, intervals=intervals, loc=loc, slot_minutes=slot_minutes)
    if not (ok and fit):
        return None
    return [(weekday, start, end) for _, start, end in intervals]


def _check_intervals_fit(
    issues: IssueCollector, *, intervals: list[_Interval], loc: Loc, slot_minutes: int | None
) -> bool:
    """False, with an issue for each, if intervals overlap or one is shorter than a visit."""
    ok = True
    previous: tuple[time, time] | None = None
    for position, start, end in sorted(intervals, key=lambda interval: interval[1:]):
        if previous is not None and start < previous[1]:
            ok = False
            issues.add(
                (*loc, position),
                f"«{_span(start, end)}» пересекается с «{_span(*previous)}» в тот же день",
            )
        if slot_minutes is not None and _minutes(end) - _minutes(start) < slot_minutes:
            ok = False
            issues.add(
                (*loc, position),
                f"«{_span(start, end)}» короче одного приёма (slot_minutes = {slot_minutes})",
            )
        # The latest end so far: an interval inside a long one must not hide a later overlap.
        previous = (start, end) if previous is None or end > previous[1] else previous
    return ok


def _span(start: time, end: time) -> str:
    return f"{start:%H:%M}-{end:%H:%M}"


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute
