from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.keyboards.callbacks import IdentityStep, OrgPick, SlotPick
from bot.services.catalog import bump_reference_version
from bot.services.clock import ManualClock
from bot.standin.harness import BotHarness
from db.models import Booking, BookingStatus, Consent, FsmRecord, Organization
from tests.e2e.flow import (
    DOCTOR,
    ORG,
    PETROV,
    SERVICE,
    SIDOROVA,
    WEDNESDAY,
    identify,
    open_day,
)

THURSDAY = "чт 03.12 · 08:00–09:00"


async def active_bookings(harness: BotHarness) -> list[Booking]:
    async with harness.database.sessions() as session:
        return list(
            (
                await session.scalars(select(Booking).where(Booking.status == BookingStatus.ACTIVE))
            ).all()
        )


async def test_closed_day_and_taken_time_answer_without_leaving_the_screen(
    harness: BotHarness,
) -> None:
    user = harness.user(3001, "Пётр")
    await open_day(user, day=THURSDAY)
    await user.click("08:00")
    await user.click("Принимаю")
    await identify(user, PETROV)

    await open_day(user, day=THURSDAY)
    grid_before = user.last_bot_message
    await user.click("Назад")
    grid = user.last_bot_message
    buttons_before = user.buttons(grid)
    answer = await user.click("✖ пт 04.12")
    assert answer is not None
    assert answer.text == "На эту дату запись невозможна"
    assert answer.show_alert
    assert user.buttons(grid) == buttons_before
    assert grid.edit_count == grid_before.edit_count

    await user.click(THURSDAY)
    assert user.buttons()[0] == ["✖ 08:00", "08:30"]
    answer = await user.click("✖ 08:00")
    assert answer is not None
    assert "занято" in (answer.text or "")

    # Once the last time is booked too, the day turns closed in the grid.
    other = harness.user(3002, "Мария")
    await open_day(other, day=THURSDAY)
    await other.click("08:30")
    await other.click("Принимаю")
    await identify(other, SIDOROVA)
    await user.click("Назад")
    assert "✖ чт 03.12" in [b for row in user.buttons() for b in row]


async def test_long_days_are_paged_within_telegram_limits(harness: BotHarness) -> None:
    user = harness.user(3003, "Пётр")
    await open_day(
        user,
        service="Приём хирурга",
        doctor="Врач-хирург — Петренко О. И.",
        day="ср 02.12 · 08:00–20:00",
    )
    rows = user.buttons()
    assert rows[0] == ["08:00", "08:15", "08:30", "08:45"]
    assert rows[-2] == ["Стр. 1 из 2", "Позже ▶"]
    assert sum(len(r) for r in rows) <= 100
    assert all(len(r) <= 8 for r in rows)
    await user.click("Позже ▶")
    assert user.buttons()[0] == ["14:00", "14:15", "14:30", "14:45"]
    assert user.buttons()[-2] == ["◀ Раньше", "Стр. 2 из 2"]
    await user.click("Стр. 2 из 2")  # the page indicator only acknowledges the press
    await user.click("◀ Раньше")
    assert user.buttons()[0][0] == "08:00"


async def test_back_at_every_step(harness: BotHarness) -> None:
    user = harness.user(3004, "Пётр")
    await user.send("/start")
    await user.click(ORG)
    await user.click("Назад")
    assert "Выберите медицинскую организацию" in user.last_bot_message.text
    await user.click(ORG)
    await user.click(SERVICE)
    await user.click("Назад")
    assert "Выберите услугу" in user.last_bot_message.text
    await user.click(SERVICE)
    await user.click(DOCTOR)
    await user.click("Назад")
    assert "Выберите врача" in user.last_bot_message.text
    await user.click(DOCTOR)
    await user.click(WEDNESDAY)
    await user.click("Назад")
    assert "Выберите день" in user.last_bot_message.text
    await user.click(WEDNESDAY)
    await user.click("08:00")
    assert "Согласие" in user.last_bot_message.text
    await user.click("Назад")
    assert "Выберите время" in user.last_bot_message.text
    await user.click("08:00")
    await user.click("Принимаю")
    await user.click("Назад")  # from step 1: back to the times (the consent is given)
    assert "Выберите время" in user.last_bot_message.text
    await user.click("09:00")
    assert "Шаг 1 из 3" in user.last_bot_message.text
    assert "09:00" in user.last_bot_message.text
    await user.send(PETROV["oms"])
    await user.click("Назад")
    assert "Шаг 1 из 3" in user.last_bot_message.text
    await user.send(PETROV["oms"])
    await user.send(PETROV["document"])
    await user.click("Назад")
    assert "Шаг 2 из 3" in user.last_bot_message.text
    await user.send(PETROV["document"])
    await user.send(PETROV["birth_date"])
    assert "Вы успешно записались" in user.bot_messages[-2].text
    assert "09:00" in user.bot_messages[-2].text
    bookings = await active_bookings(harness)
    assert len(bookings) == 1


