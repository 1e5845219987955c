"""Validation and normalization of the identity values a patient types in the chat.

Everything here runs before any registry lookup, so a typo is reported precisely and politely
instead of surfacing later as an anonymous "patient not found". A mismatch with the registry
itself is deliberately not this module's business: it must never be explained field by field.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date
from typing import Final

__all__ = [
    "IdentityFormatError",
    "luhn_is_valid",
    "mask",
    "normalize_document",
    "normalize_document_number",
    "normalize_oms",
    "parse_birth_date",
    "snils_is_valid",
]


class IdentityFormatError(ValueError):
    """A typed value has the wrong format; `message` is ready to be shown to the patient."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


def _digits_word(count: int) -> str:
    if count % 10 == 1 and count % 100 != 11:
        return "цифра"
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return "цифры"
    return "цифр"


def _count(count: int) -> str:
    return f"{count} {_digits_word(count)}"


def _strip_separators(raw: str) -> str:
    return _SEPARATORS.sub("", _NUMBER_SIGN.sub("", raw))


# A few offending characters are enough to find the typo; echoing all of them once made a reply
# of 900 emoji longer than Telegram allows, and the patient saw a generic failure instead.
_FOREIGN_SHOWN: Final = 3
# An echoed value from a file (a document kind) is cut: the message must stay short whatever
# the input.
_ECHO_LIMIT: Final = 30


def _shown_char(char: str) -> str:
    """How one offending character is named in a reply."""
    if char.isnumeric():
        # A digit of another script (fullwidth, Arabic-Indic, superscript) is still a digit the
        # patient typed: identity data is never echoed, so it is only described.
        return "цифра не из набора 0–9"
    if unicodedata.category(char)[0] in "CMZ":
        # Invisible, combining and direction marks would glue to the quotes or reorder the
        # reply around them: they are named by code point instead.
        return f"служебный символ U+{ord(char):04X}"
    return f"«{char}»"


def _foreign_chars(value: str) -> str:
    """The first few distinct characters that are not ASCII digits, then «и другие»."""
    shown: dict[str, None] = {}  # an ordered set
    for char in value:
        if char in _DIGITS:
            continue
        shown.setdefault(_shown_char(char), None)
        if len(shown) > _FOREIGN_SHOWN:
            break
    listed = ", ".join(list(shown)[:_FOREIGN_SHOWN])
    return f"{listed} и другие" if len(shown) > _FOREIGN_SHOWN else listed


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
        raise IdentityFormatError(
            "Введите номер полиса ОМС цифрами, без серии: у полиса единого образца — 16 цифр."
        )
    if _has_letters(value):
        raise IdentityFormatError(
            "В номере полиса ОМС есть буквы. Похоже, вместе с номером введена серия — "
            "введите только номер, одними цифрами."
        )
    if not set(value) <= _DIGITS:
        raise IdentityFormatError(
            f"В номере полиса ОМС есть лишние символы: {_foreign_chars(value)}. "
            "Введите только цифры номера (пробелы и дефисы допускаются)."
        )
    length = len(value)
    if length < _OMS_MIN:
        raise IdentityFormatError(
            f"В номере полиса ОМС {_count(length)}, а должно быть не меньше {_OMS_MIN}. "
            "У полиса единого образца номер из 16 цифр, у временного свидетельства — из 9."
        )
    if length > _OMS_MAX:
        raise IdentityFormatError(
            f"В номере полиса ОМС {_count(length)}, а должно быть не больше {_OMS_MAX}. "
            "Введите только номер полиса, без серии и других данных."
        )
    if length == _OMS_UNIFIED and not luhn_is_valid(value):
        raise IdentityFormatError(
            "Номер полиса ОМС не сходится по контрольной цифре — проверьте, нет ли опечатки."
        )
    return value


def _snils_or_error(value: str) -> str:
    if not snils_is_valid(value):
        raise IdentityFormatError(
            "Номер СНИЛС не сходится по контрольному числу (две последние цифры) — "
            "проверьте, нет ли опечатки."
        )
    return value


def _document_digits(raw: str, *, what: str, series: bool = True) -> str:
    """Separators removed and only digits left, or an error saying what else was typed."""
    value = _strip_separators(raw)
    if not value:
        raise IdentityFormatError(f"Введите {what} цифрами" + (", без серии." if series else "."))
    if _has_letters(value):
        raise IdentityFormatError(
            "В номере документа есть буквы. Введите только номер, без серии, одними цифрами: "
            "серию паспорта или свидетельства о рождении (вида «IV-АИ») вводить не нужно."
        )
    if not set(value) <= _DIGITS:
        raise IdentityFormatError(
            f"В номере документа есть лишние символы: {_foreign_chars(value)}. "
            "Введите только цифры номера (пробелы и дефисы допускаются)."
        )
    return value


def _passport_with_series_error() -> IdentityFormatError:
    return IdentityFormatError(
        "Похоже, вы ввели серию и номер паспорта вместе (10 цифр). Введите только номер — "
        "6 цифр, без серии из 4 цифр."
    )


