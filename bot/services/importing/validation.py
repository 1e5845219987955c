"""Checking the whole file before anything is written: every mistake, each with its location.

The file is written by a registry's IT person, not by a program, so the checks are built around
the mistakes a person makes: all of them are reported in a single run, and a file with any
mistake gives no plan at all (ImportErrors), so the import changes nothing.

Cross checks read the raw values wherever they have the right type, not only the records that
passed validation: a typo in one field must not hide a mistake in another.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.services.importing.errors import ImportErrors, ImportIssue
from bot.services.importing.hours import check_hours
from bot.services.importing.patients import check_patients
from bot.services.importing.rendering import IssueCollector, Loc, scrub
from bot.services.importing.schema import (
    CODE_RE,
    WEEKDAYS,
    DoctorIn,
    DoctorPlan,
    FileIn,
    ImportPlan,
    OrganizationIn,
    OrganizationPlan,
    ServiceIn,
    ServicePlan,
    WeekRule,
    list_at,
    str_at,
)

__all__ = ["validate"]


def validate(raw: Mapping[str, Any], *, today: date | None = None) -> ImportPlan:
    """Check the whole file and return what to apply, or raise ImportErrors listing every mistake.

    Pure: no database. `today` bounds birth dates (default: the local date of this machine).
    """
    today = today if today is not None else date.today()
    if not isinstance(raw, Mapping):
        raise ImportErrors([ImportIssue("", "ожидается документ TOML с таблицами")])
    issues = IssueCollector(raw)
    top = issues.parse(FileIn, raw, ())
    # A stray top-level key must not hide the mistakes in the records: go on with what is there.
    raw_orgs = top.organizations if top is not None else list_at(raw, "organizations")
    raw_patients = top.patients if top is not None else list_at(raw, "patients")
    if not raw_orgs and not raw_patients:
        issues.add((), "в файле нет ни одной организации ([[organizations]]) и ни одного пациента")
    organizations = _check_organizations(issues, raw_orgs=raw_orgs)
    patients = check_patients(issues, raw_patients=raw_patients, today=today)
    if issues.issues:
        raise ImportErrors(scrub(issues.issues, raw=raw))
    return ImportPlan(organizations=tuple(organizations), patients=tuple(patients))


def _check_unique_code(
    issues: IssueCollector,
    *,
    raw_record: Any,
    what: str,
    list_loc: Loc,
    index: int,
    seen: dict[str, int],
) -> bool:
    """False, with an issue pointing at the first holder, if the record's code was seen before."""
    code = str_at(raw_record, "code")
    if code is None:
        return True
    if code not in seen:
        seen[code] = index
        return True
    first = issues.where((*list_loc, seen[code]))
    issues.add((*list_loc, index, "code"), f"{what} «{code}» уже есть у {first}")
    return False


# --- Organizations -------------------------------------------------------------------------------


def _check_organizations(issues: IssueCollector, *, raw_orgs: list[Any]) -> list[OrganizationPlan]:
    plans: list[OrganizationPlan] = []
    seen: dict[str, int] = {}
    for index, raw_org in enumerate(raw_orgs):
        plan = _check_organization(issues, raw_org=raw_org, index=index, seen=seen)
        if plan is not None:
            plans.append(plan)
    return plans


def _check_organization(
    issues: IssueCollector, *, raw_org: Any, index: int, seen: dict[str, int]
) -> OrganizationPlan | None:
    loc: Loc = ("organizations", index)
    org = issues.parse(OrganizationIn, raw_org, loc)
    # A repeated code still gives a plan: the issue alone refuses the file.
    _check_unique_code(
        issues, raw_record=raw_org, what="код", list_loc=("organizations",), index=index, seen=seen
    )
    _check_timezone(issues, raw_org=raw_org, loc=loc)
    services = _check_services(issues, raw_org=raw_org, org_loc=loc)
    doctors = _check_doctors(
        issues, raw_org=raw_org, org_loc=loc, service_codes=_declared_services(raw_org)
    )
    _check_district_doctors(issues, raw_org=raw_org, org_loc=loc)
    if org is None:
        return None
    return OrganizationPlan(
        code=org.code,
        name=org.name,
        short_name=org.short_name,
        address=org.address,
        phone=org.phone,
        timezone=org.timezone,
        services=tuple(services),
        doctors=tuple(doctors),
        visit_notes=org.visit_notes,
    )


def _check_timezone(issues: IssueCollector, *, raw_org: Any, loc: Loc) -> None:
    timezone = str_at(raw_org, "timezone")
    if timezone is not None and not _zone_exists(timezone):
        issues.add(
            (*loc, "timezone"),
            f"неизвестный часовой пояс «{timezone}»: нужно название из базы IANA, "
            "например Europe/Moscow или Asia/Yekaterinburg",
        )


def _zone_exists(key: str) -> bool:
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a key such as "Europe" names a directory of the zone database.
        return False
    return True


def _declared_services(raw_org: Any) -> set[str]:
    # Codes of services that failed validation still count as declared: otherwise one typo
    # in a service would also be reported as "unknown service" for every doctor providing it.
    return {
        code
        for raw_service in list_at(raw_org, "services")
        if (code := str_at(raw_service, "code")) is not None
    }


