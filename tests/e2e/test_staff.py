from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.standin.harness import BotHarness
from bot.standin.store import StoredMessage
from db.models import (
    AuditEntry,
    Booking,
    BookingStatus,
    OutboxMessage,
    OutboxState,
    StaffMember,
    TelegramChat,
)
from tests.e2e.conftest import ADMIN_ID
from tests.e2e.flow import PETROV, SIDOROVA, identify, open_day

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
    assert [line.split(" — ")[1].split()[0].rstrip(",") for line in lines] == [
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
    for data in (
        f"sc:{booking_id}:0",
        f"sc:{booking_id}:1",
        f"sm:{booking_id}:0:0",
        f"sm:{booking_id}:5:1",
        "cl:1",
    ):
        answer = await patient.click_data(data, patient.last_bot_message.message_id)
        assert answer is not None
        assert "завершён" in (answer.text or "")
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        assert booking.status is BookingStatus.ACTIVE
    assert ticket


async def test_closing_a_day_tells_each_patient_once_with_alternatives(
    harness: BotHarness,
) -> None:
    first, second = harness.user(7300, "Пётр"), harness.user(7301, "Мария")
    for user, patient, time_ in ((first, PETROV, "08:00"), (second, SIDOROVA, "08:30")):
        await open_day(user)
        await user.click(time_)
        await user.click("Принимаю")
        await identify(user, patient)
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/close ivanova 02.12.2026 Врач на больничном")
    confirm = admin.last_bot_message.text
    assert "весь день" in confirm
    assert "Записей в это время: 2" in confirm
    await admin.click("Закрыть")
    assert "Отменено записей: 2, пациентов уведомлено: 2" in admin.last_bot_message.text

    for user in (first, second):
        notices = [m for m in user.bot_messages if "отменена регистратурой" in (m.text or "")]
        assert len(notices) == 1
        assert "Причина: Врач на больничном" in notices[0].text
        offered = [row[0] for row in user.buttons(notices[0])[:-1]]
        # The same doctor's nearest free times first.
        assert offered == [
            "вт 01.12 09:30 · Иванова А. П.",
            "вт 01.12 10:00 · Иванова А. П.",
            "вт 01.12 10:30 · Иванова А. П.",
        ]
    await first.click("вт 01.12 09:30 · Иванова А. П.")
    assert "Вы успешно записались" in first.bot_messages[-2].text
    assert first.last_bot_message.document is not None
    # The same offer taken meanwhile is refused cleanly, with what is free now.
    answer = await second.click("вт 01.12 09:30 · Иванова А. П.")
    assert answer is not None
    assert "уже заняли" in (answer.text or "")
    assert second.buttons()[0] == ["вт 01.12 10:00 · Иванова А. П."]
    await second.click("вт 01.12 10:00 · Иванова А. П.")
    assert "Вы успешно записались" in second.bot_messages[-2].text
    # An offer is taken only once.
    notice = next(m for m in first.bot_messages if "отменена регистратурой" in (m.text or ""))
    answer = await first.click("вт 01.12 10:30 · Иванова А. П.", message_id=notice.message_id)
    assert answer is not None
    assert "уже записались" in (answer.text or "")

    # The closed day accepts no bookings; reopening brings it back.
    patient = harness.user(7302, "Анна")
    await patient.send("/start")
    await patient.click("Поликлиника № 1")
    await patient.click("Приём терапевта")
    await patient.click("Врач-терапевт — Иванова А. П.")
    assert "✖ ср 02.12" in [b for row in patient.buttons() for b in row]
    await admin.send("/reopen ivanova 02.12.2026")
    assert "открыт снова" in admin.last_bot_message.text
    await patient.click("Назад")
    await patient.click("Врач-терапевт — Иванова А. П.")
    assert "ср 02.12 · 08:00–10:00" in [b for row in patient.buttons() for b in row]
    async with harness.database.sessions() as session:
        bookings = (await session.scalars(select(Booking).order_by(Booking.id))).all()
        assert [b.status for b in bookings] == [
            BookingStatus.CANCELLED,
            BookingStatus.CANCELLED,
            BookingStatus.ACTIVE,
            BookingStatus.ACTIVE,
        ]


async def test_closing_a_time_range_keeps_the_rest_of_the_day(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/close ivanova 02.12.2026 08:00-09:00 Совещание")
    assert "08:00–09:00" in admin.last_bot_message.text
    await admin.click("Закрыть")
    await admin.send("/day ivanova 02.12.2026")
    day = admin.last_bot_message.text
    assert "08:00 — закрыто" in day
    assert "08:30 — закрыто" in day
    assert "09:00 — свободно" in day
    await admin.send("/close ivanova 02.12.2026")
    assert "/close" in admin.last_bot_message.text  # usage: the reason is required


async def test_staff_move_with_confirmation_tells_the_patient_and_sends_a_ticket(
    harness: BotHarness,
) -> None:
    ticket = await book_petrov(harness)
    patient = harness.user(7100, "Пётр")
    documents = len(patient.documents)
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send(f"/find {ticket}")
    await admin.click("Перенести")
    assert "Перенос талона" in admin.last_bot_message.text
    await admin.click("чт 03.12 · 08:00–09:00")
    await admin.click("08:30")
    assert "Перенести талон" in admin.last_bot_message.text
    await admin.click("Нет")
    assert "Запись оставлена" in admin.last_bot_message.text
    await admin.send(f"/find {ticket}")
    await admin.click("Перенести")
    await admin.click("чт 03.12 · 08:00–09:00")
    await admin.click("08:30")
    await admin.click("Да, перенести")
    assert "перенесён на четверг, 3 декабря 2026 г., 08:30" in admin.last_bot_message.text
    assert "Пациент уведомлён" in admin.last_bot_message.text
    notice = [m for m in patient.bot_messages if "Регистратура перенесла" in (m.text or "")]
    assert len(notice) == 1
    assert len(patient.documents) == documents + 1
    await admin.send(f"/history {ticket}")
    assert (
        "перенос 02.12.2026 08:00 → 03.12.2026 08:30, регистратура 7000"
        in admin.last_bot_message.text
    )
    # The old time is free again.
    other = harness.user(7101, "Мария")
    await open_day(other)
    await other.click("08:00")


async def test_a_blocked_patient_is_not_counted_as_told(harness: BotHarness) -> None:
    await book_petrov(harness)
    harness.server.block(7100)
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/close ivanova 02.12.2026 Врач на больничном")
    await admin.click("Закрыть")
    assert "пациентов уведомлено: 0" in admin.last_bot_message.text
    async with harness.database.sessions() as session:
        chat = await session.get(TelegramChat, 7100)
        assert chat is not None
        assert chat.unreachable_at is not None


async def test_staff_review_cases(harness: BotHarness) -> None:
    await book_petrov(harness)
    admin = harness.user(ADMIN_ID, "Админ")
    # A command during the reason prompt leaves it instead of becoming the reason.
    await admin.send("/find Петров")
    await admin.click("Отменить с причиной")
    await admin.send("/start")
    assert "Выберите медицинскую организацию" in admin.last_bot_message.text
    # An older /close's buttons cannot confirm a newer one.
    await admin.send("/close ivanova 02.12.2026 08:00-08:30 Первое")
    first = admin.last_bot_message
    await admin.send("/close ivanova 03.12.2026 Второе")
    answer = await admin.click("Закрыть", message_id=first.message_id)
    assert answer is not None
    assert "завершён" in (answer.text or "")
    # A range overlapping a visit's start catches it: 08:00–08:30 is inside 08:15–09:00.
    await admin.send("/close ivanova 02.12.2026 08:15-09:00 Совещание")
    assert "Записей в это время: 1" in admin.last_bot_message.text
    await admin.click("Закрыть")
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        assert booking.status is BookingStatus.CANCELLED


async def test_a_forged_offer_on_a_booking_the_patient_cancelled_is_refused(
    harness: BotHarness,
) -> None:
    await book_petrov(harness)
    patient = harness.user(7100, "Пётр")
    await patient.send("/my")
    await patient.click(patient.buttons()[0][0])
    await patient.click("Отменить запись")
    await patient.click("Да, отменить")
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
    answer = await patient.click_data(f"ab:{booking.id}:3", patient.bot_messages[-2].message_id)
    assert answer is not None
    assert "не найдена" in (answer.text or "")


async def test_reopening_part_of_a_closed_day(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/close gp1:ivanova 02.12 Учёба")
    await admin.click("Закрыть")
    await admin.send("/reopen ivanova 02.12.2026 09:00-10:00")
    assert "открыт снова" in admin.last_bot_message.text
    await admin.send("/day ivanova 02.12")
    day = admin.last_bot_message.text
    assert "08:00 — закрыто" in day
    assert "08:30 — закрыто" in day
    assert "09:00 — свободно" in day
    assert "09:30 — свободно" in day
    await admin.send("/day")
    assert "gp1:ivanova — Иванова Анна Петровна" in admin.last_bot_message.text
    ticket_free = await book_petrov(harness, time="09:00")
    await admin.send(f"/find {ticket_free.replace('-', ' ').lower()}")
    assert f"Талон № {ticket_free}" in admin.last_bot_message.text


async def test_a_notice_under_repeated_flood_control_is_queued_and_arrives_once(
    harness: BotHarness,
) -> None:
    ticket = await book_petrov(harness)
    patient = harness.user(7100, "Пётр")
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send(f"/find {ticket}")
    await admin.click("Отменить с причиной")
    await admin.send("Врач на больничном")
    harness.server.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        count=3,
    )
    await admin.click("Да, отменить")
    # Telegram said "wait": the registrar learns the notice is queued, not lost.
    assert "в очереди" in admin.last_bot_message.text

    def notices() -> list[StoredMessage]:
        return [m for m in patient.bot_messages if "отменена регистратурой" in (m.text or "")]

    # The outbox's dispatcher waits out each retry_after and sends it once the limit lifts.
    await harness.server.wait_for(notices, timeout=20)
    assert harness.outbox is not None
    await harness.outbox.drain()  # its "sent" mark follows the message
    async with harness.database.sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "notice"))
    assert row is not None
    assert row.state is OutboxState.SENT
    assert row.attempts == 0  # flood control is Telegram's load: no attempt was spent
    assert len(notices()) == 1


