from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from bot.config import BookingSettings
from bot.services.catalog import bump_reference_version
from bot.services.clock import ManualClock
from bot.standin.client import SimUser
from bot.standin.harness import BotHarness
from bot.standin.server import StoredMessage
from bot.startup import refresh_slots
from db.models import (
    AccountPatient,
    AuditEntry,
    Booking,
    BookingStatus,
    Consent,
    Doctor,
    Service,
    Slot,
    WorkingHours,
)
from tests.e2e.conftest import running_harness
from tests.e2e.flow import PETROV, SIDOROVA, identify, open_day

MSK = ZoneInfo("Europe/Moscow")
SURGEON = {"service": "Приём хирурга", "doctor": "Врач-хирург — Петренко О. И."}
WEDNESDAY = "ср 02.12 · 08:00–10:00"
SURGERY_DAY = "ср 02.12 · 08:00–20:00"


async def book_with_prompts(
    user: SimUser, patient: dict[str, str], *, time: str = "08:00", **where: str
) -> None:
    await open_day(user, **where)
    await user.click(time)
    if user.buttons()[0] == ["Принимаю", "Отказываюсь"]:
        await user.click("Принимаю")
    if "Для кого запись?" in (user.last_bot_message.text or ""):
        await user.click("Другой пациент")
    await identify(user, patient)
    assert any("Вы успешно записались" in (m.text or "") for m in user.bot_messages[-3:])


async def active(harness: BotHarness) -> list[Booking]:
    async with harness.database.sessions() as session:
        return list(
            (
                await session.scalars(select(Booking).where(Booking.status == BookingStatus.ACTIVE))
            ).all()
        )


def current(user: SimUser, message: StoredMessage) -> StoredMessage:
    """The message as it is now (edits included)."""
    return next(m for m in user.bot_messages if m.message_id == message.message_id)


def ics_of(user: SimUser) -> Calendar:
    document = user.documents[-1]
    assert document.document is not None
    assert document.document.file_name.endswith(".ics")
    return Calendar.from_ical(user.download(document))


async def test_remember_book_without_prompts_add_a_second_patient_and_forget(
    harness: BotHarness,
) -> None:
    parent = harness.user(6001, "Пётр")
    await book_with_prompts(parent, PETROV)
    success = next(m for m in parent.bot_messages if "Вы успешно записались" in (m.text or ""))
    answer = await parent.click("Запомнить пациента", message_id=success.message_id)
    assert answer is not None
    assert "запомнен" in (answer.text or "")
    assert parent.buttons(success) == []

    # The remembered patient books in one press after the time.
    await open_day(parent, **SURGEON, day=SURGERY_DAY)
    await parent.click("10:00")
    assert parent.buttons()[:2] == [["Петров Пётр Петрович"], ["Другой пациент"]]
    await parent.click("Петров Пётр Петрович")
    assert "Вы успешно записались" in parent.bot_messages[-2].text
    assert len(await active(harness)) == 2

    # A second patient through «Другой пациент», then remembered too.
    await book_with_prompts(parent, SIDOROVA, time="08:30")
    await parent.click("Запомнить пациента")
    await parent.send("/my")
    await parent.click("Мои пациенты")
    assert "Петров Пётр Петрович" in parent.last_bot_message.text
    assert "Сидорова Мария Ивановна" in parent.last_bot_message.text
    await parent.click("Забыть: Петров Пётр Петрович")
    assert "Петров" not in parent.last_bot_message.text
    async with harness.database.sessions() as session:
        assert await session.scalar(select(func.count(AccountPatient.id))) == 1


