from __future__ import annotations

import copy
import re
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.services.booking import identify_patient
from bot.services.importing import (
    ImportErrors,
    ImportIssue,
    import_data,
    load_toml,
    validate,
)
from bot.services.slots import rewriting as slots_rewriting
from bot.services.slots import storage as slots_storage
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from db.models import (
    Booking,
    BookingStatus,
    Doctor,
    Organization,
    Patient,
    PatientDocument,
    Service,
    Slot,
    WorkingHours,
    doctor_services,
)
from tests import databases
from tests.unit.test_slots_reference import reference_generate

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "bot" / "data" / "demo.toml"
EXAMPLE = ROOT / "examples" / "import.toml"

# Wednesday 25 November 2026, 09:00 in Moscow.
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
HORIZON = 14
MSK = ZoneInfo("Europe/Moscow")

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(await databases.database_url(tmp_path / "t.sqlite3"))
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> Sessions:
    return create_session_factory(engine)


async def run_import(sessions: Sessions, data: dict[str, Any], *, now: datetime = NOW) -> Any:
    async with sessions() as session:
        return await import_data(session, data=data, now=now, horizon_days=HORIZON)


async def row_counts(sessions: Sessions) -> dict[str, int]:
    tables = [Organization, Service, Doctor, WorkingHours, Slot, Patient, PatientDocument]
    async with sessions() as session:
        counts = {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in tables
        }
        counts["doctor_services"] = (
            await session.scalar(select(func.count()).select_from(doctor_services)) or 0
        )
    return counts


def issues_of(exc: pytest.ExceptionInfo[ImportErrors]) -> list[ImportIssue]:
    return exc.value.issues


def has_issue(issues: list[ImportIssue], location: str, fragment: str) -> bool:
    return any(i.location == location and fragment in i.message for i in issues)


# --- Clean imports -------------------------------------------------------------------------------


async def test_demo_file_imports_cleanly(sessions: Sessions) -> None:
    report = await run_import(sessions, load_toml(DEMO))

    assert (report.organizations.created, report.organizations.updated) == (2, 0)
    assert report.services.created >= 4
    assert report.doctors.created >= 6
    assert report.patients.created >= 10
    counts = await row_counts(sessions)
    assert counts["slots"] == report.slots_added > 0
    assert "создано 2" in report.summary()

    async with sessions() as session:
        doctors = await session.scalars(select(Doctor).options(selectinload(Doctor.services)))
        by_code = {doctor.code: doctor for doctor in doctors.all()}
        for doctor in by_code.values():
            first, last = (
                await session.execute(
                    select(func.min(Slot.starts_at), func.max(Slot.starts_at)).where(
                        Slot.doctor_id == doctor.id
                    )
                )
            ).one()
            assert first is not None, doctor.code
            assert first > NOW
            assert last < NOW + timedelta(days=HORIZON + 1)
        assert any(len(doctor.services) == 2 for doctor in by_code.values())

        # 30-minute slots: Tue/Thu 15:00-20:00 and Sat 09:00-13:00, two of each in 14 days.
        orlova = by_code["orlova-em"]
        assert (
            await session.scalar(
                select(func.count()).select_from(Slot).where(Slot.doctor_id == orlova.id)
            )
            == 2 * 10 + 2 * 10 + 2 * 8
        )

        # The lunch break 13:00-14:00 has no slots.
        surgeon = by_code["sergeev-vn"]
        starts = await session.scalars(select(Slot.starts_at).where(Slot.doctor_id == surgeon.id))
        local_hours = {start.astimezone(MSK).hour for start in starts}
        assert 12 in local_hours
        assert 14 in local_hours
        assert 13 not in local_hours

        petrov = await session.scalar(
            select(Patient)
            .where(Patient.last_name == "Петров")
            .options(selectinload(Patient.documents))
        )
        assert petrov is not None
        assert petrov.birth_date == date(1985, 3, 14)
        assert {(d.kind, d.number) for d in petrov.documents} == {
            ("passport", "452187"),
            ("snils", "11223344595"),
        }


async def test_example_file_imports_cleanly(sessions: Sessions) -> None:
    report = await run_import(sessions, load_toml(EXAMPLE))

    for tally in (report.organizations, report.doctors, report.patients):
        assert (tally.created, tally.updated) == (1, 0)
    # A district service and a paid one: every field of the format is shown.
    assert (report.services.created, report.services.updated) == (2, 0)
    assert report.slots_added > 0
    counts = await row_counts(sessions)
    assert counts["working_hours"] == 4  # mon, wed and fri with a break
    assert counts["patient_documents"] == 2


