"""Import files generated for a benchmark run, in the format of docs/import-format.md.

Two shapes:

* `dialogue_clinic`: one doctor and one registry patient per simulated patient, laid out so
  that every list the patient walks through fits on one page (at most 8 organizations, 8
  services per organization and 8 doctors per service), so each booking takes the same ten
  updates;
* `registry_file`: a region's registry, D doctors working every day, 40 slots a day.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Doctor, Organization, Patient, Service, doctor_services

# A page of an organization, service or doctor list holds 8 buttons
# (bot/keyboards/booking.py LIST_PAGE_SIZE).
PER_LIST = 8
MAX_DIALOGUE_PATIENTS = PER_LIST**3
TIMEZONE = "Europe/Moscow"
# 40 appointments of 15 minutes a day.
WORKDAY = "08:00-18:00"
SLOT_MINUTES = 15
SLOTS_PER_DAY = 40
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_SURNAMES = ("Иванова", "Петренко", "Смирнов", "Кузнецова", "Соколов", "Попова", "Лебедев")
_FIRST_NAMES = ("Анна", "Олег", "Иван", "Мария", "Пётр", "Елена", "Сергей")
_MIDDLE_NAMES = ("Петровна", "Игоревич", "Андреевич", "Ивановна", "Олегович", "Сергеевна")


def _q(value: str) -> str:
    # A JSON string of these characters is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=False)


def oms_number(index: int) -> str:
    """A 16-digit unified OMS policy number with a valid Luhn check digit."""
    body = f"77{index:013d}"
    total = 0
    # The check digit will be last, so the body's last digit is doubled.
    for position, char in enumerate(reversed(body)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return body + str((10 - total % 10) % 10)


@dataclass(frozen=True, slots=True)
class DialoguePatient:
    """What one simulated patient clicks and types to book with their own doctor."""

    index: int
    organization: str  # the organization's button
    service: str  # the service's button
    doctor: str  # the doctor's button: "position — short name"
    oms: str
    document: str
    birth_date: str  # ДД.ММ.ГГГГ


def _hours() -> str:
    return "{ " + ", ".join(f"{day} = {_q(WORKDAY)}" for day in WEEK) + " }"


def dialogue_clinic(path: Path, patients: int) -> list[DialoguePatient]:
    """Write a clinic with a doctor and a registry patient for each of `patients`."""
    if not 1 <= patients <= MAX_DIALOGUE_PATIENTS:
        raise ValueError(f"between 1 and {MAX_DIALOGUE_PATIENTS} patients")
    per_org = PER_LIST * PER_LIST
    people: list[DialoguePatient] = []
    lines: list[str] = []
    for org in range(-(-patients // per_org)):
        short = f"Поликлиника № {org + 1}"
        lines += [
            "[[organizations]]",
            f'code = "gp{org + 1}"',
            f"name = {_q(f'ГБУЗ «Городская поликлиника № {org + 1}»')}",
            f"short_name = {_q(short)}",
            f"address = {_q(f'г. Москва, ул. Тестовая, д. {org + 1}')}",
            f'phone = "+7 (495) 100-00-{org + 1:02d}"',
            f'timezone = "{TIMEZONE}"',
            "",
        ]
        first = org * per_org
        in_org = range(first, min(patients, first + per_org))
        services = sorted({(i - first) // PER_LIST for i in in_org})
        for s in services:
            lines += [
                "  [[organizations.services]]",
                f'  code = "s{s + 1}"',
                f"  name = {_q(f'Приём терапевта, отделение {s + 1}')}",
                "",
            ]
        for i in in_org:
            s = (i - first) // PER_LIST
            last, first_name = _SURNAMES[i % 7], _FIRST_NAMES[i % 7]
            middle = _MIDDLE_NAMES[i % 6]
            position = f"Врач-терапевт, участок {i + 1}"
            lines += [
                "  [[organizations.doctors]]",
                f'  code = "d{i + 1}"',
                f"  last_name = {_q(last)}",
                f"  first_name = {_q(first_name)}",
                f"  middle_name = {_q(middle)}",
                f"  position = {_q(position)}",
                f'  services = ["s{s + 1}"]',
                f"  slot_minutes = {SLOT_MINUTES}",
                f"  hours = {_hours()}",
                "",
            ]
            born = date(1950, 1, 1) + timedelta(days=(i * 97) % 20_000)
            people.append(
                DialoguePatient(
                    index=i,
                    organization=short,
                    service=f"Приём терапевта, отделение {s + 1}",
                    doctor=f"{position} — {last} {first_name[0]}. {middle[0]}.",
                    oms=oms_number(i + 1),
                    document=f"{100_000 + i:06d}",
                    birth_date=f"{born:%d.%m.%Y}",
                )
            )
    for person in people:
        lines += [
            "[[patients]]",
            'last_name = "Пациентов"',
            f"first_name = {_q(_FIRST_NAMES[person.index % 7])}",
            f'birth_date = "{person.birth_date}"',
            f'oms = "{person.oms}"',
            f'documents = [ {{ kind = "passport", number = "{person.document}" }} ]',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return people


def registry_file(path: Path, doctors: int, *, per_org: int = 100) -> None:
    """Write a registry of `doctors` doctors (one service, every day 08:00–18:00 by 15 min)."""
    lines: list[str] = []
    hours = _hours()
    for org in range(-(-doctors // per_org)):
        lines += [
            "[[organizations]]",
            f'code = "org{org + 1}"',
            f"name = {_q(f'ГБУЗ «Городская поликлиника № {org + 1}»')}",
            f"short_name = {_q(f'Поликлиника № {org + 1}')}",
            f"address = {_q(f'г. Москва, ул. Тестовая, д. {org + 1}')}",
            f'phone = "+7 (495) 200-00-{org % 100:02d}"',
            f'timezone = "{TIMEZONE}"',
            "",
            "  [[organizations.services]]",
            '  code = "therapist"',
            '  name = "Приём терапевта"',
            "",
        ]
        for i in range(org * per_org, min(doctors, (org + 1) * per_org)):
            lines += [
                "  [[organizations.doctors]]",
                f'  code = "d{i + 1}"',
                f"  last_name = {_q(_SURNAMES[i % 7])}",
                f"  first_name = {_q(_FIRST_NAMES[i % 7])}",
                f"  position = {_q(f'Врач-терапевт, участок {i + 1}')}",
                '  services = ["therapist"]',
                f"  slot_minutes = {SLOT_MINUTES}",
                f"  hours = {hours}",
                "",
            ]
    path.write_text("\n".join(lines), encoding="utf-8")


async def insert_one_doctor(
    conn: AsyncConnection, *, code: str, timezone: str = "Europe/Moscow"
) -> None:
    """Organization 1 (`code`) with service 1 and doctor 1, who provides it: the clinic of a
    test or benchmark that writes its slots, bookings and reminders directly."""
    await conn.execute(
        insert(Organization),
        [
            {
                "id": 1,
                "code": code,
                "name": "Городская поликлиника № 1",
                "short_name": "Поликлиника № 1",
                "address": "г. Москва, ул. Примерная, д. 1",
                "phone": "+7 (495) 000-00-00",
                "timezone": timezone,
            }
        ],
    )
    await conn.execute(
        insert(Service), [{"id": 1, "organization_id": 1, "code": "s", "name": "Приём"}]
    )
    await conn.execute(
        insert(Doctor),
        [
            {
                "id": 1,
                "organization_id": 1,
                "code": "d1",
                "last_name": "Иванова",
                "first_name": "Анна",
                "middle_name": "Петровна",
                "position": "Врач-терапевт",
                "slot_minutes": 20,
            }
        ],
    )
    await conn.execute(insert(doctor_services), [{"doctor_id": 1, "service_id": 1}])


async def insert_patients(conn: AsyncConnection, ids: Iterable[int]) -> None:
    """Registry patients with these ids (OMS number: the id, 16 digits), for bookings written
    directly."""
    await conn.execute(
        insert(Patient),
        [
            {
                "id": i,
                "last_name": "Пациентов",
                "first_name": "Пациент",
                "middle_name": None,
                "birth_date": date(1980, 1, 1),
                "oms_number": f"{i:016d}",
            }
            for i in ids
        ],
    )
