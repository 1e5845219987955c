"""The clinic's details end to end (issue 14): district services and attachment, a paid
service, rooms and visit notes on every screen, the ticket, the calendar file and reminders."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar
from pypdf import PdfReader
from sqlalchemy import func, select

from bot.services.clock import ManualClock
from bot.standin.client import SimUser
from bot.standin.harness import BotHarness
from db.models import Booking
from tests.e2e.custom_clinic import clinic_harness
from tests.e2e.flow import PETROV, SIDOROVA, identify

CLINIC = Path(__file__).with_name("details_clinic.toml")
MSK = ZoneInfo("Europe/Moscow")
VOLKOV = {"oms": "7788899730853197", "document": "228641", "birth_date": "18.08.1960"}

ORG = "Поликлиника № 5"
THERAPIST = "Приём терапевта участкового"
# Fluent and Babel group thousands with a no-break space in Russian.
ULTRASOUND = "УЗИ брюшной полости — платно, 1\xa0500 ₽"
IVANOVA = "Врач-терапевт участковый — Иванова А. П. · участок 1"
KIM = "Врач-терапевт участковый — Ким Д. А. · участок 2"


def flat(text: str) -> str:
    """Whitespace as one space (a PDF's no-break spaces and wrapped lines included)."""
    return " ".join(text.replace("\xa0", " ").split())


async def choose_time(user: SimUser, *, service: str, doctor: str, day: str, time: str) -> None:
    await user.send("/start")
    await user.click(ORG)
    await user.click(service)
    await user.click(doctor)
    await user.click(day)
    await user.click(time)


async def bookings(harness: BotHarness) -> int:
    async with harness.database.sessions() as session:
        return int(await session.scalar(select(func.count(Booking.id))) or 0)


def pdf_text(user: SimUser) -> str:
    ticket = user.documents[-1]
    assert ticket.document is not None
    assert ticket.document.mime_type == "application/pdf"
    reader = PdfReader(io.BytesIO(user.download(ticket)))
    assert len(reader.pages) == 1
    return flat(reader.pages[0].extract_text())


async def test_a_district_doctor_is_offered_with_the_district_and_booked_by_its_patient(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with clinic_harness(tmp_path, clock, CLINIC) as harness:
        user = harness.user(1001, "Пётр")
        await user.send("/start")
        await user.click(ORG)
        await user.click(THERAPIST)
        assert "услуга по участкам" in user.last_bot_message.text
        assert user.buttons()[:2] == [[IVANOVA], [KIM]]
        await user.click(IVANOVA)
        await user.click("ср 02.12 · 08:00–10:00")
        await user.click("08:00")
        consent = user.last_bot_message.text
        assert "Место приёма: каб. 214, 2 этаж" in consent
        assert "Оплата: по полису ОМС" in consent
        await user.click("Принимаю")
        await identify(user, PETROV)

        success = user.bot_messages[-2].text
        assert "Вы успешно записались" in success
        assert "Место приёма: каб. 214, 2 этаж" in success
        assert "Оплата: по полису ОМС" in success
        assert "Возьмите паспорт, полис ОМС и СНИЛС. Вход со двора." in success
        text = pdf_text(user)
        for expected in (
            "Место приёма каб. 214, 2 этаж",
            "Оплата по полису ОМС",
            "Дата рождения 14.03.1985",
            "••••••••••••0765",
            "Возьмите паспорт, полис ОМС и СНИЛС. Вход со двора.",
        ):
            assert expected in text, expected
        # The policy's number itself is never printed.
        assert PETROV["oms"] not in text.replace(" ", "")


async def test_another_district_is_refused_with_the_reason_and_its_own_doctor(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with clinic_harness(tmp_path, clock, CLINIC) as harness:
        user = harness.user(1002, "Мария")
        await choose_time(
            user, service=THERAPIST, doctor=IVANOVA, day="ср 02.12 · 08:00–10:00", time="08:00"
        )
        await user.click("Принимаю")
        await identify(user, SIDOROVA)

        refusal = user.last_bot_message.text
        assert "Запись не на свой участок" in refusal
        assert "участка 1" in refusal
        assert "участку 2" in refusal
        assert user.buttons() == [["Врач-терапевт участковый — Ким Д. А."], ["В начало"]]
        assert await bookings(harness) == 0

        # The patient stays known: her own doctor's time books without the prompts.
        await user.click("Врач-терапевт участковый — Ким Д. А.")
        await user.click("ср 02.12 · 10:00–12:00")
        await user.click("10:30")
        success = user.bot_messages[-2].text
        assert "Вы успешно записались" in success
        assert "Ким Денис Андреевич" in success
        assert "Место приёма: каб. 216, 2 этаж" in success
        assert await bookings(harness) == 1


async def test_a_patient_attached_nowhere_is_told_to_attach_and_nothing_is_booked(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with clinic_harness(tmp_path, clock, CLINIC) as harness:
        user = harness.user(1003, "Дмитрий")
        await choose_time(
            user, service=THERAPIST, doctor=KIM, day="ср 02.12 · 10:00–12:00", time="11:00"
        )
        await user.click("Принимаю")
        await identify(user, VOLKOV)

        refusal = user.last_bot_message.text
        assert "не прикреплены" in refusal
        assert "+7 (495) 555-55-55" in refusal
        assert user.buttons() == [["В начало"]]
        assert await bookings(harness) == 0

        # A service that does not go by districts is open to him.
        await choose_time(
            user,
            service=ULTRASOUND,
            doctor="Врач ультразвуковой диагностики — Орлов О.",
            day="ср 02.12 · 08:00–10:00",
            time="08:30",
        )
        # A new dialogue (/start) asks who the patient is again.
        await identify(user, VOLKOV)
        assert "Вы успешно записались" in user.bot_messages[-2].text


async def test_a_paid_service_is_marked_in_the_list_the_summary_and_the_ticket(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with clinic_harness(tmp_path, clock, CLINIC) as harness:
        user = harness.user(1004, "Пётр")
        await user.send("/start")
        await user.click(ORG)
        assert user.buttons()[:2] == [[THERAPIST], [ULTRASOUND]]
        assert "остальные — бесплатно, по полису ОМС" in user.last_bot_message.text
        await user.click(ULTRASOUND)
        await user.click("Врач ультразвуковой диагностики — Орлов О.")
        await user.click("ср 02.12 · 08:00–10:00")
        await user.click("09:00")
        assert "Оплата: платно, 1\xa0500 ₽" in user.last_bot_message.text
        # A paid service skips nothing else of the dialogue.
        await user.click("Принимаю")
        assert "Шаг 1 из 3" in user.last_bot_message.text
        await identify(user, PETROV)
        assert "Оплата: платно, 1\xa0500 ₽" in user.bot_messages[-2].text
        assert "Оплата платно, 1 500 ₽" in pdf_text(user)


async def test_the_room_of_the_day_reaches_the_calendar_file_and_the_reminder(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with clinic_harness(tmp_path, clock, CLINIC) as harness:
        user = harness.user(1005, "Пётр")
        # On Thursdays Иванова receives in the second building.
        await choose_time(
            user, service=THERAPIST, doctor=IVANOVA, day="чт 03.12 · 08:00–10:00", time="09:00"
        )
        await user.click("Принимаю")
        await identify(user, PETROV)
        assert "Место приёма: корпус 2, каб. 5" in user.bot_messages[-2].text
        assert "Место приёма корпус 2, каб. 5" in pdf_text(user)

        await user.send("/my")
        await user.click("03.12 09:00 · Иванова А. П.")
        assert "Место приёма: корпус 2, каб. 5" in user.last_bot_message.text
        await user.click("В календарь")
        document = user.documents[-1]
        assert document.document is not None
        [event] = Calendar.from_ical(user.download(document)).walk("VEVENT")
        assert str(event["LOCATION"]).startswith("корпус 2, каб. 5, ГБУЗ «Городская поликлиника")

        # The day-before reminder says where to go and whose visit it is.
        clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=MSK))
        assert harness.reminders is not None
        await harness.reminders.run_once()
        reminder = user.last_bot_message.text
        assert "Напоминание о приёме" in reminder
        assert "Место приёма: корпус 2, каб. 5" in reminder
        assert "Петров П. П." in reminder
