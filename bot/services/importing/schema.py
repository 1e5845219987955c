"""The import file's records: as written (pydantic, strict) and as applied (plans), and reading it.

The input records check one record's own fields; everything that needs more than one record
(duplicate codes, a doctor's services, working hours, identity values) is checked in validation.
The plans are what a file that passed every check asks for, already normalized.
"""

from __future__ import annotations

import errno
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, StringConstraints

from bot.services.importing.errors import ImportErrors, ImportIssue

__all__ = [
    "CODE_RE",
    "DOCUMENT_KINDS",
    "PRICE_MAX",
    "SHORT_NAME_MAX",
    "SLOT_MINUTES_MAX",
    "SLOT_MINUTES_MIN",
    "WEEKDAYS",
    "DoctorIn",
    "DoctorPlan",
    "DocumentIn",
    "DocumentPlan",
    "FileIn",
    "ImportPlan",
    "OrganizationIn",
    "OrganizationPlan",
    "PatientIn",
    "PatientPlan",
    "ServiceIn",
    "ServicePlan",
    "WeekRule",
    "list_at",
    "load_toml",
    "parse_interval",
    "str_at",
]

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DOCUMENT_KINDS: Final = ("passport", "birth_certificate", "snils", "social_card")
SHORT_NAME_MAX: Final = 40
SLOT_MINUTES_MIN: Final = 5
SLOT_MINUTES_MAX: Final = 120

CODE_RE: Final = re.compile(r"[a-z0-9][a-z0-9_-]*")
_INTERVAL_RE: Final = re.compile(r"(\d{1,2}):(\d{2})\s*[-\u2013\u2014]\s*(\d{1,2}):(\d{2})")

# (weekday 0 = Monday, start, end): one interval of a doctor's week.
WeekRule = tuple[int, time, time]


# --- Field checks --------------------------------------------------------------------------------


def _check_code(value: str) -> str:
    if not CODE_RE.fullmatch(value):
        raise ValueError(
            "код может содержать только строчные латинские буквы, цифры, «-» и «_» "
            "и должен начинаться с буквы или цифры"
        )
    return value


def parse_interval(value: object) -> tuple[time, time]:
    """`"08:00-14:00"` as (start, end); ValueError with a message for the import report."""
    if not isinstance(value, str):
        raise ValueError('ожидается строка вида "08:00-14:00"')
    match = _INTERVAL_RE.fullmatch(value.strip())
    if match is None:
        raise ValueError(f'«{value}»: ожидается интервал вида "08:00-14:00"')
    start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
    if max(start_h, end_h) > 23 or max(start_m, end_m) > 59:
        raise ValueError(f"«{value}»: такого времени нет (часы 00–23, минуты 00–59)")
    start, end = time(start_h, start_m), time(end_h, end_m)
    if start >= end:
        raise ValueError(
            f"«{value}»: начало должно быть раньше конца (приём через полночь не поддерживается)"
        )
    return start, end


def _birth_date_input(value: object) -> str | date:
    # TOML datetimes are `date` subclasses; a time of birth is not what the field means.
    if isinstance(value, datetime) or not isinstance(value, str | date):
        raise ValueError("ожидается дата в кавычках в виде ДД.ММ.ГГГГ или дата TOML ГГГГ-ММ-ДД")
    return value


def _text(max_length: int) -> Any:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


Code = Annotated[str, _text(64), AfterValidator(_check_code)]


# --- The records as written ----------------------------------------------------------------------


class _Record(BaseModel):
    # Strict: TOML has real types, so "20" for a number is a mistake worth pointing out.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


District = Annotated[str, _text(32)]
Room = Annotated[str, _text(100)]
PRICE_MAX: Final = 10_000_000


class ServiceIn(_Record):
    code: Code
    name: Annotated[str, _text(200)]
    # Not under the OMS policy; `price` in whole roubles is required with it (validation).
    paid: bool = False
    price: Annotated[int, Field(ge=1, le=PRICE_MAX)] | None = None
    # Booked only by patients attached to the organization, with their district's doctors.
    by_district: bool = False
    # The state's guarantee on waiting times: hours (a district therapist: 24) or working
    # days (a specialist: 14); at most one of them.
    max_wait_hours: Annotated[int, Field(ge=1, le=24 * 60)] | None = None
    max_wait_working_days: Annotated[int, Field(ge=1, le=60)] | None = None


class DoctorIn(_Record):
    code: Code
    last_name: Annotated[str, _text(100)]
    first_name: Annotated[str, _text(100)]
    middle_name: Annotated[str, _text(100)] | None = None
    position: Annotated[str, _text(200)]
    services: Annotated[list[Code], Field(min_length=1)]
    slot_minutes: Annotated[int, Field(ge=SLOT_MINUTES_MIN, le=SLOT_MINUTES_MAX)]
    room: Room | None = None
    # A weekday's own room, e.g. { sat = "корпус 2, каб. 5" }; keys checked in validation.
    rooms: dict[str, Room] | None = None
    district: District | None = None
    # Required, even if empty: a forgotten table must not silently wipe a doctor's schedule.
    # Checked on its own (validation), so its mistakes and the doctor's are all reported.
    hours: Any


