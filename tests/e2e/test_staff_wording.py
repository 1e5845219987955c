"""Staff texts agree in gender and number, and a cancelled booking never reads as confirmed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.services.clock import ManualClock
from bot.standin.client import SimUser
from bot.standin.harness import BotHarness
from db.models import Booking
from tests.e2e.conftest import ADMIN_ID
from tests.e2e.flow import PETROV, identify, open_day

THURSDAY = "чт 03.12 · 08:00–09:00"
MSK = ZoneInfo("Europe/Moscow")


async def _book(harness: BotHarness, user: SimUser, *, day: str, time: str) -> str:
    await open_day(user, day=day)
    await user.click(time)
    await user.click("Принимаю")
    await identify(user, PETROV)
    assert "Вы успешно записались" in user.bot_messages[-2].text
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        return booking.ticket_number


def _heading(card: str) -> str:
    return card.splitlines()[0]


async def test_cards_of_an_active_and_of_a_cancelled_confirmed_booking(
    harness: BotHarness, clock: ManualClock
) -> None:
    patient = harness.user(7100, "Пётр")
    ticket = await _book(harness, patient, day=THURSDAY, time="08:00")
    admin = harness.user(ADMIN_ID, "Админ")

    await admin.send("/find Петров")
    heading = _heading(admin.last_bot_message.text)
    assert heading == f"Талон № {ticket} — запись активна"

    # The patient confirms the visit from the reminder the day before.
    clock.set(datetime(2026, 12, 2, 8, 0, tzinfo=MSK))
    assert harness.reminders is not None
    await harness.reminders.run_once()
    await patient.click("Подтверждаю")
    await admin.send("/find Петров")
    heading = _heading(admin.last_bot_message.text)
    assert heading == f"Талон № {ticket} — запись активна, пациент подтвердил визит"

    # Then cancels it: the card says cancelled, and nothing of the confirmation.
    await patient.click("Отменить запись")
    await patient.click("Да, отменить")
    await admin.send("/find Петров")
    card = admin.last_bot_message.text
    assert _heading(card) == f"Талон № {ticket} — запись отменена"
    assert "подтвер" not in card
    assert "активн" not in card


async def test_closing_hours_agrees_with_the_number_of_bookings(harness: BotHarness) -> None:
    patient = harness.user(7100, "Пётр")
    await _book(harness, patient, day=THURSDAY, time="08:00")
    admin = harness.user(ADMIN_ID, "Админ")

    await admin.send("/close ivanova 03.12.2026 Врач на больничном")
    question = admin.last_bot_message.text
    assert "Записей в это время: 1. Она будет отменена, пациент получит причину" in question
    assert "Они будут" not in question
    await admin.click("Нет")

    await admin.send("/close ivanova 02.12.2026 Врач на больничном")
    question = admin.last_bot_message.text
    assert "Записей в это время: 0. Отменять нечего" in question
    assert "будут отменены" not in question