async def test_reimport_is_idempotent(sessions: Sessions) -> None:
    data = load_toml(DEMO)
    first = await run_import(sessions, data)
    before = await row_counts(sessions)

    second = await run_import(sessions, data)

    assert second.slots_added == 0
    for kind in ("organizations", "services", "doctors", "patients"):
        assert getattr(second, kind).created == 0
        assert getattr(second, kind).updated == getattr(first, kind).created
    assert await row_counts(sessions) == before


async def test_reimport_updates_by_key_and_leaves_absent_records(sessions: Sessions) -> None:
    await run_import(sessions, load_toml(DEMO))
    data = load_toml(EXAMPLE)
    data["patients"][0]["oms"] = "7788899730000765"  # Петров from the demo set
    data["patients"][0]["documents"] = [{"kind": "passport", "number": "452 188"}]

    report = await run_import(sessions, data)

    assert report.patients.updated == 1
    assert report.patients.created == 0
    async with sessions() as session:
        patient = await session.scalar(
            select(Patient)
            .where(Patient.oms_number == "7788899730000765")
            .options(selectinload(Patient.documents))
        )
        assert patient is not None
        assert patient.last_name == "Григорьев"
        assert [(d.kind, d.number) for d in patient.documents] == [("passport", "452188")]
        # Records absent from the file stay.
        assert await session.scalar(select(func.count()).select_from(Organization)) == 3
        assert await session.scalar(select(func.count()).select_from(Patient)) == 12


async def test_reimport_replaces_doctor_services_and_hours(sessions: Sessions) -> None:
    data = load_toml(DEMO)
    await run_import(sessions, data)
    moscow = data["organizations"][0]
    doctors = {doctor["code"]: doctor for doctor in moscow["doctors"]}
    doctors["ivanova-ap"]["services"] = ["therapist"]
    doctors["kim-da"]["services"] = ["checkup", "surgeon", "therapist"]
    doctors["kim-da"]["hours"] = {"sat": "09:00-10:00"}

    await run_import(sessions, data)

    async with sessions() as session:
        found = await session.scalars(
            select(Doctor)
            .where(Doctor.code.in_(["ivanova-ap", "kim-da"]))
            .options(selectinload(Doctor.services), selectinload(Doctor.hours))
        )
        by_code = {doctor.code: doctor for doctor in found}
        assert {s.code for s in by_code["ivanova-ap"].services} == {"therapist"}
        assert {s.code for s in by_code["kim-da"].services} == {"checkup", "surgeon", "therapist"}
        assert [(h.weekday, h.start_time.hour) for h in by_code["kim-da"].hours] == [(5, 9)]
        starts = await session.scalars(
            select(Slot.starts_at).where(Slot.doctor_id == by_code["kim-da"].id)
        )
        assert {start.astimezone(MSK).weekday() for start in starts} == {5}


# --- Refused files -------------------------------------------------------------------------------

BROKEN = textwrap.dedent(
    """\
    [[organizations]]
    code = "example-gp1"
    name = "Переименованная поликлиника"
    short_name = "Поликлиника № 1"
    address = "г. Москва"
    phone = "+7 (495) 000-00-01"
    timezone = "Europe/Moskow"

      [[organizations.services]]
      code = "therapist"
      name = "Приём терапевта"

      [[organizations.services]]
      code = "therapist"
      name = "Ещё раз терапевт"

      [[organizations.doctors]]
      code = "ivanova-ap"
      last_name = "Иванова"
      first_name = "Анна"
      middle_name = "Петровна"
      position = "Врач-терапевт"
      services = ["therapist", "lor"]
      slot_minutes = 20
      hours = { mon = "08:00-14:00", fri = ["08:00-12:00", "11:00-16:00"], sun = "14:00-08:00" }

      [[organizations.doctors]]
      code = "kim-da"
      last_name = "Ким"
      first_name = "Денис"
      position = "Врач-терапевт"
      services = ["therapist"]
      slot_minutes = 200
      hours = {}

    [[organizations]]
    code = "example-gp1"
    name = "Дубликат"
    short_name = "Дубликат"
    address = "—"
    phone = "—"
    timezone = "Asia/Yekaterinburg"

    [[patients]]
    last_name = "Петров"
    first_name = "Пётр"
    middle_name = "Петрович"
    birth_date = "14.03.1985"
    oms = "7788899730000765"
    documents = [{ kind = "passport", number = "452187" }]

    [[patients]]
    last_name = "Сидоров"
    first_name = "Семён"
    birth_date = "01.01.2090"
    oms = "7788899730000765"
    documents = [{ kind = "passport", number = "452187" }, { kind = "visa", number = "1" }]

    [[patients]]
    last_name = "Орлов"
    first_name = "Олег"
    birth_date = 1990-05-01
    oms = "7788899730000766"
    documents = [{ kind = "snils", number = "112-233-445 96" }]
    """
)


