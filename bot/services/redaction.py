"""What in a chat message looks like an identity value, so it doesn't stay in the chat.

Deliberately broad: a message is only text in a chat with a bot that never needs long numbers
outside the identification prompts, so deleting a phone number by mistake costs little, and
leaving an OMS number in the chat history costs much.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

# A run of digits that may be grouped by spaces, hyphens or dashes (as people copy numbers).
_DIGIT_RUN: Final = re.compile(r"\d(?:[\s\-\u2010-\u2015\u2212]?\d)*")
_DATE: Final = re.compile(r"(?<!\d)(\d{1,2})[./\-](\d{1,2})[./\-](\d{4}|\d{2})(?!\d)")
# The shortest document number (passport without series, birth certificate) has 6 digits.
_SHORTEST_DOCUMENT: Final = 6
# OMS numbers a registrar would search by: a temporary certificate's 9 digits up to the
# unified policy's 16.
_SHORTEST_OMS: Final = 9
_LONGEST_OMS: Final = 16
# A ticket number as the ticket prints it and people dictate it, «482 917 305»: as many digits
# as a temporary certificate, but grouped in threes, which a policy number is not.
_TICKET: Final = re.compile(r"\d{3}[ \-]\d{3}[ \-]\d{3}")


def _runs(text: str) -> list[int]:
    """How many digits each grouped number in the text has."""
    return [sum(c.isdigit() for c in m.group()) for m in _DIGIT_RUN.finditer(text)]


def _has_past_date(text: str, *, today: date) -> bool:
    for day, month, year in _DATE.findall(text):
        full_year = int(year) if len(year) == 4 else 1900 + int(year)
        try:
            when = date(full_year, int(month), int(day))
        except ValueError:
            continue
        # A date still ahead is a visit, not a birth date.
        if when <= today:
            return True
    return False


def carries_identity(text: str, *, today: date) -> bool:
    """A number as long as a document or OMS number, or a date that could be a birth date."""
    return max(_runs(text), default=0) >= _SHORTEST_DOCUMENT or _has_past_date(text, today=today)


def carries_oms(text: str) -> bool:
    """A number as long as an OMS number: what a staff command may carry (dates are fine).

    A ticket number grouped as printed is not one; typed without its spaces it can't be told
    from a temporary certificate, and is treated as one."""
    return any(
        _SHORTEST_OMS <= sum(c.isdigit() for c in match.group()) <= _LONGEST_OMS
        and not _TICKET.fullmatch(match.group())
        for match in _DIGIT_RUN.finditer(text)
    )
