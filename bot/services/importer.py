"""Import of reference data and registry patients from a hand-edited TOML file.

The file is written by a registry's IT person, not by a program, so the importer is built
around the mistakes a person makes: every one of them is reported in a single run, each with a
location that can be found in the file, and a file with any mistake changes nothing at all.

Identity values (OMS numbers, document numbers, birth dates) are personal data: they never
appear in an error message, a log line or a repr. Errors point at them by location and by the
patient's name instead.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Final, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
)
from pydantic_core import ErrorDetails
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.identity import (
    IdentityFormatError,
    normalize_document,
    normalize_oms,
    parse_birth_date,
)
from bot.services.slots import generate_slots
from db.models import Doctor, Organization, Patient, PatientDocument, Service, WorkingHours

__all__ = [
    "DoctorPlan",
    "DocumentPlan",
    "ImportErrors",
    "ImportIssue",
    "ImportPlan",
    "ImportReport",
    "OrganizationPlan",
    "PatientPlan",
    "ServicePlan",
    "Tally",
    "import_data",
    "load_toml",
    "validate",
]

logger = logging.getLogger(__name__)

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DOCUMENT_KINDS: Final = ("passport", "birth_certificate", "snils", "social_card")
SHORT_NAME_MAX: Final = 40
SLOT_MINUTES_MIN: Final = 5
SLOT_MINUTES_MAX: Final = 120

# SQLite refuses statements with more bound parameters than this (999 on old builds).
_IN_CHUNK: Final = 500


# --- Errors ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """One mistake in the file: where it is (1-based, with the record's name) and what it is."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ImportErrors(Exception):
    """The file was refused; `issues` lists every mistake found, in file order."""

    def __init__(self, issues: Sequence[ImportIssue]) -> None:
        self.issues: list[ImportIssue] = list(issues)
        super().__init__(self._text())

    def _text(self) -> str:
        count = len(self.issues)
        lines = [f"Файл не импортирован, ничего не изменено. Ошибок: {count}."]
        lines.extend(f"  {issue}" for issue in self.issues)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._text()


# --- The plan: what a valid file asks for, normalized --------------------------------------------


@dataclass(frozen=True, slots=True)
class ServicePlan:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class DoctorPlan:
    code: str
    last_name: str
    first_name: str
    middle_name: str | None
    position: str
    service_codes: tuple[str, ...]
    slot_minutes: int
    # (weekday 0 = Monday, start, end), sorted.
    hours: tuple[tuple[int, time, time], ...]


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


@dataclass(frozen=True, slots=True)
class ImportPlan:
    organizations: tuple[OrganizationPlan, ...]
    patients: tuple[PatientPlan, ...]


# --- The report ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    created: int = 0
    # Found by its key and overwritten with the file's values, whether or not anything differed.
    updated: int = 0


@dataclass(slots=True)
class ImportReport:
    organizations: Tally = field(default_factory=Tally)
    services: Tally = field(default_factory=Tally)
    doctors: Tally = field(default_factory=Tally)
    patients: Tally = field(default_factory=Tally)
    slots_added: int = 0

    def summary(self) -> str:
        parts = [
            f"{title}: создано {tally.created}, обновлено {tally.updated}"
            for title, tally in (
                ("организации", self.organizations),
                ("услуги", self.services),
                ("врачи", self.doctors),
                ("пациенты", self.patients),
            )
        ]
        return f"Импорт выполнен. {'; '.join(parts)}; новых слотов: {self.slots_added}."


# --- File structure (pydantic) -------------------------------------------------------------------

_CODE_RE: Final = re.compile(r"[a-z0-9][a-z0-9_-]*")
_INTERVAL_RE: Final = re.compile(r"(\d{1,2}):(\d{2})\s*[-\u2013\u2014]\s*(\d{1,2}):(\d{2})")


def _check_code(value: str) -> str:
    if not _CODE_RE.fullmatch(value):
        raise ValueError(
            "код может содержать только строчные латинские буквы, цифры, «-» и «_» "
            "и должен начинаться с буквы или цифры"
        )
    return value


def _parse_interval(value: object) -> tuple[time, time]:
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


class _Record(BaseModel):
    # Strict: TOML has real types, so "20" for a number is a mistake worth pointing out.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class _ServiceIn(_Record):
    code: Code
    name: Annotated[str, _text(200)]


class _DoctorIn(_Record):
    code: Code
    last_name: Annotated[str, _text(100)]
    first_name: Annotated[str, _text(100)]
    middle_name: Annotated[str, _text(100)] | None = None
    position: Annotated[str, _text(200)]
    services: Annotated[list[Code], Field(min_length=1)]
    slot_minutes: Annotated[int, Field(ge=SLOT_MINUTES_MIN, le=SLOT_MINUTES_MAX)]
    # Required, even if empty: a forgotten table must not silently wipe a doctor's schedule.
    # Checked on its own (_check_hours), so its mistakes and the doctor's are all reported.
    hours: Any


class _OrganizationIn(_Record):
    code: Code
    name: Annotated[str, _text(300)]
    short_name: Annotated[str, _text(SHORT_NAME_MAX)]
    address: Annotated[str, _text(300)]
    phone: Annotated[str, _text(64)]
    timezone: Annotated[str, _text(64)]
    # Children are validated one by one, so one broken doctor does not hide the others' errors.
    services: list[Any] = []
    doctors: list[Any] = []


class _DocumentIn(_Record):
    kind: Literal["passport", "birth_certificate", "snils", "social_card"]
    number: str


class _PatientIn(_Record):
    last_name: Annotated[str, _text(100)]
    first_name: Annotated[str, _text(100)]
    middle_name: Annotated[str, _text(100)] | None = None
    birth_date: Annotated[str | date, PlainValidator(_birth_date_input)]
    oms: str
    # Required, even if empty: the list replaces the patient's documents in the database.
    documents: list[Any]


class _FileIn(_Record):
    organizations: list[Any] = []
    patients: list[Any] = []


# --- Locations and messages ----------------------------------------------------------------------

_NAMED_LISTS: Final = frozenset({"organizations", "services", "doctors", "patients"})
Loc = tuple[str | int, ...]


def _person(record: Mapping[str, Any]) -> str | None:
    last = record.get("last_name")
    if not isinstance(last, str) or not last.strip():
        return None
    initials = "".join(
        f" {part.strip()[0]}."
        for part in (record.get("first_name"), record.get("middle_name"))
        if isinstance(part, str) and part.strip()
    )
    return f"{last.strip()}{initials}"


def _record_name(kind: str, record: Mapping[str, Any]) -> str | None:
    if kind in ("doctors", "patients"):
        return _person(record)
    keys = ("short_name", "name", "code") if kind == "organizations" else ("code",)
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _location(raw: Any, loc: Loc) -> str:
    """`organizations[1].doctors[2] (Иванова А. П.).hours.fri[1]` for a 0-based pydantic loc.

    The raw data is walked alongside, to name the innermost record and to drop the index that
    pydantic reports for a single value written where a list is also allowed.
    """
    parts: list[str] = []
    label: tuple[int, str] | None = None
    node: Any = raw
    key: str | None = None
    for item in loc:
        if isinstance(item, int):
            if not isinstance(node, list):
                node = None
                continue
            index = f"[{item + 1}]"
            if parts:
                parts[-1] += index
            else:
                parts.append(index)
            node = node[item] if 0 <= item < len(node) else None
            if key in _NAMED_LISTS and isinstance(node, Mapping):
                name = _record_name(key, node)
                if name is not None:
                    label = (len(parts) - 1, name)
        else:
            key = item
            parts.append(item)
            node = node.get(item) if isinstance(node, Mapping) else None
    if label is not None:
        position, name = label
        parts[position] += f" ({name})"
    return ".".join(parts)


def _pydantic_message(error: ErrorDetails) -> str:
    # Messages are built from the error type and its limits, never from the input value.
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    match error["type"]:
        case "missing":
            return "обязательное поле не заполнено"
        case "extra_forbidden":
            return "неизвестное поле (опечатка в названии?)"
        case "string_type":
            return "ожидается текст в кавычках"
        case "string_too_short":
            return "не может быть пустым"
        case "string_too_long":
            return f"слишком длинно: не больше {ctx.get('max_length')} символов"
        case "int_type" | "int_parsing" | "int_from_float":
            return "ожидается целое число (без кавычек)"
        case "greater_than_equal":
            return f"должно быть не меньше {ctx.get('ge')}"
        case "less_than_equal":
            return f"должно быть не больше {ctx.get('le')}"
        case "list_type":
            return "ожидается список в квадратных скобках"
        case "too_short":
            return f"нужно хотя бы {ctx.get('min_length')} значение"
        case "model_type" | "model_attributes_type" | "dict_type":
            return "ожидается таблица TOML (поля «ключ = значение» или { … })"
        case "literal_error":  # the only Literal field is a document's kind
            return "допустимые значения: " + ", ".join(DOCUMENT_KINDS)
        case "value_error":
            return str(ctx.get("error", error["msg"]))
        case _:
            return error["msg"]


_DIGIT_RUN: Final = re.compile(r"\d+")


def _redact(message: str, raw: str) -> str:
    """The message with any piece of `raw` removed.

    identity.py speaks to the patient who typed the value and may quote parts of it back
    ("в марте 1985 года"); in an import report read by staff it must not.
    """
    pieces = set(_DIGIT_RUN.findall(raw))
    message = _DIGIT_RUN.sub(lambda m: "…" if m.group() in pieces else m.group(), message)
    stripped = raw.strip()
    return message.replace(stripped, "…") if stripped else message


_M = TypeVar("_M", bound=BaseModel)


class _Collector:
    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.issues: list[ImportIssue] = []

    def add(self, loc: Loc, message: str) -> None:
        self.issues.append(ImportIssue(_location(self.raw, loc), message))

    def where(self, loc: Loc) -> str:
        return _location(self.raw, loc)

    def parse(self, model: type[_M], value: Any, loc: Loc) -> _M | None:
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                self.add((*loc, *error["loc"]), _pydantic_message(error))
            return None


# --- Validation ----------------------------------------------------------------------------------


def validate(raw: Mapping[str, Any], *, today: date | None = None) -> ImportPlan:
    """Check the whole file and return what to apply, or raise ImportErrors listing every mistake.

    Pure: no database. `today` bounds birth dates (default: the local date of this machine).
    """
    today = today if today is not None else date.today()
    if not isinstance(raw, Mapping):
        raise ImportErrors([ImportIssue("", "ожидается документ TOML с таблицами")])
    issues = _Collector(raw)
    top = issues.parse(_FileIn, raw, ())
    # A stray top-level key must not hide the mistakes in the records: go on with what is there.
    raw_orgs = top.organizations if top is not None else _list_at(raw, "organizations")
    raw_patients = top.patients if top is not None else _list_at(raw, "patients")
    if not raw_orgs and not raw_patients:
        issues.add((), "в файле нет ни одной организации ([[organizations]]) и ни одного пациента")
    organizations = _check_organizations(issues, raw_orgs)
    patients = _check_patients(issues, raw_patients, today=today)
    if issues.issues:
        raise ImportErrors(_scrubbed(issues.issues, raw))
    return ImportPlan(organizations=tuple(organizations), patients=tuple(patients))


def _str_at(record: Any, key: str) -> str | None:
    value = record.get(key) if isinstance(record, Mapping) else None
    return value.strip() or None if isinstance(value, str) else None


def _list_at(record: Any, key: str) -> list[Any]:
    value = record.get(key) if isinstance(record, Mapping) else None
    return value if isinstance(value, list) else []


# Cross checks read the raw values wherever they have the right type, not only the records that
# passed validation: a typo in one field must not hide a mistake in another.


def _check_organizations(issues: _Collector, raw_orgs: list[Any]) -> list[OrganizationPlan]:
    plans: list[OrganizationPlan] = []
    first_seen: dict[str, int] = {}
    for index, raw_org in enumerate(raw_orgs):
        loc: Loc = ("organizations", index)
        org = issues.parse(_OrganizationIn, raw_org, loc)
        code = _str_at(raw_org, "code")
        if code is not None:
            if code in first_seen:
                issues.add(
                    (*loc, "code"),
                    f"код «{code}» уже есть у {issues.where(('organizations', first_seen[code]))}",
                )
            else:
                first_seen[code] = index
        timezone = _str_at(raw_org, "timezone")
        if timezone is not None and not _zone_exists(timezone):
            issues.add(
                (*loc, "timezone"),
                f"неизвестный часовой пояс «{timezone}»: нужно название из базы IANA, "
                "например Europe/Moscow или Asia/Yekaterinburg",
            )
        services = _check_services(issues, raw_org, loc)
        # Codes of services that failed validation still count as declared: otherwise one typo
        # in a service would also be reported as "unknown service" for every doctor providing it.
        declared = {
            service_code
            for raw_service in _list_at(raw_org, "services")
            if (service_code := _str_at(raw_service, "code")) is not None
        }
        doctors = _check_doctors(issues, raw_org, loc, service_codes=declared)
        if org is not None:
            plans.append(
                OrganizationPlan(
                    code=org.code,
                    name=org.name,
                    short_name=org.short_name,
                    address=org.address,
                    phone=org.phone,
                    timezone=org.timezone,
                    services=tuple(services),
                    doctors=tuple(doctors),
                )
            )
    return plans


def _zone_exists(key: str) -> bool:
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a key such as "Europe" names a directory of the zone database.
        return False
    return True


def _check_services(issues: _Collector, raw_org: Any, org_loc: Loc) -> list[ServicePlan]:
    plans: list[ServicePlan] = []
    first_seen: dict[str, int] = {}
    for index, raw_service in enumerate(_list_at(raw_org, "services")):
        loc: Loc = (*org_loc, "services", index)
        service = issues.parse(_ServiceIn, raw_service, loc)
        code = _str_at(raw_service, "code")
        if code is not None and code in first_seen:
            issues.add(
                (*loc, "code"),
                f"код услуги «{code}» уже есть у "
                f"{issues.where((*org_loc, 'services', first_seen[code]))}",
            )
            continue
        if code is not None:
            first_seen[code] = index
        if service is not None:
            plans.append(ServicePlan(code=service.code, name=service.name))
    return plans


def _check_doctors(
    issues: _Collector, raw_org: Any, org_loc: Loc, *, service_codes: set[str]
) -> list[DoctorPlan]:
    plans: list[DoctorPlan] = []
    first_seen: dict[str, int] = {}
    for index, raw_doctor in enumerate(_list_at(raw_org, "doctors")):
        loc: Loc = (*org_loc, "doctors", index)
        doctor = issues.parse(_DoctorIn, raw_doctor, loc)
        ok = doctor is not None
        code = _str_at(raw_doctor, "code")
        if code is not None:
            if code in first_seen:
                ok = False
                issues.add(
                    (*loc, "code"),
                    f"код врача «{code}» уже есть у "
                    f"{issues.where((*org_loc, 'doctors', first_seen[code]))}",
                )
            else:
                first_seen[code] = index
        for position, item in enumerate(_list_at(raw_doctor, "services")):
            # A malformed code has been reported already by the structure check.
            if (
                isinstance(item, str)
                and _CODE_RE.fullmatch(item.strip())
                and item.strip() not in service_codes
            ):
                ok = False
                issues.add(
                    (*loc, "services", position),
                    f"услуги с кодом «{item.strip()}» нет в [[organizations.services]] "
                    "этой организации",
                )
        hours = _check_hours(issues, raw_doctor, loc)
        if doctor is not None and ok and hours is not None:
            plans.append(
                DoctorPlan(
                    code=doctor.code,
                    last_name=doctor.last_name,
                    first_name=doctor.first_name,
                    middle_name=doctor.middle_name,
                    position=doctor.position,
                    service_codes=tuple(dict.fromkeys(doctor.services)),
                    slot_minutes=doctor.slot_minutes,
                    hours=hours,
                )
            )
    return plans


def _check_hours(
    issues: _Collector, raw_doctor: Any, doctor_loc: Loc
) -> tuple[tuple[int, time, time], ...] | None:
    # Checked by hand rather than by a model: a model gives nothing back once any day is wrong,
    # and the overlap check should still run on every day that is right.
    if not isinstance(raw_doctor, Mapping) or "hours" not in raw_doctor:
        return None  # "missing" has been reported by the structure check
    loc: Loc = (*doctor_loc, "hours")
    week = raw_doctor["hours"]
    if not isinstance(week, Mapping):
        issues.add(loc, 'ожидается таблица дней недели, например { mon = "08:00-14:00" }')
        return None
    ok = True
    for key in week:
        if key not in WEEKDAYS:
            ok = False
            issues.add((*loc, key), f"неизвестный день недели; допустимы: {', '.join(WEEKDAYS)}")
    slot_minutes = raw_doctor.get("slot_minutes")
    if not isinstance(slot_minutes, int) or isinstance(slot_minutes, bool):
        slot_minutes = None
    rules: list[tuple[int, time, time]] = []
    for weekday, day in enumerate(WEEKDAYS):
        value = week.get(day)
        if value is None:
            continue
        # One shift a day is written as a plain string; a list is only needed for a break.
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            ok = False
            issues.add((*loc, day), 'ожидается "ЧЧ:ММ-ЧЧ:ММ" или список таких строк в [ ]')
            continue
        intervals: list[tuple[int, time, time]] = []
        for position, item in enumerate(items):
            try:
                intervals.append((position, *_parse_interval(item)))
            except ValueError as exc:
                ok = False
                issues.add((*loc, day, position), str(exc))
        previous: tuple[time, time] | None = None
        for position, start, end in sorted(intervals, key=lambda interval: interval[1:]):
            if previous is not None and start < previous[1]:
                ok = False
                issues.add(
                    (*loc, day, position),
                    f"«{_span(start, end)}» пересекается с «{_span(*previous)}» в тот же день",
                )
            if slot_minutes is not None and _minutes(end) - _minutes(start) < slot_minutes:
                ok = False
                issues.add(
                    (*loc, day, position),
                    f"«{_span(start, end)}» короче одного приёма (slot_minutes = {slot_minutes})",
                )
            rules.append((weekday, start, end))
            previous = (start, end) if previous is None or end > previous[1] else previous
    return tuple(sorted(rules)) if ok else None


def _span(start: time, end: time) -> str:
    return f"{start:%H:%M}-{end:%H:%M}"


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _check_patients(
    issues: _Collector, raw_patients: list[Any], *, today: date
) -> list[PatientPlan]:
    plans: list[PatientPlan] = []
    oms_seen: dict[str, int] = {}
    for index, raw_patient in enumerate(raw_patients):
        loc: Loc = ("patients", index)
        patient = issues.parse(_PatientIn, raw_patient, loc)
        fields: Mapping[str, Any] = raw_patient if isinstance(raw_patient, Mapping) else {}
        ok = patient is not None

        oms: str | None = None
        typed_oms = fields.get("oms")
        if isinstance(typed_oms, str):
            try:
                oms = normalize_oms(typed_oms)
            except IdentityFormatError as exc:
                ok = False
                issues.add((*loc, "oms"), _redact(exc.message, typed_oms))
        if oms is not None:
            if oms in oms_seen:
                ok = False
                issues.add(
                    (*loc, "oms"),
                    f"тот же номер полиса ОМС, что у {issues.where(('patients', oms_seen[oms]))}",
                )
            else:
                oms_seen[oms] = index

        birth_date: date | None = None
        typed_date = fields.get("birth_date")
        if isinstance(typed_date, date) and not isinstance(typed_date, datetime):
            # A TOML date goes through the same checks: not in the future, a plausible age.
            typed_date = f"{typed_date:%d.%m.%Y}"
        if isinstance(typed_date, str):
            try:
                birth_date = parse_birth_date(typed_date, today=today)
            except IdentityFormatError as exc:
                ok = False
                issues.add((*loc, "birth_date"), _redact(exc.message, typed_date))

        # Numbers are stored without their series, so two patients may share one (a 6-digit
        # passport number repeats across series): only a patient's own list must not repeat.
        documents: list[tuple[str, str]] = []
        for position, raw_document in enumerate(_list_at(fields, "documents")):
            doc_loc: Loc = (*loc, "documents", position)
            document = issues.parse(_DocumentIn, raw_document, doc_loc)
            if document is None:
                ok = False
                continue
            try:
                number = normalize_document(document.kind, document.number)
            except IdentityFormatError as exc:
                ok = False
                issues.add((*doc_loc, "number"), _redact(exc.message, document.number))
                continue
            key = (document.kind, number)
            if key in documents:
                ok = False
                issues.add(doc_loc, "этот документ указан у пациента дважды")
                continue
            documents.append(key)

        if patient is not None and ok and oms is not None and birth_date is not None:
            where = issues.where(loc)
            plans.append(
                PatientPlan(
                    location=where,
                    last_name=patient.last_name,
                    first_name=patient.first_name,
                    middle_name=patient.middle_name,
                    birth_date=birth_date,
                    oms=oms,
                    documents=tuple(
                        DocumentPlan(
                            kind=kind, number=number, location=f"{where}.documents[{n + 1}]"
                        )
                        for n, (kind, number) in enumerate(documents)
                    ),
                )
            )
    return plans


def _identity_values(raw: Mapping[str, Any]) -> set[str]:
    values: set[str] = set()
    patients = raw.get("patients")
    for patient in patients if isinstance(patients, list) else []:
        if not isinstance(patient, Mapping):
            continue
        candidates: list[Any] = [patient.get("oms"), patient.get("birth_date")]
        documents = patient.get("documents")
        for document in documents if isinstance(documents, list) else []:
            if isinstance(document, Mapping):
                candidates.append(document.get("number"))
        for value in candidates:
            if isinstance(value, date):
                values.add(value.isoformat())
                value = f"{value:%d.%m.%Y}"
            if isinstance(value, str | int) and len(text := str(value).strip()) >= 6:
                values.add(text)
                values.add(re.sub(r"\D", "", text))
    values.discard("")
    return values


def _scrubbed(issues: list[ImportIssue], raw: Mapping[str, Any]) -> list[ImportIssue]:
    # A last line of defence: whatever produced a message, no identity value leaves here.
    secrets = sorted((v for v in _identity_values(raw) if len(v) >= 6), key=len, reverse=True)

    def clean(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, "…")
        return text

    return [ImportIssue(clean(issue.location), clean(issue.message)) for issue in issues]


# --- Reading the file ----------------------------------------------------------------------------

_TOML_POSITION: Final = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END: Final = re.compile(r"\s*\(at end of document\)\s*$")


def load_toml(path: Path | str) -> dict[str, Any]:
    """The parsed file; a syntax error, a missing file or a wrong encoding as ImportErrors."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        if match := _TOML_POSITION.search(text):
            where = f"{path.name}, строка {match[1]}, столбец {match[2]}"
            text = text[: match.start()]
        elif match := _TOML_END.search(text):
            where = f"{path.name}, конец файла"
            text = text[: match.start()]
        else:
            where = path.name
        raise ImportErrors([ImportIssue(where, f"ошибка синтаксиса TOML: {text}")]) from None
    except UnicodeDecodeError:
        raise ImportErrors([ImportIssue(path.name, "файл должен быть в кодировке UTF-8")]) from None
    except OSError as exc:
        raise ImportErrors(
            [ImportIssue(str(path), f"файл не прочитан: {exc.strerror or exc}")]
        ) from None


# --- Applying ------------------------------------------------------------------------------------


def _latest_date_on_earth(now: datetime) -> date:
    # A child born today in Kamchatka (UTC+12, +14 at the Line Islands) must not be "in the
    # future" for a server that still lives in yesterday by UTC.
    return (now.astimezone(UTC) + timedelta(hours=14)).date()


async def import_data(
    session: AsyncSession, *, data: Mapping[str, Any], now: datetime, horizon_days: int
) -> ImportReport:
    """Validate `data` fully, then upsert it and regenerate the imported doctors' slots.

    The session's transaction is owned here: committed on success, rolled back on any error,
    so a refused file leaves the database exactly as it was.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    plan = validate(data, today=_latest_date_on_earth(now))
    try:
        report = await _apply(session, plan=plan, now=now, horizon_days=horizon_days)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    logger.info("import applied: %s", report.summary())
    return report


async def _apply(
    session: AsyncSession, *, plan: ImportPlan, now: datetime, horizon_days: int
) -> ImportReport:
    report = ImportReport()
    doctors = await _apply_organizations(session, organizations=plan.organizations, report=report)
    await _apply_patients(session, patients=plan.patients, report=report)
    await session.flush()
    if doctors:
        report.slots_added = await generate_slots(
            session,
            now=now,
            horizon_days=horizon_days,
            doctor_ids=[doctor.id for doctor in doctors],
        )
    return report


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


async def _apply_organizations(
    session: AsyncSession,
    *,
    organizations: Sequence[OrganizationPlan],
    report: ImportReport,
) -> list[Doctor]:
    codes = [org.code for org in organizations]
    existing = {
        org.code: org
        for org in (
            await session.scalars(
                select(Organization)
                .where(Organization.code.in_(codes))
                .options(
                    selectinload(Organization.services),
                    selectinload(Organization.doctors).selectinload(Doctor.services),
                    selectinload(Organization.doctors).selectinload(Doctor.hours),
                )
            )
        ).all()
    }
    touched: list[Doctor] = []
    for plan in organizations:
        org = existing.get(plan.code)
        services: dict[str, Service] = {}
        doctors: dict[str, Doctor] = {}
        if org is None:
            org = Organization(code=plan.code)
            session.add(org)
            report.organizations.created += 1
        else:
            services = {service.code: service for service in org.services}
            doctors = {doctor.code: doctor for doctor in org.doctors}
            report.organizations.updated += 1
        org.name = plan.name
        org.short_name = plan.short_name
        org.address = plan.address
        org.phone = plan.phone
        org.timezone = plan.timezone

        for service_plan in plan.services:
            service = services.get(service_plan.code)
            if service is None:
                # SQLAlchemy 2 no longer cascades along backrefs: each new row is added itself.
                service = Service(organization=org, code=service_plan.code)
                session.add(service)
                services[service_plan.code] = service
                report.services.created += 1
            else:
                report.services.updated += 1
            service.name = service_plan.name

        for doctor_plan in plan.doctors:
            doctor = doctors.get(doctor_plan.code)
            if doctor is None:
                doctor = Doctor(organization=org, code=doctor_plan.code, services=[], hours=[])
                session.add(doctor)
                report.doctors.created += 1
            else:
                report.doctors.updated += 1
            _fill_doctor(doctor, plan=doctor_plan, services=services)
            touched.append(doctor)
    await session.flush()
    return touched


def _fill_doctor(doctor: Doctor, *, plan: DoctorPlan, services: Mapping[str, Service]) -> None:
    doctor.last_name = plan.last_name
    doctor.first_name = plan.first_name
    doctor.middle_name = plan.middle_name
    doctor.position = plan.position
    doctor.slot_minutes = plan.slot_minutes
    wanted_services = [services[code] for code in plan.service_codes]
    if {id(service) for service in doctor.services} != {id(s) for s in wanted_services}:
        doctor.services = wanted_services
    # Rows are replaced only when the week actually changed, so a re-import of the same file
    # writes nothing.
    have = sorted((h.weekday, h.start_time, h.end_time) for h in doctor.hours)
    if have != list(plan.hours):
        doctor.hours = [
            WorkingHours(weekday=weekday, start_time=start, end_time=end)
            for weekday, start, end in plan.hours
        ]


async def _apply_patients(
    session: AsyncSession, *, patients: Sequence[PatientPlan], report: ImportReport
) -> None:
    by_oms: dict[str, Patient] = {}
    for chunk in _chunks(sorted({patient.oms for patient in patients})):
        found = await session.scalars(
            select(Patient)
            .where(Patient.oms_number.in_(chunk))
            .options(selectinload(Patient.documents))
        )
        by_oms.update({patient.oms_number: patient for patient in found})

    for plan in patients:
        patient = by_oms.get(plan.oms)
        if patient is None:
            session.add(
                Patient(
                    last_name=plan.last_name,
                    first_name=plan.first_name,
                    middle_name=plan.middle_name,
                    birth_date=plan.birth_date,
                    oms_number=plan.oms,
                    documents=[
                        PatientDocument(kind=document.kind, number=document.number)
                        for document in plan.documents
                    ],
                )
            )
            report.patients.created += 1
            continue
        patient.last_name = plan.last_name
        patient.first_name = plan.first_name
        patient.middle_name = plan.middle_name
        patient.birth_date = plan.birth_date
        # The file's list replaces the stored one; rows that stay are left untouched, so a
        # re-import of the same file writes nothing.
        wanted = {(document.kind, document.number) for document in plan.documents}
        for stored in list(patient.documents):
            if (stored.kind, stored.number) not in wanted:
                patient.documents.remove(stored)
        have = {(document.kind, document.number) for document in patient.documents}
        for document in plan.documents:
            if (document.kind, document.number) not in have:
                patient.documents.append(
                    PatientDocument(kind=document.kind, number=document.number)
                )
        report.patients.updated += 1
