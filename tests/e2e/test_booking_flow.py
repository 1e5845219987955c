from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy import func, select

from bot.standin.harness import BotHarness
from db.models import Booking, BookingStatus, Consent, FsmRecord
from tests.e2e.flow import DOCTOR, ORG, PETROV, SERVICE, WEDNESDAY, identify, open_day


async def count(harness: BotHarness, column: object) -> int:
    async with harness.database.sessions() as session:
        return int(await session.scalar(select(func.count(column))) or 0)  # type: ignore[arg-type]


async def test_happy_path_down_to_the_pdf_ticket(harness: BotHarness) -> None:
    user = harness.user(1001, "Пётр")
    await user.send("/start")
    assert "Выберите медицинскую организацию" in user.last_bot_message.text
    assert user.buttons() == [["Поликлиника № 1"], ["Поликлиника № 2"], ["Мои записи"]]

    await user.click(ORG)
    assert user.buttons() == [["Приём терапевта"], ["Приём хирурга"], ["Назад", "В начало"]]
    await user.click(SERVICE)
    assert user.buttons()[0] == [DOCTOR]
    await user.click(DOCTOR)
    grid = user.buttons()
    assert grid[0] == ["вт 01.12 · 08:00–12:00", WEDNESDAY]
    assert grid[1] == ["чт 03.12 · 08:00–09:00", "✖ пт 04.12"]
    assert len([b for row in grid[:-2] for b in row]) == 14
    assert grid[-2] == ["🔔 Сообщить, когда появится время"]
    assert grid[-1] == ["Назад", "В начало"]

    await user.click(WEDNESDAY)
    assert "среда, 2 декабря 2026 г." in user.last_bot_message.text
    assert user.buttons()[0] == ["08:00", "08:30", "09:00", "09:30"]
    await user.click("08:30")
    consent = user.last_bot_message
    assert "Согласие на обработку персональных данных" in consent.text
    assert user.buttons(consent)[0] == ["Принимаю", "Отказываюсь"]

    await user.click("Принимаю")
    prompt = user.last_bot_message
    assert "Шаг 1 из 3" in prompt.text
    assert "Иванова Анна Петровна" in prompt.text
    assert "08:30" in prompt.text
    await user.send(PETROV["oms"])
    assert "Шаг 2 из 3" in user.last_bot_message.text
    assert user.buttons(prompt) == []  # the previous step's buttons are retired
    await user.send(PETROV["document"])
    assert "Шаг 3 из 3" in user.last_bot_message.text
    await user.send(PETROV["birth_date"])

    success = user.bot_messages[-2]
    assert "Вы успешно записались на приём!" in success.text
    ticket = user.last_bot_message
    assert ticket.document is not None
    assert ticket.document.mime_type == "application/pdf"
    assert user.buttons(ticket) == [["В начало"]]
    number = re.search(r"№ ([1-9]\d\d \d{3} \d{3})\b", success.text)
    assert number is not None

    pdf = PdfReader(io.BytesIO(user.download(ticket)))
    assert len(pdf.pages) == 1
    text = " ".join(pdf.pages[0].extract_text().split())
    for expected in (
        "ГБУЗ «Городская поликлиника № 1»",
        "г. Москва, ул. Тестовая, д. 1",
        "Иванова Анна Петровна",
        "Врач-терапевт",
        "Приём терапевта",
        "2 декабря 2026",
        "08:30",
        "Петров Пётр Петрович",
        number.group(1),
    ):
        assert expected in text, expected

    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        assert booking.status is BookingStatus.ACTIVE
        assert booking.ticket_number == number.group(1)
        assert booking.telegram_user_id == 1001
        consent_row = await session.scalar(select(Consent))
        assert consent_row is not None
        assert consent_row.telegram_user_id == 1001
        assert consent_row.version == harness.settings.consent.version
        # Nothing typed survives in the dialogue state.
        records = (await session.scalars(select(FsmRecord))).all()
        assert all(PETROV["oms"] not in str(r.data) for r in records)
        assert all("document" not in r.data for r in records)

    await user.click("В начало")
    assert "Выберите медицинскую организацию" in user.last_bot_message.text

    # The booked time is now shown as taken.
    await user.click(ORG)
    await user.click(SERVICE)
    await user.click(DOCTOR)
    await user.click(WEDNESDAY)
    assert user.buttons()[0] == ["08:00", "✖ 08:30", "09:00", "09:30"]
    answer = await user.click("✖ 08:30")
    assert answer is not None
    assert answer.show_alert
    assert "занято" in (answer.text or "")


async def test_second_booking_skips_the_consent_already_given(harness: BotHarness) -> None:
    user = harness.user(1002, "Пётр")
    await open_day(user)
    await user.click("08:00")
    await user.click("Принимаю")
    await identify(user, PETROV)
    await open_day(
        user,
        service="Приём хирурга",
        doctor="Врач-хирург — Петренко О. И.",
        day="ср 02.12 · 08:00–20:00",
    )
    await user.click("10:00")
    assert "Шаг 1 из 3" in user.last_bot_message.text
    await identify(user, PETROV)
    assert user.last_bot_message.document is not None
    assert await count(harness, Consent.id) == 1
    assert await count(harness, Booking.id) == 2


async def test_declining_consent_stores_nothing_and_returns_to_start(harness: BotHarness) -> None:
    user = harness.user(1003, "Анна")
    await open_day(user)
    await user.click("08:00")
    answer = await user.click("Отказываюсь")
    assert answer is not None
    message = user.last_bot_message
    assert "Вы отказались" in message.text
    assert "Выберите медицинскую организацию" in message.text
    assert user.buttons(message) == [["Поликлиника № 1"], ["Поликлиника № 2"], ["Мои записи"]]
    assert await count(harness, Consent.id) == 0
    assert await count(harness, Booking.id) == 0
    # The patient can still go on from the start.
    await user.click(ORG)
    assert "Выберите услугу" in user.last_bot_message.text


async def test_other_organization_times_are_shown_in_its_own_zone(harness: BotHarness) -> None:
    user = harness.user(1004, "Иван")
    # 09:00 in Moscow is 11:00 in Yekaterinburg: Wednesday's 08:00–12:00 is all ahead.
    await open_day(
        user,
        org="Поликлиника № 2",
        service="Приём терапевта",
        doctor="Врач-терапевт — Смирнов И.",
        day="ср 02.12 · 08:00–12:00",
    )
    assert user.buttons()[0] == ["08:00", "08:20", "08:40", "09:00"]
