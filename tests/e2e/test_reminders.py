from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.delivery.limiter import RateLimiter
from bot.services.clock import ManualClock
from bot.services.reminders import claim_due, release_rows
from bot.standin.client import SimUser
from bot.standin.harness import BotHarness
from bot.usecases import patient
from bot.usecases.outcomes import Account, Changed
from db.models import Booking, BookingStatus, Reminder, ReminderState, TelegramChat
from tests.e2e.flow import PETROV, SIDOROVA, identify, open_day

MSK = ZoneInfo("Europe/Moscow")
THURSDAY = "чт 03.12 · 08:00–09:00"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=MSK)


async def book(
    user: SimUser,
    patient: dict[str, str],
    *,
    day: str,
    time: str,
    consent: bool,
    surgeon: bool = False,
) -> None:
    if surgeon:
        await open_day(
            user, service="Приём хирурга", doctor="Врач-хирург — Петренко О. И.", day=day
        )
    else:
        await open_day(user, day=day)
    await user.click(time)
    if consent:
        await user.click("Принимаю")
    await identify(user, patient)
    assert "Вы успешно записались" in user.bot_messages[-2].text


def reminders_of(user: SimUser) -> list[str]:
    return [m.text or "" for m in user.bot_messages if "Напоминани" in (m.text or "")]


async def run(harness: BotHarness, clock: ManualClock, moment: datetime) -> None:
    clock.set(moment)
    assert harness.reminders is not None
    await harness.reminders.run_once()


async def states(harness: BotHarness) -> list[tuple[str, ReminderState]]:
    async with harness.database.sessions() as session:
        rows = await session.scalars(select(Reminder).order_by(Reminder.due_at, Reminder.id))
        return [(r.label, r.state) for r in rows]


async def test_reminders_go_out_at_their_moments_and_respect_quiet_hours(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4001, "Пётр")
    await book(user, PETROV, day=THURSDAY, time="08:00", consent=True)

    await run(harness, clock, at(1, 9, 30))
    await run(harness, clock, at(2, 7, 59))
    assert reminders_of(user) == []

    await run(harness, clock, at(2, 8, 0))  # 24 h before Thursday 08:00
    [first] = reminders_of(user)
    for expected in (
        "ГБУЗ «Городская поликлиника № 1»",
        "г. Москва, ул. Тестовая, д. 1",
        "Иванова Анна Петровна",
        "Приём терапевта",
        "четверг, 3 декабря 2026 г., 08:00",
        "Пациент: Петров П. П.",
        "Талон №",
    ):
        assert expected in first
    assert user.buttons() == [["Подтверждаю", "Отменить запись", "Перенести"]]

    # 2 h before is 06:00, inside the 21:00–08:00 quiet hours: sent at 20:59 the evening before.
    await run(harness, clock, at(2, 20, 58))
    assert len(reminders_of(user)) == 1
    await run(harness, clock, at(2, 20, 59))
    assert len(reminders_of(user)) == 2
    await run(harness, clock, at(3, 7, 0))
    assert len(reminders_of(user)) == 2
    assert await states(harness) == [("24h", ReminderState.SENT), ("2h", ReminderState.SENT)]


async def test_a_late_booking_skips_reminders_that_are_already_past(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4002, "Пётр")
    await book(user, PETROV, day="вт 01.12 · 08:00–12:00", time="11:30", consent=True)
    # Booked at 09:00 for 11:30: the 24 h reminder is skipped, the 2 h one is due at 09:30.
    assert [label for label, _ in await states(harness)] == ["2h"]
    await run(harness, clock, at(1, 9, 30))
    assert len(reminders_of(user)) == 1


async def test_several_visits_on_one_day_get_one_combined_reminder(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4003, "Пётр")
    await book(user, PETROV, day="ср 02.12 · 08:00–10:00", time="08:00", consent=True)
    await book(
        user, PETROV, day="ср 02.12 · 08:00–20:00", time="09:00", consent=False, surgeon=True
    )
    await run(harness, clock, at(1, 20, 59))
    [digest] = reminders_of(user)
    assert "несколько приёмов" in digest
    assert "08:00" in digest
    assert "09:00" in digest
    assert digest.count("Пациент: Петров П. П.") == 2
    assert user.buttons() == [
        ["Подтверждаю · 08:00", "Отменить запись · 08:00", "Перенести · 08:00"],
        ["Подтверждаю · 09:00", "Отменить запись · 09:00", "Перенести · 09:00"],
    ]
    assert {state for _, state in await states(harness)} == {ReminderState.SENT}


