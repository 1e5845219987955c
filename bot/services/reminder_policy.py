"""The clinic's reminder settings: offsets before the visit and quiet hours.

Parses the configured values (``"24h,2h"``, ``"21:00-08:00"``) into the types planning works
with, and holds the quiet-hours window arithmetic on local wall time. Pure; no I/O. The planning
itself (when each reminder goes out) is in ``bot.services.reminder_plan``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_OFFSETS",
    "DEFAULT_QUIET_HOURS",
    "Offset",
    "QuietHours",
    "ReminderPolicy",
    "parse_offsets",
    "parse_quiet_hours",
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


# --- offsets -----------------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """The clinic's reminder settings in planning terms."""

    offsets: tuple[Offset, ...] = DEFAULT_OFFSETS
    quiet: QuietHours = DEFAULT_QUIET_HOURS