class OrganizationIn(_Record):
    code: Code
    name: Annotated[str, _text(300)]
    short_name: Annotated[str, _text(SHORT_NAME_MAX)]
    address: Annotated[str, _text(300)]
    phone: Annotated[str, _text(64)]
    timezone: Annotated[str, _text(64)]
    # What to bring and where to enter; printed on the ticket.
    visit_notes: Annotated[str, _text(1000)] | None = None
    # Children are validated one by one, so one broken doctor does not hide the others' errors.
    services: list[Any] = []
    doctors: list[Any] = []


class DocumentIn(_Record):
    kind: Literal["passport", "birth_certificate", "snils", "social_card"]
    number: str


class PatientIn(_Record):
    last_name: Annotated[str, _text(100)]
    first_name: Annotated[str, _text(100)]
    middle_name: Annotated[str, _text(100)] | None = None
    birth_date: Annotated[str | date, PlainValidator(_birth_date_input)]
    oms: str
    # Attachment: the organization's code (in this file or already imported) and the district.
    organization: Code | None = None
    district: District | None = None
    # Required, even if empty: the list replaces the patient's documents in the database.
    documents: list[Any]


class FileIn(_Record):
    organizations: list[Any] = []
    patients: list[Any] = []


# --- The plan: what a valid file asks for, normalized --------------------------------------------


@dataclass(frozen=True, slots=True)
class ServicePlan:
    code: str
    name: str
    paid: bool = False
    price: int | None = None
    by_district: bool = False
    max_wait_hours: int | None = None
    max_wait_working_days: int | None = None


@dataclass(frozen=True, slots=True)
class DoctorPlan:
    code: str
    last_name: str
    first_name: str
    middle_name: str | None
    position: str
    service_codes: tuple[str, ...]
    slot_minutes: int
    # Sorted.
    hours: tuple[WeekRule, ...]
    room: str | None = None
    # Weekday (0 = Monday) -> room, sorted by weekday.
    rooms: tuple[tuple[int, str], ...] = ()
    district: str | None = None


@dataclass(frozen=True, slots=True)
class OrganizationPlan:
    code: str
    name: str
    short_name: str
    address: str
    phone: str
    timezone: str
    services: tuple[ServicePlan, ...]
    doctors: tuple[DoctorPlan, ...]
    visit_notes: str | None = None


# Identity values are personal data: kept out of every repr, so a log line cannot carry them.
@dataclass(frozen=True, slots=True)
class DocumentPlan:
    kind: str
    number: str = field(repr=False)
    location: str


@dataclass(frozen=True, slots=True)
class PatientPlan:
    location: str
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date = field(repr=False)
    oms: str = field(repr=False)
    documents: tuple[DocumentPlan, ...] = field(repr=False)
    # The attached organization's code and the district, if the file says.
    organization: str | None = None
    district: str | None = None


@dataclass(frozen=True, slots=True)
class ImportPlan:
    organizations: tuple[OrganizationPlan, ...]
    patients: tuple[PatientPlan, ...]


# --- Reading the file ----------------------------------------------------------------------------


# The raw file is read alongside its typed records: a record that failed to validate still has
# fields of the right type worth cross-checking.


def str_at(record: Any, key: str) -> str | None:
    """`record[key]` stripped, if the record is a table and the value non-blank text."""
    value = record.get(key) if isinstance(record, Mapping) else None
    return value.strip() or None if isinstance(value, str) else None


def list_at(record: Any, key: str) -> list[Any]:
    """`record[key]` if the record is a table and the value a list, else an empty list."""
    value = record.get(key) if isinstance(record, Mapping) else None
    return value if isinstance(value, list) else []


_TOML_POSITION: Final = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END: Final = re.compile(r"\s*\(at end of document\)\s*$")