def _check_services(issues: IssueCollector, *, raw_org: Any, org_loc: Loc) -> list[ServicePlan]:
    plans: list[ServicePlan] = []
    seen: dict[str, int] = {}
    list_loc: Loc = (*org_loc, "services")
    for index, raw_service in enumerate(list_at(raw_org, "services")):
        service = issues.parse(ServiceIn, raw_service, (*list_loc, index))
        unique = _check_unique_code(
            issues,
            raw_record=raw_service,
            what="код услуги",
            list_loc=list_loc,
            index=index,
            seen=seen,
        )
        priced = service is not None and _check_price(issues, service, (*list_loc, index))
        if service is not None and unique and priced:
            plans.append(
                ServicePlan(
                    code=service.code,
                    name=service.name,
                    paid=service.paid,
                    price=service.price,
                    by_district=service.by_district,
                    max_wait_hours=service.max_wait_hours,
                    max_wait_working_days=service.max_wait_working_days,
                )
            )
    return plans


def _check_price(issues: IssueCollector, service: ServiceIn, loc: Loc) -> bool:
    """A paid service names its price, and only a paid one: the patient sees it before booking."""
    if service.paid and service.price is None:
        issues.add((*loc, "price"), "у платной услуги (paid = true) должна быть цена в рублях")
        return False
    if service.max_wait_hours is not None and service.max_wait_working_days is not None:
        issues.add(
            (*loc, "max_wait_working_days"),
            "срок ожидания задаётся одним полем: max_wait_hours или max_wait_working_days",
        )
        return False
    if not service.paid and service.price is not None:
        issues.add(
            (*loc, "price"),
            "цена указана у бесплатной услуги: добавьте paid = true или уберите price",
        )
        return False
    return True


def _check_district_doctors(issues: IssueCollector, *, raw_org: Any, org_loc: Loc) -> None:
    """Every doctor of a district service serves a district: else no patient could book them."""
    by_district = {
        code
        for raw_service in list_at(raw_org, "services")
        if (code := str_at(raw_service, "code")) is not None
        and isinstance(raw_service, Mapping)
        and raw_service.get("by_district") is True
    }
    for index, raw_doctor in enumerate(list_at(raw_org, "doctors")):
        provided = {
            item.strip() for item in list_at(raw_doctor, "services") if isinstance(item, str)
        }
        district_services = sorted(provided & by_district)
        if district_services and str_at(raw_doctor, "district") is None:
            issues.add(
                (*org_loc, "doctors", index, "district"),
                f"врач оказывает услугу по участкам («{district_services[0]}», "
                "by_district = true): укажите его участок (district)",
            )


# --- Doctors -------------------------------------------------------------------------------------


def _check_doctors(
    issues: IssueCollector, *, raw_org: Any, org_loc: Loc, service_codes: set[str]
) -> list[DoctorPlan]:
    plans: list[DoctorPlan] = []
    seen: dict[str, int] = {}
    list_loc: Loc = (*org_loc, "doctors")
    for index, raw_doctor in enumerate(list_at(raw_org, "doctors")):
        loc: Loc = (*list_loc, index)
        doctor = issues.parse(DoctorIn, raw_doctor, loc)
        unique = _check_unique_code(
            issues,
            raw_record=raw_doctor,
            what="код врача",
            list_loc=list_loc,
            index=index,
            seen=seen,
        )
        known = _check_doctor_services(
            issues, raw_doctor=raw_doctor, loc=loc, service_codes=service_codes
        )
        hours = check_hours(issues, raw_doctor=raw_doctor, doctor_loc=loc)
        rooms = _check_rooms(issues, doctor=doctor, loc=loc)
        if doctor is not None and unique and known and hours is not None and rooms is not None:
            plans.append(_doctor_plan(doctor, hours=hours, rooms=rooms))
    return plans


def _check_rooms(
    issues: IssueCollector, *, doctor: DoctorIn | None, loc: Loc
) -> tuple[tuple[int, str], ...] | None:
    """The weekdays' own rooms by weekday number, or None if a key is not a weekday."""
    if doctor is None or doctor.rooms is None:
        return ()
    rooms: list[tuple[int, str]] = []
    ok = True
    for key, room in doctor.rooms.items():
        if key not in WEEKDAYS:
            ok = False
            issues.add(
                (*loc, "rooms", key),
                f"«{key}» — не день недели: ожидается один из {', '.join(WEEKDAYS)}",
            )
        else:
            rooms.append((WEEKDAYS.index(key), room))
    return tuple(sorted(rooms)) if ok else None


def _check_doctor_services(
    issues: IssueCollector, *, raw_doctor: Any, loc: Loc, service_codes: set[str]
) -> bool:
    """False, with an issue for each, if the doctor provides a service the file does not declare."""
    known = True
    for position, item in enumerate(list_at(raw_doctor, "services")):
        # A malformed code has been reported already by the structure check.
        if not isinstance(item, str) or not CODE_RE.fullmatch(item.strip()):
            continue
        if item.strip() not in service_codes:
            known = False
            issues.add(
                (*loc, "services", position),
                f"услуги с кодом «{item.strip()}» нет в [[organizations.services]] "
                "этой организации",
            )
    return known


def _doctor_plan(
    doctor: DoctorIn, *, hours: tuple[WeekRule, ...], rooms: tuple[tuple[int, str], ...]
) -> DoctorPlan:
    return DoctorPlan(
        code=doctor.code,
        last_name=doctor.last_name,
        first_name=doctor.first_name,
        middle_name=doctor.middle_name,
        position=doctor.position,
        service_codes=tuple(dict.fromkeys(doctor.services)),
        slot_minutes=doctor.slot_minutes,
        hours=hours,
        room=doctor.room,
        rooms=rooms,
        district=doctor.district,
    )
