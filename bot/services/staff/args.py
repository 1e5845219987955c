"""Arguments of staff commands: pure parsing of what a registrar typed, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from enum import Enum
from typing import Final

# Telegram user ids are positive and have at most 52 significant bits (Bot API). Anything else
# is a typo, and a longer number once overflowed the BIGINT column with an OverflowError.
USER_ID_LIMIT: Final = 2**52
_USER_ID: Final = re.compile(r"[0-9]{1,16}")
# A cancellation's or closure's reason, as the patient will read it.
REASON_LIMIT: Final = 300


def parse_user_id(raw: str) -> int | None:
    """A Telegram user id typed by an admin, or None if no user can have it."""
    if _USER_ID.fullmatch(raw) is None:  # ASCII only: int() would take "²" or "٧" otherwise
        return None
    value = int(raw)
    return value if 0 < value < USER_ID_LIMIT else None


class DateProblem(Enum):
    FORMAT = "format"
    NO_SUCH_DATE = "no_such_date"  # 31.02.2026
    OUT_OF_RANGE = "out_of_range"  # 31.12.9999: a real date, but not one a command acts on


@dataclass(frozen=True, slots=True)
class DateWindow:
    """The dates a command accepts, both ends included."""

    earliest: date
    latest: date

    @classmethod
    def around(cls, today: date, *, years_back: int, years_ahead: int) -> DateWindow:
        return cls(_years_from(today, -years_back), _years_from(today, years_ahead))


# /day looks back as well as ahead; /close and /reopen act on today and later only. A year
# either way covers the registry's work and keeps date arithmetic far from its limits.
def day_window(today: date) -> DateWindow:
    return DateWindow.around(today, years_back=1, years_ahead=1)


def period_window(today: date) -> DateWindow:
    return DateWindow.around(today, years_back=0, years_ahead=1)


@dataclass(frozen=True, slots=True)
class BadDate:
    problem: DateProblem
    # The argument as typed, kept only once it has a date's shape: at most ten digits and dots,
    # so it can be named back without making the answer long.
    typed: str = ""


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February of a leap year: the last day of February instead
        return day.replace(year=day.year + years, day=28)


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next_occurrence(month: int, day: int, *, today: date) -> date | None:
    # Five years: 29 February comes back within four, and is then judged by the window.
    for year in range(today.year, today.year + 5):
        found = _date_or_none(year, month, day)
        if found is not None and found >= today:
            return found
    return None


_DAY_ARGUMENT: Final = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})(?:\.([0-9]{4}))?")


def parse_day_argument(raw: str, *, today: date, window: DateWindow) -> date | BadDate:
    """ДД.ММ.ГГГГ, or ДД.ММ meaning its next occurrence from today, within the window.

    Range-checked here, before any arithmetic: 31.12.9999 plus a day, or 01.01.0001 in UTC,
    raised OverflowError deep in the handlers.
    """
    match = _DAY_ARGUMENT.fullmatch(raw)
    if match is None:
        return BadDate(DateProblem.FORMAT)
    day, month = int(match[1]), int(match[2])
    if match[3] is not None:
        found = _date_or_none(int(match[3]), month, day)
    else:
        found = _next_occurrence(month, day, today=today)
    if found is None:
        return BadDate(DateProblem.NO_SUCH_DATE, raw)
    if not window.earliest <= found <= window.latest:
        return BadDate(DateProblem.OUT_OF_RANGE, raw)
    return found


_TIME_RANGE: Final = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$", re.ASCII)


@dataclass(frozen=True, slots=True)
class BadTimeRange:
    """Shaped as ЧЧ:ММ-ЧЧ:ММ, but a time that does not exist or an end not after the start."""


def parse_time_range(
    raw: str, *, day: date, tz: tzinfo
) -> tuple[datetime, datetime] | BadTimeRange | None:
    """`ЧЧ:ММ-ЧЧ:ММ` on the local day as UTC bounds; None if the word is not shaped as a range."""
    match = _TIME_RANGE.match(raw)
    if match is None:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start = datetime.combine(day, time(h1, m1), tzinfo=tz)
        end = datetime.combine(day, time(h2, m2), tzinfo=tz)
    except ValueError:
        return BadTimeRange()
    if end <= start:
        return BadTimeRange()
    return start.astimezone(UTC), end.astimezone(UTC)