async def test_my_bookings_ticket_again_and_calendar_file(harness: BotHarness) -> None:
    user = harness.user(6002, "Пётр")
    await book_with_prompts(user, PETROV, time="08:30")
    await user.send("/my")
    listing = user.last_bot_message
    assert "Мои записи" in listing.text
    assert "среда, 2 декабря 2026 г., 08:30" in listing.text
    assert user.buttons()[0] == ["02.12 08:30 · Иванова А. П."]

    await user.click("02.12 08:30 · Иванова А. П.")
    assert user.buttons()[:2] == [["Талон", "В календарь"], ["Перенести", "Отменить запись"]]
    tickets = len(user.documents)
    await user.click("Талон")
    assert len(user.documents) == tickets + 1
    assert user.documents[-1].document.file_name.endswith(".pdf")

    await user.click("В календарь")
    calendar = ics_of(user)
    [event] = calendar.walk("VEVENT")
    booking = (await active(harness))[0]
    from bot.services.installation import installation_uid  # the UID names the installation

    async with harness.database.sessions() as session:
        installation = await installation_uid(session)
    assert str(event["UID"]) == f"booking-{booking.id}-{installation}@talon"
    assert event.decoded("DTSTART") == datetime(2026, 12, 2, 8, 30, tzinfo=MSK)
    assert event["DTSTART"].params["TZID"] == "Europe/Moscow"
    assert "Тестовая" in str(event["LOCATION"])
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Moscow"]


async def test_cancel_frees_the_slot_and_sends_a_calendar_cancellation(
    harness: BotHarness,
) -> None:
    user = harness.user(6003, "Пётр")
    await book_with_prompts(user, PETROV, time="09:00")
    await user.send("/my")
    await user.click("02.12 09:00 · Иванова А. П.")
    card = user.last_bot_message
    await user.click("В календарь")
    uid = str(ics_of(user).walk("VEVENT")[0]["UID"])
    await user.click("Отменить запись")
    assert "Отменить запись?" in (current(user, card).text or "")
    await user.click("Нет")
    assert user.buttons(card)[0] == ["Талон", "В календарь"]
    await user.click("Отменить запись")
    await user.click("Да, отменить")
    cancellation = ics_of(user)
    assert str(cancellation["METHOD"]) == "CANCEL"
    [event] = cancellation.walk("VEVENT")
    assert str(event["UID"]) == uid
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    assert await active(harness) == []

    other = harness.user(6004, "Мария")
    await book_with_prompts(other, SIDOROVA, time="09:00")
    assert len(await active(harness)) == 1


async def test_move_keeps_one_booking_and_sends_new_files(harness: BotHarness) -> None:
    user = harness.user(6005, "Пётр")
    await book_with_prompts(user, PETROV, time="08:00")
    [before] = await active(harness)
    await user.send("/my")
    await user.click("02.12 08:00 · Иванова А. П.")
    await user.click("Перенести")
    await user.click("чт 03.12 · 08:00–09:00")
    await user.click("08:30")
    [after] = await active(harness)
    assert after.id == before.id
    assert after.ticket_number == before.ticket_number
    assert after.slot_id != before.slot_id
    assert after.revision == 1
    assert user.documents[-1].document.file_name.endswith(".pdf")
    assert user.documents[-2].document.file_name.endswith(".ics")
    # The old time is free again.
    other = harness.user(6006, "Мария")
    await book_with_prompts(other, SIDOROVA, time="08:00")


