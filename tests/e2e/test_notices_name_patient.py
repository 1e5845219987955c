"""Every notice about a booking names its patient (surname and initials) near its top, so a
parent who books for several people sees at once whose visit the registry changed."""

from __future__ import annotations

from sqlalchemy import select

from bot.standin.client import SimUser
from bot.standin.harness import BotHarness
from db.models import Booking
from tests.e2e.conftest import ADMIN_ID
from tests.e2e.flow import PETROV, SIDOROVA, identify, open_day


async def book(user: SimUser, patient: dict[str, str], *, time: str, consent: bool) -> None:
    """A booking on Wednesday with Ivanova."""
    await open_day(user)
    await user.click(time)
    if consent:
        await user.click("Принимаю")
    await identify(user, patient)
    assert "Вы успешно записались" in (user.bot_messages[-2].text or "")


def headline_of(notice: str | None) -> str:
    """The notice above the booking's details (which name the patient in full anyway)."""
    return (notice or "").split("Талон №", 1)[0]


async def ticket_of_only_booking(harness: BotHarness) -> str:
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        return str(booking.ticket_number)


async def test_a_registry_cancellation_names_the_patient(harness: BotHarness) -> None:
    patient = harness.user(7400, "Пётр")
    await book(patient, PETROV, time="08:00", consent=True)
    ticket = await ticket_of_only_booking(harness)
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send(f"/find {ticket}")
    await admin.click("Отменить с причиной")
    await admin.send("Врач на больничном")
    await admin.click("Да, отменить")

    notice = patient.last_bot_message.text or ""
    assert "отменена регистратурой" in notice
    assert "Пациент: Петров П. П." in headline_of(notice)
    assert "Причина: Врач на больничном" in notice


async def test_a_registry_move_names_the_patient(harness: BotHarness) -> None:
    patient = harness.user(7401, "Пётр")
    await book(patient, PETROV, time="08:00", consent=True)
    ticket = await ticket_of_only_booking(harness)
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send(f"/find {ticket}")
    await admin.click("Перенести")
    await admin.click("чт 03.12 · 08:00–09:00")
    await admin.click("08:30")
    await admin.click("Да, перенести")

    [notice] = [m.text for m in patient.bot_messages if "Регистратура перенесла" in (m.text or "")]
    assert "Пациент: Петров П. П." in headline_of(notice)


async def test_a_parent_told_of_a_closed_day_sees_whose_visit_each_notice_is(
    harness: BotHarness,
) -> None:
    parent = harness.user(7402, "Пётр")
    await book(parent, PETROV, time="08:00", consent=True)
    await book(parent, SIDOROVA, time="08:30", consent=False)
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/close ivanova 02.12.2026 Врач на больничном")
    await admin.click("Закрыть")

    notices = [m.text for m in parent.bot_messages if "отменена регистратурой" in (m.text or "")]
    assert len(notices) == 2
    named = sorted(
        name
        for notice in notices
        for name in ("Петров П. П.", "Сидорова М. И.")
        if f"Пациент: {name}" in headline_of(notice)
    )
    assert named == ["Петров П. П.", "Сидорова М. И."]
