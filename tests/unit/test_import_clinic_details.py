"""The clinic's details in the import: rooms, notes, paid and district services, attachment."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.services.importing import ImportErrors, ImportIssue, import_data, validate
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from db.models import Doctor, Organization, Patient, Service
from tests import databases
from tests.unit.test_importer import HORIZON, NOW

Sessions = async_sessionmaker[AsyncSession]

CLINIC = """
[[organizations]]
code = "gp3"
name = "Городская поликлиника № 3"
short_name = "Поликлиника № 3"
address = "ул. Садовая, 12"
phone = "+7 (495) 123-45-67"
timezone = "Europe/Moscow"
visit_notes = "Возьмите паспорт, полис ОМС и СНИЛС. Вход с ул. Садовой."

  [[organizations.services]]
  code = "therapist"
  name = "Приём терапевта участкового"
  by_district = true

  [[organizations.services]]
  code = "ultrasound"
  name = "УЗИ брюшной полости"
  paid = true
  price = 1500

  [[organizations.doctors]]
  code = "ivanova"
  last_name = "Иванова"
  first_name = "Анна"
  position = "Врач-терапевт участковый"
  services = ["therapist"]
  slot_minutes = 20
  room = "каб. 214, 2 этаж"
  rooms = { sat = "корпус 2, каб. 5" }
  district = "5"
  hours = { mon = "08:00-14:00", sat = "09:00-12:00" }

  [[organizations.doctors]]
  code = "petrov"
  last_name = "Петров"
  first_name = "Пётр"
  position = "Врач УЗИ"
  services = ["ultrasound"]
  slot_minutes = 30
  hours = { tue = "08:00-12:00" }

[[patients]]
last_name = "Сидоров"
first_name = "Семён"
birth_date = "01.02.1980"
oms = "7788899730000765"
organization = "gp3"
district = "5"
documents = [{ kind = "passport", number = "452188" }]
"""


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    engine: AsyncEngine = create_engine(await databases.database_url(tmp_path / "t.sqlite3"))
    await upgrade(engine)
    yield create_session_factory(engine)
    await engine.dispose()


def clinic() -> dict[str, Any]:
    return tomllib.loads(CLINIC)


def issues_of(data: dict[str, Any]) -> list[ImportIssue]:
    with pytest.raises(ImportErrors) as caught:
        validate(data)
    return caught.value.issues


async def test_details_are_stored(sessions: Sessions) -> None:
    async with sessions() as session:
        await import_data(session, data=clinic(), now=NOW, horizon_days=HORIZON)
    async with sessions() as session:
        org = await session.scalar(select(Organization).where(Organization.code == "gp3"))
        assert org is not None
        assert org.visit_notes is not None
        assert "СНИЛС" in org.visit_notes
        services = {s.code: s for s in await session.scalars(select(Service))}
        assert services["ultrasound"].paid
        assert services["ultrasound"].price == 1500
        assert not services["therapist"].paid
        assert services["therapist"].price is None
        assert services["therapist"].by_district
        assert not services["ultrasound"].by_district
        doctor = await session.scalar(select(Doctor).where(Doctor.code == "ivanova"))
        assert doctor is not None
        assert doctor.district == "5"
        assert doctor.room_on(0) == "каб. 214, 2 этаж"
        assert doctor.room_on(5) == "корпус 2, каб. 5"
        patient = await session.scalar(select(Patient))
        assert patient is not None
        assert (patient.organization_id, patient.district) == (org.id, "5")


async def test_reimport_without_the_details_clears_them(sessions: Sessions) -> None:
    async with sessions() as session:
        await import_data(session, data=clinic(), now=NOW, horizon_days=HORIZON)
    data = clinic()
    del data["organizations"][0]["doctors"][0]["rooms"]
    del data["patients"][0]["district"]
    del data["patients"][0]["organization"]
    async with sessions() as session:
        await import_data(session, data=data, now=NOW, horizon_days=HORIZON)
    async with sessions() as session:
        doctor = await session.scalar(select(Doctor).where(Doctor.code == "ivanova"))
        patient = await session.scalar(select(Patient))
        assert doctor is not None
        assert patient is not None
        assert doctor.rooms is None
        assert doctor.room_on(5) == "каб. 214, 2 этаж"
        assert (patient.organization_id, patient.district) == (None, None)


def test_a_paid_service_needs_its_price_and_a_free_one_has_none() -> None:
    data = clinic()
    del data["organizations"][0]["services"][1]["price"]
    data["organizations"][0]["services"][0]["price"] = 100
    issues = issues_of(data)
    messages = {issue.location: issue.message for issue in issues}
    assert any("должна быть цена" in m for m in messages.values()), messages
    assert any("цена указана у бесплатной" in m for m in messages.values()), messages


def test_room_keys_are_weekdays() -> None:
    data = clinic()
    data["organizations"][0]["doctors"][0]["rooms"] = {"суббота": "каб. 1"}
    [issue] = issues_of(data)
    assert issue.location.endswith(".rooms.суббота")
    assert "не день недели" in issue.message


def test_a_district_doctor_needs_a_district() -> None:
    data = clinic()
    del data["organizations"][0]["doctors"][0]["district"]
    [issue] = issues_of(data)
    assert issue.location.endswith(".district")
    assert "по участкам" in issue.message


def test_a_district_without_an_organization_is_refused() -> None:
    data = clinic()
    del data["patients"][0]["organization"]
    [issue] = issues_of(data)
    assert issue.location.endswith(".district")
    assert "без организации" in issue.message


async def test_an_unknown_organization_refuses_the_file(sessions: Sessions) -> None:
    data = clinic()
    data["patients"][0]["organization"] = "nowhere"
    async with sessions() as session:
        with pytest.raises(ImportErrors) as caught:
            await import_data(session, data=data, now=NOW, horizon_days=HORIZON)
    [issue] = caught.value.issues
    assert "«nowhere»" in issue.message
    async with sessions() as session:
        assert await session.scalar(select(Organization)) is None


async def test_patients_attach_to_an_organization_imported_earlier(sessions: Sessions) -> None:
    data = clinic()
    patients = data.pop("patients")
    async with sessions() as session:
        await import_data(session, data=data, now=NOW, horizon_days=HORIZON)
    async with sessions() as session:
        await import_data(session, data={"patients": patients}, now=NOW, horizon_days=HORIZON)
    async with sessions() as session:
        patient = await session.scalar(select(Patient))
        assert patient is not None
        assert patient.organization_id is not None