async def test_confirm_and_cancel_from_the_reminder(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4004, "Пётр")
    await book(user, PETROV, day=THURSDAY, time="08:00", consent=True)
    await run(harness, clock, at(2, 8, 0))
    answer = await user.click("Подтверждаю")
    assert answer is not None
    assert "подтверждена" in (answer.text or "")
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        assert booking.confirmed_at is not None

    await user.click("Отменить запись")
    assert "Отменить запись?" in user.last_bot_message.text
    await user.click("Нет")
    assert "сохранена" in user.last_bot_message.text
    await user.click("Отменить запись")
    await user.click("Да, отменить")
    assert "Запись отменена" in user.bot_messages[-2].text
    cancellation = user.last_bot_message.document
    assert cancellation is not None
    assert cancellation.file_name.endswith("-cancel.ics")

    # The slot is free at once: another patient takes it.
    other = harness.user(4005, "Мария")
    await book(other, SIDOROVA, day=THURSDAY, time="08:00", consent=True)
    # The cancelled booking's 2 h reminder never goes out; the new booking's does.
    await run(harness, clock, at(2, 20, 59))
    assert len(reminders_of(user)) == 1
    assert len(reminders_of(other)) == 1

    # Buttons of the old reminder now answer clearly.
    reminder = next(m for m in user.bot_messages if "Напоминание" in (m.text or ""))
    answer = await user.click("Подтверждаю", message_id=reminder.message_id)
    assert answer is not None
    assert "уже отменена" in (answer.text or "")


async def test_move_from_the_reminder_moves_the_booking_and_sends_a_new_ticket(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4006, "Пётр")
    await book(user, PETROV, day=THURSDAY, time="08:00", consent=True)
    await run(harness, clock, at(2, 8, 0))
    reminder = user.last_bot_message
    tickets_before = len(user.documents)

    await user.click("Перенести")
    assert "Перенос записи" in user.last_bot_message.text
    await user.click("вт 08.12 · 08:00–12:00")
    await user.click("10:00")
    moved = user.bot_messages[-3]
    assert "Запись перенесена" in moved.text
    assert "8 декабря 2026 г., 10:00" in moved.text
    # The new calendar event and the new ticket.
    assert len(user.documents) == tickets_before + 2
    assert user.documents[-2].document.file_name.endswith(".ics")
    assert user.documents[-1].document.file_name.endswith(".pdf")

    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        assert booking.status is BookingStatus.ACTIVE
        await session.refresh(booking, ["slot"])
        assert booking.slot.starts_at == at(8, 10, 0)
    # The old reminder cannot act on the new time.
    answer = await user.click("Подтверждаю", message_id=reminder.message_id)
    assert answer is not None
    assert "перенесена" in (answer.text or "")
    # No stale reminder for Thursday; the new time gets its own.
    await run(harness, clock, at(3, 7, 0))
    assert len(reminders_of(user)) == 1
    await run(harness, clock, at(7, 10, 0))
    assert len(reminders_of(user)) == 2


async def test_429_is_waited_out_and_the_reminder_sent_once(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4007, "Пётр")
    await book(user, PETROV, day=THURSDAY, time="08:00", consent=True)
    harness.server.fail_next(
        "sendMessage", error_code=429, description="Too Many Requests: retry after 1", retry_after=1
    )
    await run(harness, clock, at(2, 8, 0))
    assert len(reminders_of(user)) == 1
    assert (await states(harness))[0] == ("24h", ReminderState.SENT)


async def test_403_marks_the_chat_unreachable_and_stops(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4008, "Пётр")
    await book(user, PETROV, day=THURSDAY, time="08:00", consent=True)
    harness.server.block(user.user.id)
    await run(harness, clock, at(2, 8, 0))
    await run(harness, clock, at(2, 20, 59))
    assert reminders_of(user) == []
    assert await states(harness) == [("24h", ReminderState.FAILED), ("2h", ReminderState.FAILED)]
    async with harness.database.sessions() as session:
        chat = await session.get(TelegramChat, user.user.id)
        assert chat is not None
        assert chat.unreachable_at is not None
        rows = (await session.scalars(select(Reminder).order_by(Reminder.due_at))).all()
        assert rows[0].last_error is not None
        assert rows[0].last_error.startswith("403")
        assert rows[1].last_error == "chat unreachable (blocked or deactivated)"