def normalize_document_number(raw: str) -> str:
    """Number of a passport, social card, birth certificate or СНИЛС typed without series."""
    value = _document_digits(raw, what="номер документа")
    length = len(value)
    if length < _DOC_MIN:
        raise IdentityFormatError(
            f"В номере документа {_count(length)}, а должно быть не меньше {_DOC_MIN}. "
            "Номер паспорта и свидетельства о рождении — 6 цифр, СНИЛС — 11 цифр."
        )
    if length > _DOC_MAX:
        raise IdentityFormatError(
            f"В номере документа {_count(length)}, а должно быть не больше {_DOC_MAX}. "
            "Введите только номер документа, без серии и других данных."
        )
    # Ten digits is the typical "series + number" of a passport. A regional social card of that
    # length is rejected too: such cards are rare, the passport slip is the everyday case.
    if length == _PASSPORT_WITH_SERIES_LEN:
        raise _passport_with_series_error()
    if length == _SNILS_LEN:
        return _snils_or_error(value)
    return value


def _exact_length(value: str, *, length: int, of_what: str) -> str:
    if len(value) != length:
        raise IdentityFormatError(
            f"В номере {of_what} {_count(len(value))}, а должно быть ровно {_count(length)}."
        )
    return value


def normalize_document(kind: str, raw: str) -> str:
    """Registry import: the number of a document of a known kind, same rules as in the chat."""
    if kind == "passport":
        value = _document_digits(raw, what="номер паспорта")
        if len(value) == _PASSPORT_WITH_SERIES_LEN:
            raise _passport_with_series_error()
        return _exact_length(value, length=_PASSPORT_LEN, of_what="паспорта")
    if kind == "birth_certificate":
        value = _document_digits(raw, what="номер свидетельства о рождении")
        return _exact_length(value, length=_BIRTH_CERT_LEN, of_what="свидетельства о рождении")
    if kind == "snils":
        value = _document_digits(raw, what="номер СНИЛС", series=False)
        return _snils_or_error(_exact_length(value, length=_SNILS_LEN, of_what="СНИЛС"))
    if kind == "social_card":
        # The kind is known here, so 10 or 11 digits are a legitimate regional card number and
        # are neither taken for a passport with series nor checked as a СНИЛС.
        value = _document_digits(raw, what="номер социальной карты")
        if not _DOC_MIN <= len(value) <= _DOC_MAX:
            raise IdentityFormatError(
                f"В номере социальной карты {_count(len(value))}, а должно быть "
                f"от {_DOC_MIN} до {_DOC_MAX}."
            )
        return value
    raise IdentityFormatError(
        f"Неизвестный вид документа: «{_clip(kind)}». Допустимы: passport, birth_certificate, "
        "snils, social_card."
    )


_DATE: Final = re.compile(r"(\d{1,2})([./,-])(\d{1,2})\2(\d+)", re.ASCII)
_MONTHS_PREPOSITIONAL: Final = (
    "январе",
    "феврале",
    "марте",
    "апреле",
    "мае",
    "июне",
    "июле",
    "августе",
    "сентябре",
    "октябре",
    "ноябре",
    "декабре",
)
_DATE_EXPECTED: Final = "Введите дату рождения в формате ДД.ММ.ГГГГ, например 05.03.1984."


def _days_word(count: int) -> str:
    if count % 10 == 1 and count % 100 != 11:
        return "день"
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return "дня"
    return "дней"


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
        raise IdentityFormatError(_DATE_EXPECTED)
    # The numeric keypad on phones often lacks the dot, so "/", "-" and "," are taken as well,
    # provided the same one is used twice and the order stays day, month, year.
    match = _DATE.fullmatch(text)
    if match is None:
        raise IdentityFormatError(f"Не удалось распознать дату. {_DATE_EXPECTED}")
    day, month, year_text = int(match[1]), int(match[3]), match[4]
    if len(year_text) != 4:
        raise IdentityFormatError(
            "Укажите год рождения полностью — четырьмя цифрами, например 05.03.1984."
        )
    year = int(year_text)
    if not 1 <= month <= 12:
        raise IdentityFormatError(
            f"Такой даты нет: месяц должен быть от 01 до 12, а указан {match[3]}. {_DATE_EXPECTED}"
        )
    days_in_month = calendar.monthrange(year, month)[1]
    if day == 0:
        raise IdentityFormatError(f"Такой даты нет: день не может быть нулевым. {_DATE_EXPECTED}")
    if day > days_in_month:
        raise IdentityFormatError(
            f"Такой даты нет: в {_MONTHS_PREPOSITIONAL[month - 1]} {year} года "
            f"{days_in_month} {_days_word(days_in_month)}. Проверьте дату рождения."
        )
    earliest = _earliest_birth_date(today)
    if year < earliest.year or date(year, month, day) < earliest:
        raise IdentityFormatError(
            f"Проверьте год рождения: получается, что вам больше {_MAX_AGE_YEARS} лет."
        )
    born = date(year, month, day)
    if born > today:
        raise IdentityFormatError(
            f"Дата рождения не может быть позже сегодняшней ({today:%d.%m.%Y}). "
            "Проверьте дату, особенно год."
        )
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
