"""Dates as people read them, in the current language (CLDR data through Babel): shared by
the chat texts, the ticket and the calendar file."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.i18n import current_locale

# CLDR puts narrow no-break spaces in dates («2026 г.»); the ticket's font has no glyph for
# them, and chat texts read the same with a plain space.
_PLAIN_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})


def long_day(day: date, *, weekday: bool = True) -> str:
    """«четверг, 3 декабря 2026 г.» / «Thursday, December 3, 2026»."""
    text = format_date(day, format="full" if weekday else "long", locale=current_locale())
    return text.translate(_PLAIN_SPACES)


def short_weekday(day: date) -> str:
    """«чт» / «Thu»."""
    return format_date(day, format="EEE", locale=current_locale()).rstrip(".")


def local_when(moment: datetime, tz_name: str) -> str:
    """«четверг, 3 декабря 2026 г., 08:20» in the given zone."""
    local = moment.astimezone(ZoneInfo(tz_name))
    return f"{long_day(local.date())}, {local:%H:%M}"