def load_toml(path: Path | str) -> dict[str, Any]:
    """The parsed file; a syntax error, a missing file or a wrong encoding as ImportErrors."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as exc:
        raise ImportErrors([_syntax_issue(path, exc)]) from None
    except UnicodeDecodeError:
        raise ImportErrors([ImportIssue(path.name, "файл должен быть в кодировке UTF-8")]) from None
    except OSError as exc:
        raise ImportErrors(
            [ImportIssue(str(path), f"файл не прочитан: {_os_reason(exc)}")]
        ) from None


def _syntax_issue(path: Path, exc: tomllib.TOMLDecodeError) -> ImportIssue:
    # tomllib puts the position at the end of its English message; it becomes the location,
    # in words the person who edits the file reads.
    position, message = describe_toml_error(exc)
    where = f"{path.name}, {position}" if position else path.name
    return ImportIssue(where, message)


def describe_toml_error(exc: tomllib.TOMLDecodeError) -> tuple[str | None, str]:
    """A TOML syntax error in Russian: the position («строка 3, столбец 9», «конец файла»,
    None if tomllib gave none) and the message («ошибка синтаксиса TOML: …»).

    tomllib's messages are English; the common ones are translated, any other says only
    that the syntax is wrong (the position still points at the spot). Also used for the
    settings file (bot/config_errors.py)."""
    text = str(exc)
    position = None
    if match := _TOML_POSITION.search(text):
        position = f"строка {match[1]}, столбец {match[2]}"
        text = text[: match.start()]
    elif match := _TOML_END.search(text):
        position = "конец файла"
        text = text[: match.start()]
    for pattern, russian in _TOML_MESSAGES:
        if found := pattern.fullmatch(text.strip()):
            return position, f"{_TOML_SYNTAX}: {russian(found)}"
    return position, _TOML_SYNTAX


_TOML_SYNTAX: Final = "ошибка синтаксиса TOML"


def _toml_key(found: re.Match[str]) -> str:
    """tomllib names a table by its key as a tuple: ('organizations', 'doctors')."""
    parts = re.findall(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", found["key"])
    return ".".join(single or double for single, double in parts) or found["key"]


def _toml_char(found: re.Match[str]) -> str:
    char = found["char"]
    return "перевод строки" if char == r"\n" else f"символ {char}"


_TOML_MESSAGES: Final[tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...]] = (
    (
        re.compile(r"Expected '=' after a key in a key/value pair"),
        lambda _: "после ключа нужен знак «=» и значение (ключ = значение)",
    ),
    (
        re.compile(r"Invalid value"),
        lambda _: (
            'недопустимое значение: текст пишется в кавычках ("…"), '
            "числа, true/false и даты — без них"
        ),
    ),
    (
        re.compile(r"Invalid statement"),
        lambda _: "строка должна быть «ключ = значение», заголовком [раздел] или комментарием #",
    ),
    (
        re.compile(r"Expected newline or end of document after a statement"),
        lambda _: "после значения в той же строке лишний текст (комментарий начинается с #)",
    ),
    (re.compile(r"Unclosed array"), lambda _: "список не закрыт: не хватает «]»"),
    (
        re.compile(r"Unclosed inline table"),
        lambda _: "таблица в фигурных скобках не закрыта: не хватает «}»",
    ),
    (
        re.compile(r"Cannot declare (?P<key>.+) twice"),
        lambda found: f"раздел [{_toml_key(found)}] уже объявлен выше",
    ),
    (
        re.compile(r"Cannot overwrite a value"),
        lambda _: "этот ключ уже задан выше: у ключа может быть только одно значение",
    ),
    (
        re.compile(r"Cannot (?:mutate immutable|redefine) namespace (?P<key>.+)"),
        lambda found: f"{_toml_key(found)} уже задан выше целиком, дополнить его нельзя",
    ),
    (
        re.compile(r"Duplicate inline table key (?P<key>.+)"),
        lambda found: f"ключ {_toml_key(found)} повторяется в таблице в фигурных скобках",
    ),
    (
        re.compile(r"Illegal character '(?P<char>\\n)'"),
        lambda _: "текст в кавычках не закрыт: закрывающая кавычка должна стоять в той же строке",
    ),
    (
        re.compile(r"Illegal character (?P<char>.+)"),
        lambda found: f"недопустимый {_toml_char(found)} в тексте",
    ),
    (
        re.compile(r"Found invalid character (?P<char>.+)"),
        lambda found: f"недопустимый {_toml_char(found)}",
    ),
    (re.compile(r"Unterminated string"), lambda _: "текст не закрыт: не хватает кавычек"),
    (
        re.compile(r"Expected '\]' at the end of a table declaration"),
        lambda _: "заголовок раздела не закрыт: не хватает «]»",
    ),
    (
        re.compile(r"Expected '\]\]' at the end of an array declaration"),
        lambda _: "заголовок [[…]] не закрыт: не хватает «]]»",
    ),
    (
        re.compile(r"Invalid initial character for a key part"),
        lambda _: "ключ начинается с недопустимого символа (ключ — латинские буквы, цифры, _ и -)",
    ),
    (
        re.compile(r"Unescaped '\\' in a string"),
        lambda _: "обратная косая черта \\ в тексте: удвойте её или возьмите текст в 'апострофы'",
    ),
    (
        re.compile(r"Invalid hex value|Escaped character is not a Unicode scalar value"),
        lambda _: "неверный код символа после \\u или \\U",
    ),
    (
        re.compile(r"Invalid date or datetime"),
        lambda _: "такой даты или времени нет (дата пишется ГГГГ-ММ-ДД)",
    ),
    # After every more particular "Expected …".
    (
        re.compile(r"Expected (?P<char>.+)"),
        lambda found: f"не хватает {found['char']}",
    ),
)


# The system's own words for why a file can't be read are English; the common ones in Russian.
_OS_REASONS: Final = {
    errno.ENOENT: "такого файла нет",
    errno.EACCES: "нет прав на чтение",
    errno.EISDIR: "это папка, а не файл",
}


def _os_reason(exc: OSError) -> str:
    return _OS_REASONS.get(exc.errno or 0, f"ошибка системы ({exc.strerror or exc})")