async def test_two_patients_race_for_one_slot(harness: BotHarness) -> None:
    first, second = harness.user(3005, "Пётр"), harness.user(3006, "Мария")
    for user, patient in ((first, PETROV), (second, SIDOROVA)):
        await open_day(user)
        await user.click("08:00")
        await user.click("Принимаю")
        await user.send(patient["oms"])
        await user.send(patient["document"])

    await asyncio.gather(first.send(PETROV["birth_date"]), second.send(SIDOROVA["birth_date"]))

    bookings = await active_bookings(harness)
    assert len(bookings) == 1
    winner, loser = (first, second) if first.documents else (second, first)
    assert winner.documents
    assert not loser.documents
    told = loser.last_bot_message
    assert "только что заняли" in told.text
    assert loser.buttons(told)[0][0] == "✖ 08:00"
    # The loser is still identified: choosing another time books at once.
    await loser.click("08:30")
    assert "Вы успешно записались" in loser.bot_messages[-2].text
    assert len(await active_bookings(harness)) == 2


async def test_restart_keeps_the_choice_and_asks_the_typed_numbers_again(
    harness: BotHarness,
) -> None:
    """Typed numbers live only in this process (sealed with its key); the choice survives."""
    user = harness.user(3007, "Пётр")
    await open_day(user)
    await user.click("09:30")
    await user.click("Принимаю")
    await user.send(PETROV["oms"])
    await user.send(PETROV["document"])
    assert "Шаг 3 из 3" in user.last_bot_message.text
    await harness.restart_bot()
    await user.send(PETROV["birth_date"])
    asked = user.last_bot_message.text
    assert "Бот перезапускался" in asked
    assert "Шаг 1 из 3" in asked
    assert "09:30" in asked  # the chosen time is still there
    await user.send(PETROV["oms"])
    await harness.restart_bot()
    await user.send(PETROV["document"])
    # The OMS number typed before this restart is gone too: asked at once, not at step 3.
    assert "Бот перезапускался" in user.last_bot_message.text
    await identify(user, PETROV)
    assert "Вы успешно записались" in user.bot_messages[-2].text
    assert len(await active_bookings(harness)) == 1