async def test_file_with_errors_reports_each_and_changes_nothing(
    sessions: Sessions, tmp_path: Path
) -> None:
    await run_import(sessions, load_toml(EXAMPLE))
    before = await row_counts(sessions)
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")

    with pytest.raises(ImportErrors) as caught:
        await run_import(sessions, load_toml(path))

    issues = issues_of(caught)
    org = "organizations[1] (Поликлиника № 1)"
    ivanova = "organizations[1].doctors[1] (Иванова А. П.)"
    expected = [
        (f"{org}.timezone", "неизвестный часовой пояс"),
        ("organizations[1].services[2] (therapist).code", "уже есть у organizations[1]"),
        (f"{ivanova}.services[2]", "«lor»"),
        (f"{ivanova}.hours.fri[2]", "пересекается"),
        (f"{ivanova}.hours.sun", "начало должно быть раньше конца"),
        ("organizations[1].doctors[2] (Ким Д.).slot_minutes", "не больше 120"),
        ("organizations[2] (Дубликат).code", "уже есть у organizations[1]"),
        ("patients[2] (Сидоров С.).oms", "что у patients[1] (Петров П. П.)"),
        ("patients[2] (Сидоров С.).birth_date", "не может быть позже"),
        ("patients[2] (Сидоров С.).documents[2].kind", "passport, birth_certificate"),
        ("patients[3] (Орлов О.).oms", "контрольной цифре"),
        ("patients[3] (Орлов О.).documents[1].number", "контрольному числу"),
    ]
    for location, fragment in expected:
        assert has_issue(issues, location, fragment), (location, [str(i) for i in issues])
    assert len(issues) == len(expected), [str(i) for i in issues]
    assert "Ошибок: 12" in str(caught.value)

    assert await row_counts(sessions) == before
    async with sessions() as session:
        name = await session.scalar(
            select(Organization.name).where(Organization.code == "example-gp1")
        )
    assert name == "ГБУЗ «Городская поликлиника № 1» (пример)"


def test_error_messages_never_contain_identity_values() -> None:
    secrets = {
        "oms": ["7788899730000766", "77888 9973 0000 766", "77888997300007651", "12AB34567"],
        "birth": ["31.02.1985", "01.13.1990", "17.06.2090", "05.05.1850", "1.1.85"],
        "doc": ["1234567", "4521870000", "112-233-445 96", "98765", "АБ 654321"],
    }
    patients: list[dict[str, Any]] = []
    for n in range(5):
        patients.append(
            {
                "last_name": "Петров",
                "first_name": "Пётр",
                "birth_date": secrets["birth"][n],
                "oms": secrets["oms"][n % 4],
                "documents": [
                    {"kind": "passport", "number": secrets["doc"][n]},
                    {"kind": "snils", "number": secrets["doc"][n]},
                    {"kind": "birth_certificate", "number": secrets["doc"][n]},
                ],
            }
        )
    # A valid value repeated is reported as a duplicate, also without the value.
    patients.append(
        {
            "last_name": "Сидоров",
            "first_name": "Семён",
            "birth_date": date(1990, 5, 1),
            "oms": "7788899730000765",
            "documents": [{"kind": "passport", "number": "452187"}],
        }
    )
    patients.append(copy.deepcopy(patients[-1]))
    secrets["valid"] = ["7788899730000765", "452187", "01.05.1990", "1990-05-01"]

    with pytest.raises(ImportErrors) as caught:
        validate({"patients": patients}, today=date(2026, 11, 25))

    text = str(caught.value)
    assert len(caught.value.issues) > 15
    for value in (v for values in secrets.values() for v in values):
        assert value not in text, value
        digits = re.sub(r"\D", "", value)
        assert len(digits) < 4 or digits not in text, value
        for run in re.findall(r"\d{4,}", value):
            assert run not in text, (value, run)


def test_plan_repr_hides_identity_values() -> None:
    plan = validate(load_toml(EXAMPLE), today=date(2026, 11, 25))
    text = repr(plan)
    assert "Григорьев" in text
    for value in ("7788899730665104", "275318", "14628735990", "1979"):
        assert value not in text


