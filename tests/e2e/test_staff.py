from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.standin.harness import BotHarness
from db.models import Booking, BookingStatus, StaffMember
from tests.e2e.conftest import ADMIN_ID
from tests.e2e.flow import PETROV, identify, open_day

IDLE = "Я помогаю записаться на приём к врачу"


async def book_petrov(harness: BotHarness, *, time: str = "08:00") -> str:
    patient = harness.user(7100, "Пётр")
    await open_day(patient)
    await patient.click(time)
    await patient.click("Принимаю")
    await identify(patient, PETROV)
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        return booking.ticket_number


@pytest.mark.parametrize(
    "command", ["/find Петров", "/day ivanova", "/history ABCD-EFGH", "/staff add 1", "/staff"]
)
async def test_staff_commands_do_not_exist_for_anyone_else(
    harness: BotHarness, command: str
) -> None:
    await book_petrov(harness)
    stranger = harness.user(7200, "Иван")
    await stranger.send(command)
    assert stranger.last_bot_message.text.startswith(IDLE)
    await stranger.send("/unknown")
    assert stranger.last_bot_message.text.startswith(IDLE)
    await stranger.send("/help")
    assert "/find" not in stranger.last_bot_message.text
    async with harness.database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StaffMember)) == 0


async def test_admin_adds_a_registrar_who_finds_bookings_and_days(harness: BotHarness) -> None:
    ticket = await book_petrov(harness)
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/help")
    assert "/staff add" in admin.last_bot_message.text
    await admin.send("/staff add 7001 gp1")
    assert "Регистратор 7001 добавлен" in admin.last_bot_message.text
    await admin.send("/staff add 7002 nope")
    assert "нет организаций" in admin.last_bot_message.text

    registrar = harness.user(7001, "Регистратор")
    await registrar.send("/help")
    assert "/find" in registrar.last_bot_message.text
    assert "/staff add" not in registrar.last_bot_message.text
    for query in ("Петров", ticket, PETROV["oms"]):
        await registrar.send(f"/find {query}")
        card = registrar.last_bot_message.text
        assert f"Талон № {ticket}" in card
        assert "Петров Пётр Петрович" in card
        assert "активна" in card
        assert PETROV["oms"] not in card  # masked
        assert "0765" in card
    await registrar.send("/day ivanova 02.12.2026")
    day = registrar.last_bot_message.text
    assert f"08:00 — Петров Пётр Петрович, талон {ticket}" in day
    assert "08:30 — свободно" in day
    await registrar.send(f"/history {ticket}")
    assert "запись → 02.12.2026 08:00, пациент 7100" in registrar.last_bot_message.text

    await admin.send("/staff")
    assert "7001 (gp1)" in admin.last_bot_message.text
    await admin.send("/staff remove 7001")
    await registrar.send("/find Петров")
    assert registrar.last_bot_message.text.startswith(IDLE)


async def test_a_registrar_sees_only_their_organizations(harness: BotHarness) -> None:
    await book_petrov(harness)
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/staff add 7003 gp2")
    registrar = harness.user(7003, "Регистратор")
    await registrar.send("/find Петров")
    assert registrar.last_bot_message.text == "Ничего не найдено."
    await registrar.send("/day ivanova")
    assert registrar.last_bot_message.text == "Ничего не найдено."


async def test_history_shows_every_step(harness: BotHarness) -> None:
    ticket = await book_petrov(harness)
    patient = harness.user(7100, "Пётр")
    await patient.send("/my")
    await patient.click(patient.buttons()[0][0])
    await patient.click("Перенести")
    await patient.click("чт 03.12 · 08:00–09:00")
    await patient.click("08:30")
    await patient.send("/my")
    await patient.click(patient.buttons()[0][0])
    await patient.click("Отменить запись")
    await patient.click("Да, отменить")
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send(f"/history {ticket}")
    lines = admin.last_bot_message.text.splitlines()[2:]
    assert [line.split(" — ")[1].split(",")[0].split(" →")[0] for line in lines] == [
        "запись",
        "перенос",
        "отмена",
    ]
    assert "03.12.2026 08:30" in lines[1]
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        assert booking.status is BookingStatus.CANCELLED


async def test_staff_cancel_with_a_reason_frees_the_slot_and_tells_the_patient(
    harness: BotHarness,
) -> None:
    ticket = await book_petrov(harness)
    patient = harness.user(7100, "Пётр")
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send(f"/find {ticket}")
    await admin.click("Отменить с причиной")
    assert "Укажите причину" in admin.last_bot_message.text
    await admin.send("Врач на больничном")
    assert "Причина: Врач на больничном" in admin.last_bot_message.text
    await admin.click("Нет")
    assert "Запись оставлена" in admin.last_bot_message.text

    await admin.click("Отменить с причиной")
    await admin.send("Врач на больничном")
    await admin.click("Да, отменить")
    assert "Пациент уведомлён" in admin.last_bot_message.text
    notice = patient.last_bot_message.text
    assert "отменена регистратурой" in notice
    assert "Причина: Врач на больничном" in notice
    assert "+7 (495) 111-11-11" in notice
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        assert booking.status is BookingStatus.CANCELLED
    await admin.send(f"/history {ticket}")
    assert "отмена, регистратура 7000 (Врач на больничном)" in admin.last_bot_message.text
    # The slot is free: another patient books it.
    other = harness.user(7101, "Мария")
    await open_day(other)
    await other.click("08:00")


async def test_a_forged_staff_button_from_a_patient_changes_nothing(harness: BotHarness) -> None:
    ticket = await book_petrov(harness)
    patient = harness.user(7100, "Пётр")
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        booking_id = booking.id
    for data in (f"sc:{booking_id}:0", f"sc:{booking_id}:1"):
        answer = await patient.click_data(data, patient.last_bot_message.message_id)
        assert answer is not None
        assert "завершён" in (answer.text or "")
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        assert booking.status is BookingStatus.ACTIVE
    assert ticket
