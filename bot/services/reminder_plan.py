"""When visit reminders go out: offsets, quiet hours, catch-up after downtime and digests.

Pure functions over aware datetimes; storage and sending live elsewhere. Every moment returned
is in UTC. Quiet hours are wall-clock times of the organization's zone, so all shifting is done
on local wall time and only then converted back; that keeps "20:59" meaning 20:59 on the day
the clocks change.

How the pieces fit together:

* ``plan_reminders`` when a visit is booked or moved (or when reminders are rebuilt at
  start-up) gives the moments to store.
* ``due_now`` when a stored reminder comes up (on time or late, after downtime) says whether
  to send it now, later, or not at all.
* ``digest_groups`` merges reminders that go out together, so one patient with several visits
  on a day gets one message per offset.

The settings all of these take (``Offset``, ``QuietHours``, ``ReminderPolicy``) and the parsing
of the configured values are in ``bot.services.reminder_policy``; the names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.services.reminder_policy import (
    DEFAULT_OFFSETS,
    DEFAULT_QUIET_HOURS,
    Offset,
    QuietHours,
    parse_offsets,
    parse_quiet_hours,
)
from bot.services.reminder_policy import ReminderPolicy as ReminderPolicy

__all__ = [
    "DEFAULT_OFFSETS",
    "DEFAULT_QUIET_HOURS",
    "DigestGroup",
    "DigestItem",
    "Dispatch",
    "Drop",
    "DropReason",
    "Later",
    "Offset",
    "PlannedReminder",
    "QuietHours",
    "SendNow",
    "digest_groups",
    "due_now",
    "parse_offsets",
    "parse_quiet_hours",
    "plan_reminders",
]


# --- planning ----------------------------------------------------------------------------------


def _out_of_quiet(moment: datetime, zone: ZoneInfo, quiet: QuietHours) -> datetime:
    # One move is enough except in a window covering nearly the whole day on a DST day, where
    # resolving a skipped 20:59 earlier can fall into the previous night's window; a second move
    # then lands on the day before, which has no transition. The bound only rules out a loop.
    for _ in range(3):
        local = moment.astimezone(zone)
        if not quiet.contains(local.time()):
            return moment
        moment = quiet.last_moment_before(local)
    return moment


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    label: str
    due_at: datetime


def plan_reminders(
    *,
    visit: datetime,
    tz_name: str,
    offsets: Sequence[Offset],
    quiet: QuietHours,
    planned_at: datetime,
    missed_since: datetime | None = None,
) -> list[PlannedReminder]:
    """Reminders to store for a visit, earliest first.

    Offsets are real durations ("2 h before" is two hours of waiting even across a DST change);
    only the quiet-hours shift works on wall time. A reminder falling in quiet hours moves to
    the last moment before them; if that has already passed when planning (a booking made late
    at night), it goes out when the quiet hours end, provided that is still before the visit.
    A reminder whose moment is at or before ``planned_at`` is dropped rather than sent late,
    which also skips offsets longer than the time left when booking. Offsets ending up at the
    same moment become one reminder labelled with the larger offset.

    ``missed_since`` is for rebuilding after downtime: pass the moment the reminders were
    originally planned (booking or move time). Reminders due after it but not after
    ``planned_at`` were missed while the bot was down; they are returned too, with their
    original moment, and the dispatcher decides with ``due_now``. Reminders that were already
    too late at ``missed_since`` stay dropped.
    """
    _require_aware(visit=visit, planned_at=planned_at)
    # Python adds, subtracts and even compares two datetimes sharing a tzinfo on wall time,
    # which is off by an hour across DST; in UTC the arithmetic is on real durations.
    visit, planned_at = visit.astimezone(UTC), planned_at.astimezone(UTC)
    cutoff = planned_at
    if missed_since is not None:
        _require_aware(missed_since=missed_since)
        cutoff = missed_since.astimezone(UTC)
        if cutoff > planned_at:
            raise ValueError("missed_since must not be after planned_at")
    if planned_at >= visit:
        return []
    zone = ZoneInfo(tz_name)
    planned: dict[datetime, PlannedReminder] = {}
    # Largest offset first, so on a collision the larger offset's label is the one kept.
    for offset in sorted(offsets, key=lambda o: o.before, reverse=True):
        natural = visit - offset.before
        due = _out_of_quiet(natural, zone, quiet)
        if due <= cutoff < natural:
            # The evening before has passed already (booked late at night): the end of the
            # quiet hours still comes before the visit, and that is better than nothing.
            after = quiet.first_moment_after(natural.astimezone(zone))
            due = after if after < visit else due
        if due > cutoff and due not in planned:
            planned[due] = PlannedReminder(offset.label, due)
    return sorted(planned.values(), key=lambda r: r.due_at)


# --- dispatch ----------------------------------------------------------------------------------


class DropReason(StrEnum):
    VISIT_STARTED = "visit_started"
    QUIET_UNTIL_VISIT = "quiet_until_visit"


@dataclass(frozen=True, slots=True)
class SendNow:
    pass


@dataclass(frozen=True, slots=True)
class Later:
    at: datetime


@dataclass(frozen=True, slots=True)
class Drop:
    reason: DropReason


# Separate classes rather than an enum plus an optional moment: `match`/`isinstance` narrows
# them, so only `Later` has an `at` to read and it is never None.
Dispatch = SendNow | Later | Drop


def due_now(
    reminder_due: datetime,
    *,
    now: datetime,
    visit: datetime,
    tz_name: str,
    quiet: QuietHours,
) -> Dispatch:
    """What to do with a stored reminder at ``now`` - on time or late after downtime.

    A reminder is never sent once the visit has started nor during quiet hours; a late one
    that comes up during quiet hours waits for their end if that is still before the visit.
    Called early, it answers ``Later(reminder_due)``.
    """
    _require_aware(reminder_due=reminder_due, now=now, visit=visit)
    # Same-tzinfo comparisons are on wall time (wrong in a DST overlap); UTC ones are not.
    reminder_due, now, visit = (m.astimezone(UTC) for m in (reminder_due, now, visit))
    if now >= visit:
        return Drop(DropReason.VISIT_STARTED)
    if now < reminder_due:
        return Later(reminder_due)
    local_now = now.astimezone(ZoneInfo(tz_name))
    if not quiet.contains(local_now.time()):
        return SendNow()
    resume = quiet.first_moment_after(local_now)
    if resume < visit:
        return Later(resume)
    return Drop(DropReason.QUIET_UNTIL_VISIT)


# --- digest ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestItem:
    reminder_id: int
    chat_id: int
    visit_start: datetime
    tz_name: str  # the organization's zone: it decides which day the visit is on
    label: str
    due_at: datetime

    def __post_init__(self) -> None:
        _require_aware(visit_start=self.visit_start, due_at=self.due_at)

    @property
    def visit_date(self) -> date:
        return self.visit_start.astimezone(ZoneInfo(self.tz_name)).date()


@dataclass(frozen=True, slots=True)
class DigestGroup:
    """Reminders sent as one message; ``items`` ordered by visit start."""

    chat_id: int
    visit_date: date
    label: str
    items: tuple[DigestItem, ...]

    @property
    def due_at(self) -> datetime:
        return min(item.due_at.astimezone(UTC) for item in self.items)

    @property
    def reminder_ids(self) -> tuple[int, ...]:
        return tuple(item.reminder_id for item in self.items)


def digest_groups(items: Iterable[DigestItem]) -> list[DigestGroup]:
    """Group by (chat, local visit date, offset label); groups ordered by earliest due.

    The date is taken in each visit's own organization zone: that is the day the patient
    sees on the ticket, even if the UTC date differs.
    """
    buckets: dict[tuple[int, date, str], list[DigestItem]] = {}
    for item in items:
        buckets.setdefault((item.chat_id, item.visit_date, item.label), []).append(item)
    groups = [
        DigestGroup(
            chat_id=chat_id,
            visit_date=visit_date,
            label=label,
            items=tuple(
                sorted(members, key=lambda i: (i.visit_start.astimezone(UTC), i.reminder_id))
            ),
        )
        for (chat_id, visit_date, label), members in buckets.items()
    ]
    # The tail of the key only makes equal-due ordering stable between runs.
    groups.sort(key=lambda g: (g.due_at, g.chat_id, g.visit_date, g.label))
    return groups


def _require_aware(**moments: datetime) -> None:
    for name, moment in moments.items():
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
