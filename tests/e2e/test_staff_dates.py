"""The registry's dates: a date the calendar lacks is named as such, and /day for a doctor
with no appointments today shows the doctor's nearest working day instead.

The test clinic (tests/e2e/clinic.toml), on Tuesday 1 December 2026, 09:00 in Moscow: Иванова
works Tuesday to Thursday, Петренко on Wednesdays only, Смирнов (Yekaterinburg, UTC+5) on
Mondays and Wednesdays; slots are made for the default horizon of 14 days.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.services.clock import ManualClock
from bot.standin.harness import BotHarness
from db.models import Doctor, Slot
from tests.e2e.conftest import ADMIN_ID

MSK = ZoneInfo("Europe/Moscow")
# Today and the horizon's last day (today + 14 days).
LAST = "15.12.2026"


@pytest.mark.parametrize(
    "typed",
    [
        "31.02.2026",
        "29.02.2027",  # 2027 is not a leap year
        "32.01",
        "32.01.2026",
        "00.05",
        "00.05.2026",
        "15.13",
        "15.13.2026",
    ],
)
@pytest.mark.parametrize("doctor", ["Иванова", "ivanova"])
async def test_a_date_the_calendar_lacks_is_named_not_called_a_bad_format(
    harness: BotHarness, typed: str, doctor: str
) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send(f"/day {doctor} {typed}")
    assert admin.last_bot_message.text == f"Такой даты нет: {typed}."


@pytest.mark.parametrize("command", ["/close ivanova {date} Учёба", "/reopen ivanova {date}"])
@pytest.mark.parametrize("typed", ["31.02.2026", "32.01", "15.13"])
async def test_closing_names_a_date_the_calendar_lacks_too(
    harness: BotHarness, command: str, typed: str
) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send(command.format(date=typed))
    assert admin.last_bot_message.text == f"Такой даты нет: {typed}."


@pytest.mark.parametrize("typed", ["1.2.26", "31/12/2026", "завтра", "2026-12-03", "03.12.26"])
async def test_what_is_not_shaped_as_a_date_is_still_a_format_error(
    harness: BotHarness, typed: str
) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send(f"/day Иванова {typed}")
    assert admin.last_bot_message.text == "Дата должна быть в формате ДД.ММ.ГГГГ или ДД.ММ."


async def test_no_appointments_today_shows_the_nearest_working_day(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/day Петренко 02.12.2026")
    wednesday = admin.last_bot_message.text
    assert wednesday.startswith("Петренко Олег Игоревич, Врач-хирург\nсреда, 2 декабря 2026 г.")
    assert "08:00 — свободно" in wednesday

    await admin.send("/day Петренко")
    heading, rest = admin.last_bot_message.text.split("\n\n", 1)
    assert heading == "Сегодня приёма нет. Ближайший рабочий день — ср 02.12.2026:"
    # Then the day as /day <doctor> <date> shows it.
    assert rest == wednesday


async def test_a_day_with_appointments_today_is_shown_as_before(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/day Иванова")
    text = admin.last_bot_message.text
    assert text.startswith("Иванова Анна Петровна, Врач-терапевт\nвторник, 1 декабря 2026 г.")
    assert "Ближайший рабочий день" not in text
    # A date asked for is shown as asked, even with no appointments on it.
    await admin.send("/day Петренко 01.12.2026")
    text = admin.last_bot_message.text
    assert "Приёма в этот день нет." in text
    assert "Ближайший рабочий день" not in text


async def close_every_slot(harness: BotHarness, code: str) -> None:
    async with harness.database.sessions() as session:
        doctor = await session.scalar(select(Doctor).where(Doctor.code == code))
        assert doctor is not None
        await session.execute(update(Slot).where(Slot.doctor_id == doctor.id).values(is_open=False))
        await session.commit()


async def test_a_wholly_closed_day_is_not_a_working_day(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/close petrenko 02.12.2026 Врач на больничном")
    await admin.click("Закрыть")
    await admin.send("/day Петренко")
    heading, rest = admin.last_bot_message.text.split("\n\n", 1)
    assert heading == "Сегодня приёма нет. Ближайший рабочий день — ср 09.12.2026:"
    assert rest.startswith("Петренко Олег Игоревич, Врач-хирург\nсреда, 9 декабря 2026 г.")


async def test_no_working_day_within_the_horizon_is_said_so(harness: BotHarness) -> None:
    await close_every_slot(harness, "petrenko")
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/day Петренко")
    assert admin.last_bot_message.text == (
        "Петренко Олег Игоревич\n"
        "вторник, 1 декабря 2026 г.\n\n"
        f"Сегодня приёма нет, и до {LAST} включительно рабочих дней нет."
    )


async def test_today_is_the_organizations_today(harness: BotHarness, clock: ManualClock) -> None:
    # 23:30 in Moscow, still Tuesday there, is Wednesday 01:30 in Yekaterinburg: Смирнов's
    # Wednesday is today, shown as it is.
    clock.set(datetime(2026, 12, 1, 23, 30, tzinfo=MSK))
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/day Смирнов")
    text = admin.last_bot_message.text
    assert text.startswith("Смирнов Иван, Врач-терапевт\nсреда, 2 декабря 2026 г.")
    assert "Ближайший рабочий день" not in text
    # Петренко's Moscow is still on Tuesday: his Wednesday is the next working day.
    await admin.send("/day Петренко")
    assert admin.last_bot_message.text.startswith(
        "Сегодня приёма нет. Ближайший рабочий день — ср 02.12.2026:"
    )


async def test_the_next_working_day_in_english(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_ID, "Admin", language_code="en")
    await admin.send("/day petrenko")
    heading = admin.last_bot_message.text.split("\n\n", 1)[0]
    assert heading == "No appointments today. The next working day is Wed 02.12.2026:"