async def test_a_reminder_missed_while_the_bot_was_down_goes_out_on_start(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4009, "Пётр")
    await book(user, PETROV, day=THURSDAY, time="08:00", consent=True)
    # Down from Tuesday until Wednesday noon: the 24 h reminder (Wed 08:00) is late but useful.
    await harness.restart_bot()
    await run(harness, clock, at(2, 12, 0))
    assert len(reminders_of(user)) == 1
    # Down again until Thursday 08:30: the visit has started, the 2 h one is dropped.
    await run(harness, clock, at(3, 8, 30))
    assert len(reminders_of(user)) == 1
    assert await states(harness) == [("24h", ReminderState.SENT), ("2h", ReminderState.DROPPED)]


async def test_a_dispatcher_killed_mid_batch_sends_each_reminder_exactly_once(
    unlimited_harness: BotHarness, clock: ManualClock
) -> None:
    harness = unlimited_harness
    users = [harness.user(4100 + n, f"Пациент {n}") for n in range(12)]
    patients = [PETROV, SIDOROVA]
    for n, user in enumerate(users):
        # Twelve bookings on Wednesday (Petrenko has 48 slots), alternating registry patients.
        await open_day(
            user,
            service="Приём хирурга",
            doctor="Врач-хирург — Петренко О. И.",
            day="ср 02.12 · 08:00–20:00",
        )
        await user.click(user.buttons()[n // 4][n % 4])
        await user.click("Принимаю")
        await identify(user, patients[n % 2])
    assert harness.reminders is not None
    clock.set(at(1, 20, 59))  # Wednesday's early 2 h reminders are moved to 20:59

    def delivered() -> int:
        return sum(len(reminders_of(u)) for u in users)

    run_task = asyncio.create_task(harness.reminders.run_once())
    await harness.server.wait_for(lambda: delivered() >= 3, timeout=10)
    run_task.cancel()
    await asyncio.gather(run_task, return_exceptions=True)
    await harness.reminders.drain()
    partial = delivered()
    assert 3 <= partial <= 12

    await harness.restart_bot()  # a new dispatcher: recovers what was in flight
    await harness.reminders.run_once()
    # One message per chat: where a late 24 h reminder and a 2 h one moved out of the quiet
    # hours fell due together, they went out as one.
    assert [len(reminders_of(u)) for u in users] == [1] * 12
    async with harness.database.sessions() as session:
        due = (await session.scalars(select(Reminder).where(Reminder.due_at <= clock.now()))).all()
    assert {r.state for r in due} == {ReminderState.SENT}


async def test_server_errors_are_retried_with_backoff_then_marked_failed(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4010, "Пётр")
    await book(user, PETROV, day=THURSDAY, time="08:00", consent=True)
    harness.server.fail_next(
        "sendMessage", error_code=500, description="Internal Server Error", count=2
    )
    await run(harness, clock, at(2, 8, 0))
    assert reminders_of(user) == []
    async with harness.database.sessions() as session:
        row = await session.scalar(select(Reminder).order_by(Reminder.due_at))
        assert row is not None
        assert row.state is ReminderState.PLANNED
        assert row.attempts == 1
        assert row.due_at == at(2, 8, 0, 30)
        assert row.last_error is not None
    await run(harness, clock, at(2, 8, 0, 30))  # second failure: next try a minute later
    await run(harness, clock, at(2, 8, 1, 30))
    assert len(reminders_of(user)) == 1


async def test_a_reminder_that_keeps_failing_is_given_up_with_its_error(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4014, "Пётр")
    await book(user, PETROV, day="вт 08.12 · 08:00–12:00", time="08:00", consent=True)
    attempts = harness.settings.reminders.max_attempts
    harness.server.fail_next(
        "sendMessage", error_code=500, description="Internal Server Error", count=attempts
    )
    moment = at(7, 8, 0)  # the 24 h reminder
    for _ in range(attempts):
        await run(harness, clock, moment)
        async with harness.database.sessions() as session:
            row = await session.scalar(select(Reminder).where(Reminder.label == "24h"))
            assert row is not None
            moment = row.due_at
    assert row.state is ReminderState.FAILED
    assert row.attempts == attempts
    assert row.last_error is not None
    assert "Internal Server Error" in row.last_error
    assert reminders_of(user) == []


async def test_a_reminder_button_after_the_visit_answers_clearly(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4011, "Пётр")
    await book(user, PETROV, day=THURSDAY, time="08:00", consent=True)
    await run(harness, clock, at(2, 8, 0))
    clock.set(at(3, 8, 5))
    for button in ("Подтверждаю", "Отменить запись", "Перенести"):
        answer = await user.click(button)
        assert answer is not None
        assert "уже прошло" in (answer.text or "")


async def test_a_foreign_reminder_button_reveals_and_changes_nothing(
    harness: BotHarness, clock: ManualClock
) -> None:
    owner, stranger = harness.user(4012, "Пётр"), harness.user(4013, "Мария")
    await book(owner, PETROV, day=THURSDAY, time="08:00", consent=True)
    await run(harness, clock, at(2, 8, 0))
    data = owner.last_bot_message.inline_keyboard[0][1]["callback_data"]  # «Отменить запись»
    await stranger.send("/start")
    target = stranger.last_bot_message.message_id
    answer = await stranger.click_data(data, target)
    assert answer is not None
    assert "не найдена" in (answer.text or "")
    answer = await stranger.click_data(data.replace(":x", ":xy"), target)
    assert answer is not None
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        assert booking.status is BookingStatus.ACTIVE


async def test_sending_reminders_does_not_hold_up_patients(
    unlimited_harness: BotHarness, clock: ManualClock
) -> None:
    harness = unlimited_harness
    users = [harness.user(4200 + n, f"Пациент {n}") for n in range(4)]
    for n, user in enumerate(users):
        await book(
            user,
            [PETROV, SIDOROVA][n % 2],
            day="ср 02.12 · 08:00–10:00",
            time=["08:00", "08:30", "09:00", "09:30"][n],
            consent=True,
        )
    # A slow ceiling keeps the dispatcher busy for about three more seconds.
    slow = harness.reminder_dispatcher(limiter=RateLimiter(per_second=1.0, per_chat_interval=0))
    clock.set(at(1, 20, 59))
    run_task = asyncio.create_task(slow.run_once())
    await harness.server.wait_for(lambda: len(reminders_of(users[0])) == 1, timeout=10)
    patient = harness.user(4300, "Анна")
    await patient.send("/start")
    assert "Выберите медицинскую организацию" in patient.last_bot_message.text
    assert not run_task.done()
    await run_task
    assert sum(len(reminders_of(u)) for u in users) == 4


async def test_moving_within_the_same_morning_plans_the_new_reminder(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4015, "Пётр")
    await book(user, PETROV, day=THURSDAY, time="08:00", consent=True)
    await run(harness, clock, at(2, 8, 0))
    reminder = next(m for m in user.bot_messages if "Напоминание" in (m.text or ""))
    # 08:00 → 08:30: both 2 h reminders land on 20:59 the evening before,
    # the same moment as the cancelled row of the old time.
    await user.click("Перенести", message_id=reminder.message_id)
    await user.click(THURSDAY)
    await user.click("08:30")
    assert "Запись перенесена" in user.bot_messages[-3].text
    await user.click("В начало")
    await user.click("Поликлиника № 1")
    await user.click("Приём терапевта")
    await user.click("Врач-терапевт — Иванова А. П.")
    await user.click(THURSDAY)
    assert user.buttons()[0] == ["08:00", "✖ 08:30"]
    await run(harness, clock, at(2, 20, 59))
    sent = reminders_of(user)
    assert len(sent) == 2
    assert "08:30" in sent[-1]


async def test_a_reminder_claimed_while_the_booking_is_cancelled_is_not_sent(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4016, "Пётр")
    await book(user, PETROV, day=THURSDAY, time="08:00", consent=True)
    clock.set(at(2, 8, 0))
    async with harness.database.sessions() as session:
        claimed = await claim_due(session, now=clock.now(), limit=10)
        assert len(claimed) == 1
        booking = await session.scalar(select(Booking))
        assert booking is not None
        cancelled = await patient.cancel(
            session,
            booking_id=booking.id,
            slot_id=booking.slot_id,
            account=Account(user_id=user.user.id, chat_id=user.user.id),
            now=clock.now(),
        )
        assert isinstance(cancelled, Changed)
    # The dispatcher that claimed it finds the booking cancelled right before sending.
    assert harness.reminders is not None
    await harness.reminders.run_once()
    async with harness.database.sessions() as session:
        await release_rows(session, ids=claimed)  # whatever it left claimed
    await harness.reminders.run_once()
    assert reminders_of(user) == []
    assert {state for _, state in await states(harness)} == {ReminderState.CANCELLED}


async def test_a_patient_who_unblocks_the_bot_and_books_again_is_reminded(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4017, "Пётр")
    await book(user, PETROV, day=THURSDAY, time="08:00", consent=True)
    harness.server.block(user.user.id)
    await run(harness, clock, at(2, 8, 0))
    assert reminders_of(user) == []
    # Writing to the bot again unblocks it (Telegram's «Restart»), then a new booking.
    await book(
        user, PETROV, day="ср 09.12 · 08:00–20:00", time="10:00", consent=False, surgeon=True
    )
    await run(harness, clock, at(8, 10, 0))
    assert len(reminders_of(user)) == 1


async def test_forged_cancel_confirmation_for_a_missing_booking(harness: BotHarness) -> None:
    user = harness.user(4018, "Пётр")
    await user.send("/start")
    answer = await user.click_data("rm:999:1:xy", user.last_bot_message.message_id)
    assert answer is not None
    assert "не найдена" in (answer.text or "")


async def test_the_2h_reminder_offers_cancel_but_no_move_and_the_cancel_frees_the_slot(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4019, "Пётр")
    await book(user, PETROV, day="вт 01.12 · 08:00–12:00", time="11:30", consent=True)
    # 09:30, two hours before 11:30: the cut-off for moves has come, the cancel stays.
    await run(harness, clock, at(1, 9, 30))
    [reminder] = reminders_of(user)
    assert "Пациент: Петров П. П." in reminder
    assert "вторник, 1 декабря 2026 г., 11:30" in reminder
    assert user.buttons() == [["Подтверждаю", "Отменить запись"]]
    assert await states(harness) == [("2h", ReminderState.SENT)]

    clock.set(at(1, 10, 45))  # 45 minutes before the visit
    await user.click("Отменить запись")
    assert "Отменить запись?" in user.last_bot_message.text
    await user.click("Да, отменить")
    assert "Запись отменена" in user.bot_messages[-2].text
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        assert booking.status is BookingStatus.CANCELLED

    # The slot is free at once: another patient takes it.
    other = harness.user(4020, "Мария")
    await book(other, SIDOROVA, day="вт 01.12 · 08:00–12:00", time="11:30", consent=True)


async def test_an_old_move_button_pressed_inside_the_cut_off_is_refused_with_the_phone(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(4021, "Пётр")
    await book(user, PETROV, day=THURSDAY, time="08:00", consent=True)
    await run(harness, clock, at(2, 8, 0))  # the 24 h reminder: a move is still possible
    reminder = user.last_bot_message
    assert user.buttons(reminder) == [["Подтверждаю", "Отменить запись", "Перенести"]]

    clock.set(at(3, 6, 30))  # 90 minutes before the visit
    answer = await user.click("Перенести", message_id=reminder.message_id)
    assert answer is not None
    assert answer.show_alert
    assert "перенести запись онлайн уже нельзя" in (answer.text or "")
    assert "+7 (495) 111-11-11" in (answer.text or "")
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        assert booking.status is BookingStatus.ACTIVE
        assert booking.revision == 0
    # The cancel on the same reminder still works.
    await user.click("Отменить запись", message_id=reminder.message_id)
    await user.click("Да, отменить")
    assert "Запись отменена" in user.bot_messages[-2].text


async def test_a_reminder_of_several_patients_names_each(
    harness: BotHarness, clock: ManualClock
) -> None:
    parent = harness.user(4022, "Пётр")
    await book(parent, PETROV, day="ср 02.12 · 08:00–10:00", time="08:00", consent=True)
    await book(
        parent, SIDOROVA, day="ср 02.12 · 08:00–20:00", time="09:00", consent=False, surgeon=True
    )
    await run(harness, clock, at(1, 20, 59))
    [digest] = reminders_of(parent)
    assert "несколько приёмов" in digest
    petrov, sidorova = digest.index("Петров П. П."), digest.index("Сидорова М. И.")
    # Each name stands with its own visit: the 08:00 one first.
    assert digest.index("08:00") < petrov < digest.index("09:00") < sidorova