async def test_an_idle_dialogue_expires_and_old_buttons_say_so(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(3008, "Пётр")
    await open_day(user)
    await user.click("08:00")
    await user.click("Принимаю")
    await user.send(PETROV["oms"])  # an identity value now sits in the dialogue state

    clock.advance(timedelta(minutes=11))
    await user.send(PETROV["document"])
    assert "Записаться к врачу" in user.buttons()[0]  # treated as a fresh chat
    # ...and the number typed after the expiry does not stay in the chat.
    assert all(PETROV["document"] not in (m.text or "") for m in user.messages)

    prompt = [m for m in user.bot_messages if "Шаг 1 из 3" in (m.text or "")][-1]
    await user.send("/start")
    clock.advance(timedelta(minutes=11))
    answer = await user.click(ORG)
    assert answer is not None
    assert "завершён" in (answer.text or "")
    assert "Сеанс записи завершён" in user.last_bot_message.text
    assert user.buttons() == [["В начало"]]
    assert prompt.text is not None

    async with harness.database.sessions() as session:
        storage_rows = (await session.scalars(select(FsmRecord))).all()
    assert all(PETROV["oms"] not in str(r.data) for r in storage_rows)

    await user.click("В начало")
    await user.click(ORG)
    assert "Выберите услугу" in user.last_bot_message.text


async def test_expired_dialogues_are_purged_from_the_database(
    harness: BotHarness, clock: ManualClock
) -> None:
    from bot.app import create_dispatcher
    from bot.fsm_storage import SqlAlchemyStorage

    user = harness.user(3009, "Пётр")
    await open_day(user)
    await user.click("08:00")
    await user.click("Принимаю")
    await user.send(PETROV["oms"])
    clock.advance(timedelta(minutes=11))
    storage = create_dispatcher(harness.database, settings=harness.settings, clock=clock).storage
    assert isinstance(storage, SqlAlchemyStorage)
    assert await storage.purge_expired() == 1
    async with harness.database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 0


async def test_forged_foreign_and_garbage_buttons_change_nothing(harness: BotHarness) -> None:
    user = harness.user(3010, "Пётр")
    await open_day(user)
    screen = user.last_bot_message
    before = user.buttons(screen)

    # A well-formed button of another dialogue (another session id).
    answer = await user.click_data(SlotPick(s="deadbeef", svc=1, slot=1).pack(), screen.message_id)
    assert answer is not None
    assert "завершён" in (answer.text or "")
    # Garbage and an unknown prefix.
    await user.send("/start")
    menu = user.last_bot_message
    for data in ("garbage", "o:zz", "sl:::", "x" * 64):
        answer = await user.click_data(data, menu.message_id)
        assert answer is not None
    assert len(await active_bookings(harness)) == 0
    assert before  # the original screen had buttons

    # A forged id inside the current dialogue: refused, no exception.
    await user.send("/start")
    menu = user.last_bot_message
    sid = OrgPick.unpack(menu.inline_keyboard[0][0]["callback_data"]).s
    answer = await user.click_data(OrgPick(s=sid, org=999).pack(), menu.message_id)
    assert answer is not None
    assert answer.show_alert
    answer = await user.click_data(SlotPick(s=sid, svc=1, slot=99999).pack(), menu.message_id)
    assert answer is not None
    assert len(await active_bookings(harness)) == 0


async def test_text_where_a_button_is_expected(harness: BotHarness) -> None:
    user = harness.user(3011, "Пётр")
    await user.send("привет")
    assert user.buttons() == [["Записаться к врачу"]]
    await user.click("Записаться к врачу")
    assert "Выберите медицинскую организацию" in user.last_bot_message.text
    await user.send("Поликлиника № 1")
    assert "кнопкой" in user.last_bot_message.text
    await user.send("/help")
    assert "/start" in user.last_bot_message.text


async def test_long_lists_of_organizations_are_paged(harness: BotHarness) -> None:
    async with harness.database.sessions() as session:
        session.add_all(
            Organization(
                code=f"extra{n}",
                name=f"Поликлиника № {n}",
                short_name=f"Поликлиника № {n}",
                address="г. Москва",
                phone="+7 (495) 000-00-00",
                timezone="Europe/Moscow",
            )
            for n in range(10, 30)
        )
        # As an import does: running bots reload their cached reference data.
        await bump_reference_version(session)
        await session.commit()
    user = harness.user(3012, "Пётр")
    await user.send("/start")
    rows = user.buttons()
    assert len(rows) == 10  # eight organizations, the paging row, «Мои записи»
    assert rows[-2] == ["Стр. 1 из 3", "Позже ▶"]
    assert rows[-1] == ["Мои записи"]
    await user.click("Позже ▶")
    await user.click("Позже ▶")
    assert user.buttons()[-2] == ["◀ Раньше", "Стр. 3 из 3"]
    last_page = [row[0] for row in user.buttons()[:-2]]
    assert len(last_page) == 22 - 16
    await user.click(last_page[-1])
    assert "Выберите услугу" in user.last_bot_message.text or "нет услуг" in (
        user.last_bot_message.text
    )


async def test_a_forged_step_button_cannot_skip_the_consent(harness: BotHarness) -> None:
    user = harness.user(3013, "Пётр")
    await open_day(user)
    await user.click("08:00")
    consent = user.last_bot_message
    sid = consent.inline_keyboard[0][0]["callback_data"].split(":")[1]
    for step in (1, 2, 3):
        answer = await user.click_data(IdentityStep(s=sid, step=step).pack(), consent.message_id)
        assert answer is not None
        assert answer.show_alert
    assert "Согласие" in user.last_bot_message.text
    async with harness.database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Consent)) == 0


async def test_out_of_range_numbers_in_buttons_are_refused_cleanly(harness: BotHarness) -> None:
    user = harness.user(3014, "Пётр")
    await user.send("/start")
    menu = user.last_bot_message
    sid = menu.inline_keyboard[0][0]["callback_data"].split(":")[1]
    for data in (
        f"sl:{sid}:1:99999999999999999999",
        f"o:{sid}:-5:0",
        f"id:{sid}:7",
        f"dy:{sid}:1:1:2026120:0",
        f"ol:{sid}:100000",
    ):
        answer = await user.click_data(data, menu.message_id)
        assert answer is not None


async def test_fast_typing_and_double_taps_of_one_patient_stay_consistent(
    harness: BotHarness,
) -> None:
    user = harness.user(3015, "Пётр")
    await asyncio.gather(user.send("/start"), user.send("/start"))
    await user.click(ORG)
    await user.click(SERVICE)
    await user.click(DOCTOR)
    await user.click(WEDNESDAY)
    await asyncio.gather(user.click("08:00"), user.click("08:00"))
    await user.click("Принимаю")
    # Both answers typed before the bot replied to the first one.
    await asyncio.gather(user.send(PETROV["oms"]), user.send(PETROV["document"]))
    assert "Шаг 3 из 3" in user.last_bot_message.text
    await user.send(PETROV["birth_date"])
    assert "Вы успешно записались" in user.bot_messages[-2].text
    assert len(await active_bookings(harness)) == 1


async def test_typed_identity_numbers_do_not_stay_in_the_chat(harness: BotHarness) -> None:
    user = harness.user(3016, "Пётр")
    await open_day(user)
    await user.click("08:00")
    await user.click("Принимаю")
    await user.send("12ab")  # a malformed value is removed too
    await identify(user, PETROV)
    typed = [m for m in user.messages if not m.from_bot and not (m.text or "").startswith("/")]
    assert typed == []
    visible = " ".join(m.text or m.caption or "" for m in user.messages)
    for value in PETROV.values():
        assert value not in visible
