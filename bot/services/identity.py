"""Validation and normalization of the identity values a patient types in the chat.

Everything here runs before any registry lookup, so a typo is reported precisely and politely
instead of surfacing later as an anonymous "patient not found". A mismatch with the registry
itself is deliberately not this module's business: it must never be explained field by field.

A rejected value raises `IdentityFormatError` with a code and plain parameters; the sentence
the reader sees is rendered from the text catalogue in their language (identity_texts.py).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date
from typing import Final

__all__ = [
    "CODES",
    "FOREIGN_DIGIT",
    "IdentityFormatError",
    "Param",
    "luhn_is_valid",
    "mask",
    "normalize_document",
    "normalize_document_number",
    "normalize_oms",
    "parse_birth_date",
    "snils_is_valid",
]


# Every code an IdentityFormatError carries; its text is "identity-<code>" in the catalogue.
CODES: Final = frozenset(
    {
        "oms-empty",
        "oms-letters",
        "oms-foreign-chars",  # chars, more
        "oms-too-short",  # count, min
        "oms-too-long",  # count, max
        "oms-checksum",
        "snils-checksum",
        "document-empty",  # kind: any, passport, birth_certificate, snils, social_card
        "document-letters",
        "document-foreign-chars",  # chars, more
        "document-too-short",  # count, min
        "document-too-long",  # count, max
        "passport-with-series",
        "document-wrong-length",  # kind: passport, birth_certificate, snils; count, expected
        "social-card-length",  # count, min, max
        "unknown-document-kind",  # given: the kind, cut and made printable
        "date-empty",
        "date-unrecognized",
        "date-short-year",
        "date-bad-month",  # month: as typed (e.g. "13", "00")
        "date-zero-day",
        "date-day-out-of-month",  # month: 1-12, year, days: in that month
        "date-too-old",  # years: the age limit
        "date-in-future",  # today: ДД.ММ.ГГГГ
    }
)

# A parameter: an int (a count, a limit, a year), a string already safe to show, a flag, or
# the tokens of the offending characters (see _foreign_chars).
Param = int | str | bool | tuple[str, ...]


class IdentityFormatError(ValueError):
    """A typed value has the wrong format: `code` says how, `params` hold the details.

    str() is the code alone: the parameters may carry pieces of what was typed (a month, a
    year), and an exception's text ends up in logs.
    """

    def __init__(self, code: str, **params: Param) -> None:
        if code not in CODES:
            raise ValueError(f"unknown identity error code {code!r}")
        super().__init__(code)
        self.code = code
        self.params: dict[str, Param] = params

    def __repr__(self) -> str:
        return f"IdentityFormatError({self.code!r})"


# Phone keyboards and copy-paste bring more than the ASCII hyphen: NBSP, thin spaces, en/em
# dashes, the non-breaking hyphen. All of them are mere grouping, never part of the number.
_SEPARATORS: Final = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u2212]+")
_DIGITS: Final = frozenset("0123456789")
# Only an isolated "№" in front is dropped: people copy "№ 123456" straight from the document.
_NUMBER_SIGN: Final = re.compile(r"^\s*№")

_OMS_MIN, _OMS_MAX = 6, 16
_OMS_UNIFIED = 16
_DOC_MIN, _DOC_MAX = 6, 20
_PASSPORT_LEN = 6
_PASSPORT_WITH_SERIES_LEN = 10
_BIRTH_CERT_LEN = 6
_SNILS_LEN = 11
# The Pension Fund introduced the check number only after this block of numbers was issued.
_SNILS_CHECKED_ABOVE: Final = 1_001_998
_MAX_AGE_YEARS = 125


def _strip_separators(raw: str) -> str:
    return _SEPARATORS.sub("", _NUMBER_SIGN.sub("", raw))


# A few offending characters are enough to find the typo; echoing all of them once made a reply
# of 900 emoji longer than Telegram allows, and the patient saw a generic failure instead.
_FOREIGN_SHOWN: Final = 3
# The token of a digit of another script in the `chars` parameter; an invisible character's
# token is its code point ("U+202E"), any other character's token is the character itself.
FOREIGN_DIGIT: Final = "digit"
# An echoed value from a file (a document kind) is cut: the message must stay short whatever
# the input.
_ECHO_LIMIT: Final = 30


def _shown_char(char: str) -> str:
    """The token naming one offending character in a reply."""
    if char.isnumeric():
        # A digit of another script (fullwidth, Arabic-Indic, superscript) is still a digit the
        # patient typed: identity data is never echoed, so it is only described.
        return FOREIGN_DIGIT
    if unicodedata.category(char)[0] in "CMZ":
        # Invisible, combining and direction marks would glue to the quotes or reorder the
        # reply around them: they are named by code point instead.
        return f"U+{ord(char):04X}"
    return char


def _foreign_chars(value: str) -> dict[str, Param]:
    """`chars`: the tokens of the first few distinct characters that are not ASCII digits;
    `more`: whether there are others (the reply then says «и другие»)."""
    shown: dict[str, None] = {}  # an ordered set
    for char in value:
        if char in _DIGITS:
            continue
        shown.setdefault(_shown_char(char), None)
        if len(shown) > _FOREIGN_SHOWN:
            break
    return {"chars": tuple(shown)[:_FOREIGN_SHOWN], "more": len(shown) > _FOREIGN_SHOWN}


def _clip(value: str) -> str:
    """A value cut short, its invisible and combining characters shown as «�» (see above)."""
    cut = value[:_ECHO_LIMIT]
    shown = "".join("�" if unicodedata.category(char)[0] in "CM" else char for char in cut)
    return shown if len(value) <= _ECHO_LIMIT else f"{shown}…"


def _has_letters(value: str) -> bool:
    return any(char.isalpha() for char in value)


def luhn_is_valid(digits: str) -> bool:
    """Luhn mod 10 over the whole string, check digit last (the 16-digit OMS number uses it)."""
    if not digits or not set(digits) <= _DIGITS:
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def snils_is_valid(digits: str) -> bool:
    """Check number of an 11-digit СНИЛС; numbers up to 001-001-998 carry none and pass."""
    if len(digits) != _SNILS_LEN or not set(digits) <= _DIGITS:
        return False
    body, check = digits[:9], int(digits[9:])
    if int(body) <= _SNILS_CHECKED_ABOVE:
        return True
    total = sum(int(char) * (9 - index) for index, char in enumerate(body))
    if total < 100:
        expected = total
    elif total in (100, 101):
        expected = 0
    else:
        expected = total % 101
        if expected == 100:
            expected = 0
    return check == expected


def normalize_oms(raw: str) -> str:
    """The OMS policy number (without series) as bare digits."""
    value = _strip_separators(raw)
    if not value:
        raise IdentityFormatError("oms-empty")
    if _has_letters(value):
        raise IdentityFormatError("oms-letters")
    if not set(value) <= _DIGITS:
        raise IdentityFormatError("oms-foreign-chars", **_foreign_chars(value))
    length = len(value)
    if length < _OMS_MIN:
        raise IdentityFormatError("oms-too-short", count=length, min=_OMS_MIN)
    if length > _OMS_MAX:
        raise IdentityFormatError("oms-too-long", count=length, max=_OMS_MAX)
    if length == _OMS_UNIFIED and not luhn_is_valid(value):
        raise IdentityFormatError("oms-checksum")
    return value


def _snils_or_error(value: str) -> str:
    if not snils_is_valid(value):
        raise IdentityFormatError("snils-checksum")
    return value


def _document_digits(raw: str, *, kind: str) -> str:
    """Separators removed and only digits left, or an error saying what else was typed.

    `kind` is the document kind, or "any" in the chat, where it is not asked."""
    value = _strip_separators(raw)
    if not value:
        raise IdentityFormatError("document-empty", kind=kind)
    if _has_letters(value):
        raise IdentityFormatError("document-letters")
    if not set(value) <= _DIGITS:
        raise IdentityFormatError("document-foreign-chars", **_foreign_chars(value))
    return value


def _passport_with_series_error() -> IdentityFormatError:
    return IdentityFormatError("passport-with-series")


def normalize_document_number(raw: str) -> str:
    """Number of a passport, social card, birth certificate or СНИЛС typed without series."""
    value = _document_digits(raw, kind="any")
    length = len(value)
    if length < _DOC_MIN:
        raise IdentityFormatError("document-too-short", count=length, min=_DOC_MIN)
    if length > _DOC_MAX:
        raise IdentityFormatError("document-too-long", count=length, max=_DOC_MAX)
    # Ten digits is the typical "series + number" of a passport. A regional social card of that
    # length is rejected too: such cards are rare, the passport slip is the everyday case.
    if length == _PASSPORT_WITH_SERIES_LEN:
        raise _passport_with_series_error()
    if length == _SNILS_LEN:
        return _snils_or_error(value)
    return value


def _exact_length(value: str, *, length: int, kind: str) -> str:
    if len(value) != length:
        raise IdentityFormatError(
            "document-wrong-length", kind=kind, count=len(value), expected=length
        )
    return value


def normalize_document(kind: str, raw: str) -> str:
    """Registry import: the number of a document of a known kind, same rules as in the chat."""
    if kind == "passport":
        value = _document_digits(raw, kind=kind)
        if len(value) == _PASSPORT_WITH_SERIES_LEN:
            raise _passport_with_series_error()
        return _exact_length(value, length=_PASSPORT_LEN, kind=kind)
    if kind == "birth_certificate":
        value = _document_digits(raw, kind=kind)
        return _exact_length(value, length=_BIRTH_CERT_LEN, kind=kind)
    if kind == "snils":
        value = _document_digits(raw, kind=kind)
        return _snils_or_error(_exact_length(value, length=_SNILS_LEN, kind=kind))
    if kind == "social_card":
        # The kind is known here, so 10 or 11 digits are a legitimate regional card number and
        # are neither taken for a passport with series nor checked as a СНИЛС.
        value = _document_digits(raw, kind=kind)
        if not _DOC_MIN <= len(value) <= _DOC_MAX:
            raise IdentityFormatError(
                "social-card-length", count=len(value), min=_DOC_MIN, max=_DOC_MAX
            )
        return value
    raise IdentityFormatError("unknown-document-kind", given=_clip(kind))


_DATE: Final = re.compile(r"(\d{1,2})([./,-])(\d{1,2})\2(\d+)", re.ASCII)


def _earliest_birth_date(today: date) -> date:
    year = today.year - _MAX_AGE_YEARS
    if year < date.min.year:
        return date.min
    try:
        return today.replace(year=year)
    except ValueError:  # 29 February of a leap year maps to 1 March, the stricter neighbour.
        return date(year, 3, 1)


def parse_birth_date(raw: str, *, today: date) -> date:
    """A real birth date typed as ДД.ММ.ГГГГ (or Д.М.ГГГГ), not in the future, plausible age."""
    text = raw.strip()
    if not text:
        raise IdentityFormatError("date-empty")
    # The numeric keypad on phones often lacks the dot, so "/", "-" and "," are taken as well,
    # provided the same one is used twice and the order stays day, month, year.
    match = _DATE.fullmatch(text)
    if match is None:
        raise IdentityFormatError("date-unrecognized")
    day, month, year_text = int(match[1]), int(match[3]), match[4]
    if len(year_text) != 4:
        raise IdentityFormatError("date-short-year")
    year = int(year_text)
    if not 1 <= month <= 12:
        raise IdentityFormatError("date-bad-month", month=match[3])
    days_in_month = calendar.monthrange(year, month)[1]
    if day == 0:
        raise IdentityFormatError("date-zero-day")
    if day > days_in_month:
        raise IdentityFormatError(
            "date-day-out-of-month", month=month, year=year, days=days_in_month
        )
    earliest = _earliest_birth_date(today)
    if year < earliest.year or date(year, month, day) < earliest:
        raise IdentityFormatError("date-too-old", years=_MAX_AGE_YEARS)
    born = date(year, month, day)
    if born > today:
        raise IdentityFormatError("date-in-future", today=f"{today:%d.%m.%Y}")
    return born


def mask(value: str, *, visible: int = 2) -> str:
    """Hide an identifier for logs and staff views, keeping the last `visible` characters.

    A value no longer than `visible` is hidden completely: showing "the tail" of a two-character
    value would show all of it.
    """
    if visible < 0:
        raise ValueError("visible must not be negative")
    if len(value) <= visible:
        return "•" * len(value)
    hidden = len(value) - visible
    return "•" * hidden + value[hidden:]