def test_toml_syntax_error_is_reported_with_line(tmp_path: Path) -> None:
    path = tmp_path / "import.toml"
    path.write_text('[[organizations]]\ncode = "gp3"\nname = "без кавычки\n', encoding="utf-8")

    with pytest.raises(ImportErrors) as caught:
        load_toml(path)

    [issue] = issues_of(caught)
    assert issue.location.startswith("import.toml, строка 3, столбец")
    assert "ошибка синтаксиса TOML" in issue.message


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ImportErrors) as caught:
        load_toml(tmp_path / "nope.toml")
    message = issues_of(caught)[0].message
    assert message == "файл не прочитан: такого файла нет", message


def test_single_interval_has_no_index_and_toml_date_is_accepted() -> None:
    data = load_toml(EXAMPLE)
    doctor = data["organizations"][0]["doctors"][0]
    doctor["hours"] = {"mon": "8:00-14:00", "tue": "10:00-10:10", "Fri": "08:00-09:00"}
    data["patients"][0]["birth_date"] = date(1979, 5, 23)

    with pytest.raises(ImportErrors) as caught:
        validate(data, today=date(2026, 11, 25))

    where = "organizations[1].doctors[1] (Сидорова И. И.).hours"
    assert [(i.location, i.message.split(";")[0]) for i in issues_of(caught)] == [
        (f"{where}.Fri", "неизвестный день недели"),
        (f"{where}.tue", "«10:00-10:10» короче одного приёма (slot_minutes = 20)"),
    ]


# --- Against existing data -----------------------------------------------------------------------


async def test_hours_change_keeps_booked_slot(sessions: Sessions) -> None:
    data = load_toml(EXAMPLE)
    await run_import(sessions, data)
    async with sessions() as session:
        doctor = await session.scalar(select(Doctor))
        service = await session.scalar(select(Service))
        patient = await session.scalar(select(Patient))
        assert doctor is not None
        assert service is not None
        assert patient is not None
        # Wednesday 14:00-20:00 is the only shift left today.
        slot = await session.scalar(
            select(Slot).where(Slot.doctor_id == doctor.id).order_by(Slot.starts_at).limit(1)
        )
        assert slot is not None
        assert slot.starts_at.astimezone(MSK) == datetime(2026, 11, 25, 14, 0, tzinfo=MSK)
        session.add(
            Booking(
                ticket_number="T-0001",
                slot_id=slot.id,
                patient_id=patient.id,
                service_id=service.id,
                status=BookingStatus.ACTIVE,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await session.commit()
        booked_id, booked_start = slot.id, slot.starts_at

    data["organizations"][0]["doctors"][0]["hours"] = {"tue": "10:00-12:00"}
    report = await run_import(sessions, data)

    assert report.doctors.updated == 1
    assert report.slots_added == 2 * 6  # two Tuesdays in the horizon, 20-minute slots
    async with sessions() as session:
        kept = await session.get(Slot, booked_id)
        assert kept is not None
        assert kept.starts_at == booked_start
        assert not kept.is_open
        booking = await session.scalar(select(Booking).where(Booking.slot_id == booked_id))
        assert booking is not None
        assert booking.status is BookingStatus.ACTIVE
        hours = (await session.execute(select(WorkingHours.weekday, WorkingHours.start_time))).all()
        assert [(weekday, start.hour) for weekday, start in hours] == [(1, 10)]
        open_days = {
            start.astimezone(MSK).weekday()
            for start in await session.scalars(select(Slot.starts_at).where(Slot.is_open))
        }
        assert open_days == {1}


SIDOROV: dict[str, Any] = {
    "last_name": "Сидоров",
    "first_name": "Семён",
    "birth_date": "01.05.1990",
    "oms": "7788899730000765",
    "documents": [
        {"kind": "snils", "number": "112-233-445 95"},
        # Григорьев's passport number too: numbers are stored without their series.
        {"kind": "passport", "number": "275 318"},
    ],
}


async def assert_identified_apart(sessions: Sessions) -> None:
    async with sessions() as session:
        grigoryev = await identify_patient(
            session, oms="7788899730665104", document="275318", birth_date=date(1979, 5, 23)
        )
        sidorov = await identify_patient(
            session, oms="7788899730000765", document="275318", birth_date=date(1990, 5, 1)
        )
        mixed = await identify_patient(
            session, oms="7788899730000765", document="275318", birth_date=date(1979, 5, 23)
        )
    assert grigoryev is not None
    assert grigoryev.last_name == "Григорьев"
    assert sidorov is not None
    assert sidorov.last_name == "Сидоров"
    assert mixed is None


async def test_patients_sharing_a_document_number_in_the_database(sessions: Sessions) -> None:
    await run_import(sessions, load_toml(EXAMPLE))

    report = await run_import(sessions, {"patients": [copy.deepcopy(SIDOROV)]})

    assert (report.patients.created, report.patients.updated) == (1, 0)
    await assert_identified_apart(sessions)


async def test_patients_sharing_a_document_number_in_one_file(sessions: Sessions) -> None:
    data = load_toml(EXAMPLE)
    data["patients"].append(copy.deepcopy(SIDOROV))

    first = await run_import(sessions, data)
    before = await row_counts(sessions)
    second = await run_import(sessions, data)

    assert (first.patients.created, first.patients.updated) == (2, 0)
    assert (second.patients.created, second.patients.updated) == (0, 2)
    assert before["patient_documents"] == 4
    assert await row_counts(sessions) == before
    await assert_identified_apart(sessions)


async def test_same_document_twice_for_one_patient_is_refused(sessions: Sessions) -> None:
    await run_import(sessions, load_toml(EXAMPLE))
    before = await row_counts(sessions)
    twice = copy.deepcopy(SIDOROV)
    twice["documents"].append({"kind": "passport", "number": "275318"})
    # The same number under another kind is a different document.
    twice["documents"].append({"kind": "birth_certificate", "number": "275318"})

    with pytest.raises(ImportErrors) as caught:
        await run_import(sessions, {"patients": [twice]})

    assert [(i.location, i.message) for i in issues_of(caught)] == [
        ("patients[1] (Сидоров С.).documents[3]", "этот документ указан у пациента дважды")
    ]
    assert "275318" not in str(caught.value)
    assert await row_counts(sessions) == before


async def test_document_moves_between_patients_of_the_same_file(sessions: Sessions) -> None:
    data = load_toml(EXAMPLE)
    await run_import(sessions, data)
    owner = data["patients"][0]
    moved = owner["documents"].pop(0)  # the passport was typed into the wrong patient
    data["patients"].append(
        {
            "last_name": "Сидоров",
            "first_name": "Семён",
            "birth_date": "01.05.1990",
            "oms": "7788899730000765",
            "documents": [moved],
        }
    )

    report = await run_import(sessions, data)

    assert (report.patients.created, report.patients.updated) == (1, 1)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Patient.last_name, PatientDocument.kind).join(PatientDocument)
            )
        ).all()
    assert sorted(rows) == [("Григорьев", "snils"), ("Сидоров", "passport")]


