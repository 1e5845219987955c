"""Russian names of days and months, shared by the chat texts and the ticket."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

WEEKDAYS: Final = (
    "понедельник",
    "вторник",
    "среда",
    "четверг",
    "пятница",
    "суббота",
    "воскресенье",
)
WEEKDAYS_SHORT: Final = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
MONTHS_GENITIVE: Final = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)


def long_day(day: date, *, weekday: bool = True) -> str:
    """«четверг, 3 декабря 2026 г.»"""
    text = f"{day.day} {MONTHS_GENITIVE[day.month - 1]} {day.year} г."
    return f"{WEEKDAYS[day.weekday()]}, {text}" if weekday else text


def local_when(moment: datetime, tz_name: str) -> str:
    """«четверг, 3 декабря 2026 г., 08:20» in the given zone."""
    local = moment.astimezone(ZoneInfo(tz_name))
    return f"{long_day(local.date())}, {local:%H:%M}"
