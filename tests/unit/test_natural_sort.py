"""Names with numbers in the order a reader expects: «№ 3» before «№ 14»."""

from __future__ import annotations

from datetime import time

from bot.handlers.staff import render
from bot.services import catalog
from bot.services.ordering import natural_key
from db.models import Doctor, Organization
from tests.factories import Factory

HOURS = {0: (time(8), time(12))}


def test_numbers_sort_by_their_value() -> None:
    names = ["Поликлиника № 14", "Поликлиника № 3", "Поликлиника № 120", "Поликлиника № 2"]
    assert sorted(names, key=natural_key) == [
        "Поликлиника № 2",
        "Поликлиника № 3",
        "Поликлиника № 14",
        "Поликлиника № 120",
    ]


def test_case_is_ignored() -> None:
    names = ["поликлиника № 14", "ПОЛИКЛИНИКА № 3", "Поликлиника № 10", "кабинет 2"]
    assert sorted(names, key=natural_key) == [
        "кабинет 2",
        "ПОЛИКЛИНИКА № 3",
        "Поликлиника № 10",
        "поликлиника № 14",
    ]


def test_cyrillic_letters_in_alphabet_order() -> None:
    # natsort decomposes й into и and a breve, which alone would put «Йод» before «Иванов».
    names = ["Кац", "Йодов", "Ивлев", "Иванов", "Ёлкин", "Ежов", "Жуков", "Абрамов"]
    assert sorted(names, key=natural_key) == [
        "Абрамов",
        "Ежов",
        "Ёлкин",
        "Жуков",
        "Иванов",
        "Ивлев",
        "Йодов",
        "Кац",
    ]


def test_a_name_in_parts_sorts_by_surname_first() -> None:
    people = [("Петров", "Иван", None), ("Иванова", "Анна", "Петровна"), ("Иванова", "Алла", "")]
    assert sorted(people, key=lambda p: natural_key(*p)) == [
        ("Иванова", "Алла", ""),
        ("Иванова", "Анна", "Петровна"),
        ("Петров", "Иван", None),
    ]


async def test_the_reference_lists_are_in_natural_order(factory: Factory) -> None:
    fourteen = await factory.organization(short_name="Поликлиника № 14")
    three = await factory.organization(short_name="поликлиника № 3")
    cabinet_10 = await factory.service(fourteen, name="Кабинет 10")
    cabinet_9 = await factory.service(fourteen, name="кабинет 9")
    await factory.doctor(fourteen, hours=HOURS, services=[cabinet_10], last_name="Врач 12")
    await factory.doctor(fourteen, hours=HOURS, services=[cabinet_10], last_name="врач 5")

    shown = [o.short_name for o in await catalog.list_organizations(factory.session)]
    assert shown.index(three.short_name) < shown.index(fourteen.short_name)
    services = await catalog.list_services(factory.session, organization_id=fourteen.id)
    assert [s.id for s in services] == [cabinet_9.id, cabinet_10.id]
    doctors = await catalog.list_doctors(factory.session, service_id=cabinet_10.id)
    assert [d.last_name for d in doctors] == ["врач 5", "Врач 12"]


def _doctor(org_code: str, code: str, last_name: str) -> Doctor:
    organization = Organization(code=org_code, name=org_code, short_name=org_code)
    return Doctor(
        code=code,
        last_name=last_name,
        first_name="Анна",
        middle_name=None,
        position="Врач-терапевт",
        organization=organization,
    )


def test_staff_doctor_list_is_in_natural_order() -> None:
    doctors = [
        _doctor("gp14", "a", "Абрамова"),
        _doctor("gp3", "kab10", "Кабинетова 10"),
        _doctor("gp3", "kab9", "кабинетова 9"),
    ]
    lines = render.doctors_to_choose(doctors).splitlines()
    codes = [line.split(" — ")[0] for line in lines if " — " in line and ":" in line]
    assert codes == ["gp3:kab9", "gp3:kab10", "gp14:a"]


def test_ambiguous_doctors_are_named_in_natural_order() -> None:
    text = render.ambiguous(["gp14:ivanova (Иванова А. П.)", "gp3:ivanova (Иванова А. П.)"])
    assert text.index("gp3:") < text.index("gp14:")
