"""Weekly rules and the slots they give: `Rule`, `slot_starts`, and the small time helpers the
rest of the package shares (naive UTC moments, whole seconds)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

_SECOND: Final = timedelta(seconds=1)


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


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