# --- The slots an import writes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("zones", "now", "chunk"),
    [
        ((), NOW, None),
        # Both organizations where clocks go back within the horizon (Europe on 25 October).
        (("Europe/Berlin", "America/New_York"), datetime(2026, 10, 20, 6, 0, tzinfo=UTC), None),
        # Written in many chunks, each while the next is built (a region's registry is).
        ((), NOW, 97),
    ],
)
async def test_import_writes_the_slots_the_old_row_by_row_code_wrote(
    sessions: Sessions,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    zones: tuple[str, ...],
    now: datetime,
    chunk: int | None,
) -> None:
    """The bulk insert stores the same rows, ids and text of the times as the ORM objects did."""
    if chunk is not None:
        monkeypatch.setattr(slots_rewriting, "_WRITE_CHUNK", chunk)
        monkeypatch.setattr(slots_storage, "_WRITE_CHUNK", chunk)
    data = load_toml(DEMO)
    for organization, zone in zip(data["organizations"], zones, strict=False):
        organization["timezone"] = zone
    await run_import(sessions, data, now=now)

    old_engine = create_engine(await databases.database_url(tmp_path / "old.sqlite3"))
    try:
        await upgrade(old_engine)
        old_sessions = create_session_factory(old_engine)
        await run_import(old_sessions, data, now=now)
        async with old_sessions() as session:
            # The same doctors and hours; their slots made again by the code of before.
            await session.execute(delete(Slot))
            # The ids start again at 1 there too (the comparison includes them).
            await databases.sync_ids(session, "slots")
            await reference_generate(session, now=now, horizon_days=HORIZON)
            await session.commit()
        rows = text("SELECT id, doctor_id, starts_at, ends_at, is_open FROM slots ORDER BY id")
        async with sessions() as new, old_sessions() as old:
            written = (await new.execute(rows)).all()
            assert written == (await old.execute(rows)).all()
            assert len(written) > 100
    finally:
        await old_engine.dispose()