async def test_moves_stop_at_the_cut_off_but_cancelling_does_not(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(6007, "Пётр")
    await book_with_prompts(user, PETROV, time="08:00")
    await user.send("/my")
    await user.click("02.12 08:00 · Иванова А. П.")
    card = user.last_bot_message
    assert user.buttons(card)[1] == ["Перенести", "Отменить запись"]

    # 06:30 on Wednesday: an hour and a half before the visit, inside the 2-hour cut-off.
    clock.set(datetime(2026, 12, 2, 6, 30, tzinfo=MSK))
    # The card shown earlier still carries «Перенести»: refused, with the registry's phone.
    answer = await user.click("Перенести", message_id=card.message_id)
    assert answer is not None
    assert answer.show_alert
    assert "+7 (495) 111-11-11" in (answer.text or "")
    assert len(await active(harness)) == 1

    # Opened now, the card offers no move; the ticket and the cancel still work.
    await user.send("/my")
    await user.click("02.12 08:00 · Иванова А. П.")
    assert user.buttons()[:2] == [["Талон", "В календарь"], ["Отменить запись"]]
    await user.click("Талон")
    await user.click("Отменить запись")
    await user.click("Да, отменить")
    assert await active(harness) == []
    assert str(ics_of(user)["METHOD"]) == "CANCEL"


@pytest.fixture
async def strict(tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotHarness]:
    async with running_harness(
        tmp_path, clock, booking=BookingSettings(max_active_bookings=2)
    ) as running:
        yield running


async def test_limits_say_why(strict: BotHarness) -> None:
    user = strict.user(6008, "Пётр")
    await book_with_prompts(user, PETROV, time="08:00")
    await open_day(user)
    await user.click("09:00")
    await identify(user, PETROV)
    assert "уже есть запись к врачу Иванова А. П." in user.last_bot_message.text
    await book_with_prompts(user, PETROV, time="10:00", **SURGEON, day=SURGERY_DAY)
    await open_day(
        user,
        org="Поликлиника № 2",
        doctor="Врач-терапевт — Смирнов И.",
        day="ср 02.12 · 08:00–12:00",
    )
    await user.click("08:00")
    # Another organization: its own consent (another operator of personal data).
    await user.click("Принимаю")
    await identify(user, PETROV)
    assert "уже 2 предстоящих записей" in user.last_bot_message.text
    assert len(await active(strict)) == 2


async def test_withdrawing_consent_removes_every_link(harness: BotHarness) -> None:
    user = harness.user(6009, "Пётр")
    await book_with_prompts(user, PETROV)
    await user.click("Запомнить пациента")
    await user.send("/forget")
    await user.click("Да, отозвать")
    assert "Согласие отозвано" in user.last_bot_message.text
    async with harness.database.sessions() as session:
        assert await session.scalar(select(func.count(AccountPatient.id))) == 0
        assert await session.scalar(select(func.count(Consent.id))) == 0
        booking = await session.scalar(select(Booking))
        assert booking is not None
        assert booking.status is BookingStatus.ACTIVE  # the appointment itself stays
        assert booking.telegram_user_id is None
    await user.send("/my")
    assert "Предстоящих записей нет" in user.last_bot_message.text
    # The next booking asks for the agreement again.
    await open_day(user, **SURGEON, day=SURGERY_DAY)
    await user.click("10:00")
    assert user.buttons()[0] == ["Принимаю", "Отказываюсь"]


async def test_two_accounts_cancelling_one_booking_at_once_end_consistent(
    harness: BotHarness,
) -> None:
    mother, father = harness.user(6010, "Анна"), harness.user(6011, "Иван")
    await book_with_prompts(mother, PETROV)
    await mother.click("Запомнить пациента")
    await book_with_prompts(father, PETROV, **SURGEON, day=SURGERY_DAY, time="12:00")
    await father.click("Запомнить пациента")
    for parent in (mother, father):
        await parent.send("/my")
        await parent.click("02.12 08:00 · Иванова А. П.")
        await parent.click("Отменить запись")
    answers = await asyncio.gather(mother.click("Да, отменить"), father.click("Да, отменить"))
    refused = [
        a
        for a in answers
        if a is not None and ("уже отменена" in (a.text or "") or "только что" in (a.text or ""))
    ]
    assert len(refused) == 1
    async with harness.database.sessions() as session:
        bookings = (await session.scalars(select(Booking).order_by(Booking.id))).all()
        assert [b.status for b in bookings] == [BookingStatus.CANCELLED, BookingStatus.ACTIVE]
        assert bookings[0].revision == 1


async def test_move_to_another_doctor_of_the_same_service(harness: BotHarness) -> None:
    async with harness.database.sessions() as session:
        # A second therapist at the first polyclinic, working on Thursday afternoons.
        service = await session.scalar(select(Service).where(Service.code == "therapist"))
        assert service is not None
        doctor = Doctor(
            organization_id=service.organization_id,
            code="orlova",
            last_name="Орлова",
            first_name="Вера",
            middle_name="Сергеевна",
            position="Врач-терапевт",
            slot_minutes=30,
        )
        doctor.services = [service]
        doctor.hours = [WorkingHours(weekday=3, start_time=time(14), end_time=time(15))]
        session.add(doctor)
        # As an import does: running bots reload their cached reference data.
        await bump_reference_version(session)
        await session.commit()
    await refresh_slots(harness.database, settings=harness.settings, clock=harness.clock)

    user = harness.user(6012, "Пётр")
    await book_with_prompts(user, PETROV, time="08:00")
    await user.send("/my")
    listing = user.last_bot_message.text
    assert "Поликлиника № 1" in listing
    assert "Приём терапевта" in listing
    [booking] = await active(harness)
    assert booking.ticket_number in listing
    await user.click("02.12 08:00 · Иванова А. П.")
    await user.click("Перенести")
    await user.click("Назад")
    await user.click("Врач-терапевт — Орлова В. С.")
    await user.click("чт 03.12 · 14:00–15:00")
    await user.click("14:30")
    [moved] = await active(harness)
    assert moved.id == booking.id
    async with harness.database.sessions() as session:
        slot = await session.get(Slot, moved.slot_id)
        assert slot is not None
        assert slot.starts_at == datetime(2026, 12, 3, 14, 30, tzinfo=MSK)


async def test_add_a_patient_without_booking(harness: BotHarness) -> None:
    user = harness.user(6013, "Анна")
    await user.send("/start")
    await user.click("Мои записи")
    await user.click("Мои пациенты")
    await user.click("Добавить пациента")
    assert user.buttons()[0] == ["Принимаю", "Отказываюсь"]
    await user.click("Принимаю")
    assert "Добавление пациента" in user.last_bot_message.text
    await identify(user, SIDOROVA)
    assert "Сидорова Мария Ивановна запомнен" in user.last_bot_message.text
    # Now she books without the prompts, once the organization has its own consent.
    await open_day(user)
    await user.click("08:00")
    assert "Оператор: ГБУЗ «Городская поликлиника № 1»" in user.last_bot_message.text
    await user.click("Принимаю")
    await user.click("Сидорова Мария Ивановна")
    assert "Вы успешно записались" in user.bot_messages[-2].text


async def test_withdrawing_keeps_the_identification_lock_out(harness: BotHarness) -> None:
    user = harness.user(6014, "Пётр")
    await open_day(user)
    await user.click("08:00")
    await user.click("Принимаю")
    for _ in range(harness.settings.booking.max_failed_identifications):
        await identify(user, {**PETROV, "birth_date": "01.01.1990"})
        await user.click("Попробовать снова")
    await user.send("/start")
    await user.click("Мои записи")
    await user.click("Мои пациенты")
    await user.click("Отозвать все согласия")
    await user.click("Да, отозвать")
    await open_day(user)
    await user.click("08:00")
    await user.click("Принимаю")
    await identify(user, PETROV)
    assert "Слишком много неудачных попыток" in user.last_bot_message.text


async def test_a_move_keeps_the_service(harness: BotHarness) -> None:
    user = harness.user(6015, "Пётр")
    await book_with_prompts(user, PETROV, time="08:00")
    await user.send("/my")
    await user.click("02.12 08:00 · Иванова А. П.")
    await user.click("Перенести")
    await user.click("Назад")  # the doctors of the service
    await user.click("Назад")  # the services
    await user.click("Приём хирурга")
    await user.click("Врач-хирург — Петренко О. И.")
    await user.click(SURGERY_DAY)
    await user.click("10:00")
    assert "той же услуги" in user.last_bot_message.text
    [booking] = await active(harness)
    async with harness.database.sessions() as session:
        slot = await session.get(Slot, booking.slot_id)
        assert slot is not None
        assert slot.starts_at == datetime(2026, 12, 2, 8, 0, tzinfo=MSK)


async def test_a_moved_booking_updates_the_same_calendar_event(harness: BotHarness) -> None:
    user = harness.user(6016, "Пётр")
    await book_with_prompts(user, PETROV, time="08:00")
    await user.send("/my")
    await user.click("02.12 08:00 · Иванова А. П.")
    await user.click("В календарь")
    first = ics_of(user).walk("VEVENT")[0]
    await user.click("Перенести")
    await user.click("чт 03.12 · 08:00–09:00")
    await user.click("08:30")
    moved_ics = Calendar.from_ical(user.download(user.documents[-2]))
    [moved] = moved_ics.walk("VEVENT")
    assert str(moved["UID"]) == str(first["UID"])
    assert int(moved["SEQUENCE"]) > int(first["SEQUENCE"])
    assert moved.decoded("DTSTART") == datetime(2026, 12, 3, 8, 30, tzinfo=MSK)


async def test_a_long_list_of_bookings_is_paged(unlimited_harness: BotHarness) -> None:
    user = unlimited_harness.user(6017, "Пётр")
    await book_with_prompts(user, PETROV, time="08:00")
    for time_ in ("09:00", "09:15", "09:30", "09:45", "10:00", "10:15"):
        await book_with_prompts(user, PETROV, time=time_, **SURGEON, day=SURGERY_DAY)
    await user.send("/start")
    await user.click("Мои записи")
    assert len(user.buttons()) == 5 + 2  # five bookings, paging, patients/start
    assert user.buttons()[-2] == ["Позже ▶"]
    await user.click("Позже ▶")
    assert [row[0] for row in user.buttons()[:2]] == [
        "02.12 10:00 · Петренко О. И.",
        "02.12 10:15 · Петренко О. И.",
    ]
    assert "6. " in user.last_bot_message.text


async def test_a_cancel_racing_a_reminder_press_ends_consistent(
    harness: BotHarness, clock: ManualClock
) -> None:
    booker, relative = harness.user(6018, "Иван"), harness.user(6019, "Анна")
    await book_with_prompts(booker, PETROV, time="08:00", day="чт 03.12 · 08:00–09:00")
    [booking] = await active(harness)
    await book_with_prompts(relative, PETROV, time="10:00", **SURGEON, day=SURGERY_DAY)
    await relative.click("Запомнить пациента")

    clock.set(datetime(2026, 12, 2, 8, 0, tzinfo=MSK))  # the 24 h reminder
    assert harness.reminders is not None
    await harness.reminders.run_once()
    await booker.click("Отменить запись")  # the reminder's button: asks first
    await relative.send("/my")
    await relative.click("03.12 08:00 · Иванова А. П.")
    await relative.click("Отменить запись")

    await asyncio.gather(booker.click("Да, отменить"), relative.click("Да, отменить"))
    async with harness.database.sessions() as session:
        final = await session.get(Booking, booking.id)
        assert final is not None
        assert final.status is BookingStatus.CANCELLED
        assert final.revision == 1
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.booking_id == booking.id)
            )
        ).all()
        assert sorted(actions) == ["booked", "cancelled"]


async def test_the_booker_is_told_when_another_account_changes_the_booking(
    harness: BotHarness,
) -> None:
    booker, relative = harness.user(6020, "Иван"), harness.user(6021, "Анна")
    await book_with_prompts(booker, PETROV, time="08:00")
    await book_with_prompts(relative, PETROV, time="10:00", **SURGEON, day=SURGERY_DAY)
    await relative.click("Запомнить пациента")
    await relative.send("/my")
    await relative.click("02.12 08:00 · Иванова А. П.")
    await relative.click("Перенести")
    await relative.click("чт 03.12 · 08:00–09:00")
    await relative.click("08:30")
    assert "Ваша запись перенесена" in booker.last_bot_message.text
    assert "Пациент: Петров П. П." in booker.last_bot_message.text
    assert "3 декабря 2026 г., 08:30" in booker.last_bot_message.text
    await relative.send("/my")
    await relative.click("03.12 08:30 · Иванова А. П.")
    await relative.click("Отменить запись")
    await relative.click("Да, отменить")
    assert "Ваша запись отменена" in booker.last_bot_message.text
    assert "Пациент: Петров П. П." in booker.last_bot_message.text