async def test_a_patient_cancel_racing_a_staff_cancel_ends_consistent(
    harness: BotHarness,
) -> None:
    ticket = await book_petrov(harness)
    patient = harness.user(7100, "Пётр")
    admin = harness.user(ADMIN_ID, "Админ")
    await patient.send("/my")
    await patient.click(patient.buttons()[0][0])
    await patient.click("Отменить запись")
    await admin.send(f"/find {ticket}")
    await admin.click("Отменить с причиной")
    await admin.send("Врач на больничном")
    await asyncio.gather(patient.click("Да, отменить"), admin.click("Да, отменить"))
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        assert booking.status is BookingStatus.CANCELLED
        assert booking.revision == 1
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.booking_id == booking.id)
            )
        ).all()
        assert sorted(actions) == ["booked", "cancelled"]


async def test_find_takes_a_new_ticket_number_however_it_was_dictated(
    harness: BotHarness,
) -> None:
    ticket = await book_petrov(harness)
    # New numbers are digits in three groups of three, as read aloud over the phone.
    groups = ticket.split(" ")
    assert [len(group) for group in groups] == [3, 3, 3], ticket
    assert all(group.isdigit() for group in groups), ticket
    assert not ticket.startswith("0"), ticket
    digits = "".join(groups)
    # The patient's files are named by the number without its spaces.
    patient = harness.user(7100, "Пётр")
    document = patient.documents[-1].document
    assert document is not None
    assert document.file_name == f"talon-{digits}.pdf"

    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/staff add 7001 gp1")
    registrar = harness.user(7001, "Регистратор")
    for typed in (
        ticket,
        digits,
        "-".join(groups),
        f"{groups[0]} {groups[1]}{groups[2]}",
        f"  {ticket}  ",
        f"{groups[0]}  {groups[1]} - {groups[2]}",
    ):
        before = len(registrar.bot_messages)
        await registrar.send(f"/find {typed}")
        # Nine digits are also as long as an OMS number, so the command may be deleted from
        # the chat first (bot/middlewares.py); the card is the answer, and the only one.
        cards = [m.text or "" for m in registrar.bot_messages[before:] if m.text]
        cards = [text for text in cards if "Талон №" in text]
        assert len(cards) == 1, typed
        assert cards[0] == registrar.last_bot_message.text, typed
        assert f"Талон № {ticket}" in cards[0], typed
        assert "Петров Пётр Петрович" in cards[0], typed
    # Grouped as printed it is a ticket, not a policy number: the command stays in the chat.
    before = len(registrar.bot_messages)
    await registrar.send(f"/history {ticket}")
    answers = [m.text or "" for m in registrar.bot_messages[before:]]
    assert not any("Команда удалена" in text for text in answers), answers
    assert f"История талона № {ticket}" in registrar.last_bot_message.text
    # Another number is not found by the digits' likeness.
    other = f"{digits[:-1]}{(int(digits[-1]) + 1) % 10}"
    await registrar.send(f"/find {other}")
    assert registrar.last_bot_message.text == "Ничего не найдено."


async def test_find_takes_an_old_ticket_number_typed_loosely(harness: BotHarness) -> None:
    await book_petrov(harness)
    # A booking made before the digits-only numbers keeps its old number.
    async with harness.database.sessions() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None
        booking.ticket_number = "LTQ5-VD92"
        await session.commit()
    admin = harness.user(ADMIN_ID, "Админ")
    for typed in ("LTQ5-VD92", "ltq5vd92", "LTQ5 VD92", " ltq5-vd92 "):
        await admin.send(f"/find {typed}")
        card = admin.last_bot_message.text or ""
        assert "Талон № LTQ5-VD92" in card, typed
        assert "Петров Пётр Петрович" in card, typed
