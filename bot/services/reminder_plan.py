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
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

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

_MINUTE: Final = timedelta(minutes=1)


# --- quiet hours -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window of local wall time, ``start`` inclusive, ``end`` exclusive.

    ``start > end`` crosses midnight (21:00-08:00); ``start == end`` means no quiet hours.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if value.tzinfo is not None:
                raise ValueError(f"quiet hours {name} must be a wall time without a zone")
            # Whole minutes guarantee that "one minute before the start" is never itself
            # inside the window, so a moved reminder always lands on an allowed moment.
            if value.second or value.microsecond:
                raise ValueError(f"quiet hours {name} must be whole minutes, got {value}")

    @classmethod
    def off(cls) -> QuietHours:
        return cls(time(0), time(0))

    @property
    def is_off(self) -> bool:
        return self.start == self.end

    @property
    def crosses_midnight(self) -> bool:
        return self.start > self.end

    def contains(self, local_time: time) -> bool:
        if self.is_off:
            return False
        # Only the wall reading matters; an aware time would make the comparison raise.
        wall = local_time.replace(tzinfo=None)
        if self.crosses_midnight:
            return wall >= self.start or wall < self.end
        return self.start <= wall < self.end

    def last_moment_before(self, local_dt: datetime) -> datetime:
        """The last allowed moment (one minute before the start) of the window holding ``local_dt``.

        ``local_dt`` must be inside quiet hours and carry the organization's ``ZoneInfo``. After
        midnight in a window crossing it, the window began the previous calendar day. A wall
        time that does not exist (DST gap) resolves earlier, never later.
        """
        zone, wall = self._split(local_dt)
        day = wall.date()
        if self.crosses_midnight and wall.time() < self.end:
            day -= timedelta(days=1)
        return _earliest_instant(datetime.combine(day, self.start) - _MINUTE, zone)

    def first_moment_after(self, local_dt: datetime) -> datetime:
        """The end of the window holding ``local_dt``: the first moment sending is allowed again.

        Here a non-existent wall time resolves later (after the gap), because resolving it
        earlier would land back inside quiet hours.
        """
        zone, wall = self._split(local_dt)
        day = wall.date()
        if self.crosses_midnight and wall.time() >= self.start:
            day += timedelta(days=1)
        return _first_instant_reaching(datetime.combine(day, self.end), zone)

    def _split(self, local_dt: datetime) -> tuple[ZoneInfo, datetime]:
        zone = local_dt.tzinfo
        # A fixed offset cannot tell which wall times exist on the day, so DST would be wrong.
        if not isinstance(zone, ZoneInfo):
            raise ValueError("local_dt must carry the organization's ZoneInfo")
        if not self.contains(local_dt.time()):
            raise ValueError(f"{local_dt:%H:%M} is outside quiet hours {self}")
        return zone, local_dt.replace(tzinfo=None)

    def __str__(self) -> str:
        return "off" if self.is_off else f"{self.start:%H:%M}-{self.end:%H:%M}"


DEFAULT_QUIET_HOURS: Final = QuietHours(time(21), time(8))


def _earliest_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    # fold=0 and fold=1 differ only around a transition: in a gap the fold=1 reading is the
    # earlier instant, in an overlap the fold=0 one is; taking the minimum covers both.
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return min(first, second)


def _first_instant_reaching(wall: datetime, zone: ZoneInfo) -> datetime:
    # fold=0 is the first occurrence of an ambiguous wall time, and for a skipped one it lands
    # after the gap (at most the gap's length late) - in both cases the clock has reached `wall`.
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


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


# --- planning ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Offset:
    """How long before the visit a reminder is due; ``label`` names it in texts and storage."""

    label: str
    before: timedelta

    def __post_init__(self) -> None:
        if not self.label.strip():
            raise ValueError("offset label must not be empty")
        if self.before <= timedelta(0):
            raise ValueError(f"offset {self.label!r} must be positive, got {self.before}")


DEFAULT_OFFSETS: Final = (
    Offset("24h", timedelta(hours=24)),
    Offset("2h", timedelta(hours=2)),
)


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


# --- config values -----------------------------------------------------------------------------

_QUIET_RE: Final = re.compile(r"(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})")
_OFFSET_RE: Final = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")
_QUIET_OFF: Final = frozenset({"off", "none"})


def parse_quiet_hours(value: str) -> QuietHours:
    """``"21:00-08:00"`` (an en dash works too); ``"off"``/``"none"`` or equal ends: none."""
    text = value.strip()
    if text.lower() in _QUIET_OFF:
        return QuietHours.off()
    match = _QUIET_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"quiet hours must look like '21:00-08:00' or 'off', got {value!r}")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    return QuietHours(_wall_time(h1, m1, value), _wall_time(h2, m2, value))


def _wall_time(hour: int, minute: int, source: str) -> time:
    if hour > 23 or minute > 59:
        raise ValueError(f"quiet hours {source!r}: {hour:02d}:{minute:02d} is not a time of day")
    return time(hour, minute)


def parse_offsets(values: str | Iterable[str]) -> list[Offset]:
    """``["24h", "2h", "30m"]`` (also ``"1d"``, ``"1h30m"``) into offsets, largest first.

    A single string is split on commas, so an environment variable "24h,2h" works; without
    that, a plain string would be iterated character by character.
    """
    raw = values.split(",") if isinstance(values, str) else list(values)
    offsets: list[Offset] = []
    seen: dict[timedelta, str] = {}
    for entry in raw:
        label = entry.strip().lower()
        match = _OFFSET_RE.fullmatch(label)
        if not label or match is None:
            raise ValueError(
                f"reminder offset must look like '24h', '30m', '1d' or '1h30m', got {entry!r}"
            )
        days, hours, minutes = (int(part) if part else 0 for part in match.groups())
        before = timedelta(days=days, hours=hours, minutes=minutes)
        if not before:
            raise ValueError(f"reminder offset must be positive, got {entry!r}")
        if before in seen:
            raise ValueError(f"reminder offset {entry!r} repeats {seen[before]!r}")
        seen[before] = label
        offsets.append(Offset(label, before))
    return sorted(offsets, key=lambda o: o.before, reverse=True)


def _require_aware(**moments: datetime) -> None:
    for name, moment in moments.items():
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """The clinic's reminder settings in planning terms."""

    offsets: tuple[Offset, ...] = DEFAULT_OFFSETS
    quiet: QuietHours = DEFAULT_QUIET_HOURS
