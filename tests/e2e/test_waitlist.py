"""The waitlist end to end (issue 15): join, a cancellation frees a time, the first in line
is offered it with a hold nobody else can book through, the hold runs out and passes on, the
next one books it; a restart during a hold; the state's guarantee on waiting times."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.config import WaitlistSettings
from bot.services.clock import ManualClock
from bot.standin.client import SimUser
from bot.standin.harness import BotHarness
from db.models import Booking, BookingStatus, OfferState, SlotOffer, WaitlistEntry, WaitlistState
from tests.e2e.conftest import ADMIN_ID
from tests.e2e.custom_clinic import clinic_harness
from tests.e2e.flow import PETROV, SIDOROVA, identify

CLINIC = Path(__file__).with_name("waitlist_clinic.toml")
VOLKOV = {"oms": "7788899730853197", "document": "228641", "birth_date": "18.08.1960"}
ORG = "Поликлиника № 7"
THERAPIST = "Приём терапевта"
IVANOVA = "Врач-терапевт — Иванова А. П."
WEDNESDAY = "ср 02.12 · 08:00–09:00"
WAIT = "🔔 Сообщить, когда появится время"


async def open_days(user: SimUser, *, service: str = THERAPIST, doctor: str = IVANOVA) -> None:
    await user.send("/start")
    await user.click(ORG)
    await user.click(service)
    await user.click(doctor)


async def book(user: SimUser, patient: dict[str, str], *, time: str) -> None:
    await open_days(user)
    await user.click(WEDNESDAY)
    await user.click(time)
    await user.click("Принимаю")
    await identify(user, patient)
    assert "Вы успешно записались" in user.bot_messages[-2].text


async def join(user: SimUser) -> None:
    await open_days(user)
    await user.click(WAIT)
    assert "Ждать только этого врача" in user.last_bot_message.text
    await user.click("Только к этому врачу")
    assert "Вы в листе ожидания" in user.last_bot_message.text


async def cancel_first(user: SimUser) -> None:
    await user.send("/my")
    await user.click(user.buttons()[0][0])
    await user.click("Отменить запись")
    await user.click("Да, отменить")


def offers_to(user: SimUser) -> list[str]:
    return [m.text or "" for m in user.bot_messages if "Освободилось время" in (m.text or "")]


async def wednesday_open(user: SimUser) -> bool:
    """Whether the doctor's Wednesday has a free time for this user now (a full day is ✖)."""
    await open_days(user)
    labels = [label for row in user.buttons() for label in row]
    assert WEDNESDAY in labels or "✖ ср 02.12" in labels, labels
    return WEDNESDAY in labels


async def active_at(harness: BotHarness) -> list[int]:
    async with harness.database.sessions() as session:
        found = await session.scalars(
            select(Booking.telegram_user_id).where(Booking.status == BookingStatus.ACTIVE)
        )
        return sorted(user for user in found if user is not None)


async def test_a_freed_time_is_held_for_the_first_in_line_then_passed_on(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with clinic_harness(tmp_path, clock, CLINIC) as harness:
        booker, first, second, other = (harness.user(n, "П") for n in (2001, 2002, 2003, 2004))
        await book(booker, PETROV, time="08:00")
        await book(other, VOLKOV, time="08:30")
        # The doctor's horizon is full now.
        assert not await wednesday_open(first)
        await join(first)
        await join(second)
        await first.click("Мои записи")
        assert "Лист ожидания" in first.last_bot_message.text
        assert ["Отказаться: Иванова А. П."] in first.buttons()

        await cancel_first(booker)
        [offer] = offers_to(first)
        assert "ср, 2 декабря 2026 г., 08:00" in offer or "2 декабря" in offer
        assert "до 09:15" in offer
        assert offers_to(second) == []
        # Nobody else can book the held time: the day shows no free time to anyone else.
        assert not await wednesday_open(second)

        # The hold runs out: the time passes to the next in line.
        clock.advance(timedelta(minutes=16))
        assert await harness.pass_on_held() == 1
        [offer] = offers_to(second)
        assert "до 09:31" in offer
        # The first one's button now says so, with the doctor's free times.
        first_offer = next(m for m in first.bot_messages if "Освободилось время" in (m.text or ""))
        await first.click("Записаться", message_id=first_offer.message_id)
        assert "истекло" in first.last_bot_message.text

        # The second one books it.
        second_offer = next(
            m for m in second.bot_messages if "Освободилось время" in (m.text or "")
        )
        await second.click("Записаться", message_id=second_offer.message_id)
        await second.click("Принимаю")
        await identify(second, SIDOROVA)
        assert "Вы успешно записались" in second.bot_messages[-2].text
        assert "08:00" in second.bot_messages[-2].text
        assert await active_at(harness) == [2003, 2004]
        async with harness.database.sessions() as session:
            rows = await session.execute(
                select(WaitlistEntry.telegram_user_id, WaitlistEntry.state)
            )
            states = {row[0]: row[1] for row in rows}
            assert states == {2002: WaitlistState.WAITING, 2003: WaitlistState.BOOKED}


async def test_another_account_cannot_use_an_offer_and_declining_passes_it_on(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with clinic_harness(tmp_path, clock, CLINIC) as harness:
        booker, first, second = (harness.user(n, "П") for n in (2101, 2102, 2103))
        await book(booker, PETROV, time="08:00")
        await book(harness.user(2104, "В"), VOLKOV, time="08:30")
        await join(first)
        await join(second)
        await cancel_first(booker)
        offer = next(m for m in first.bot_messages if "Освободилось время" in (m.text or ""))
        # The same button pressed by someone else (a forged or forwarded press) does nothing.
        [[take, _]] = offer.inline_keyboard
        own = second.last_bot_message.message_id
        answer = await second.click_data(str(take["callback_data"]), own)
        assert answer is not None
        assert "другому пользователю" in (answer.text or "")
        await first.click("Не подходит", message_id=offer.message_id)
        assert "передано следующему" in first.last_bot_message.text
        assert len(offers_to(second)) == 1


async def test_a_hold_survives_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    async with clinic_harness(tmp_path, clock, CLINIC) as harness:
        booker, first, second = (harness.user(n, "П") for n in (2201, 2202, 2203))
        await book(booker, PETROV, time="08:00")
        await book(harness.user(2204, "В"), VOLKOV, time="08:30")
        await join(first)
        await cancel_first(booker)
        assert len(offers_to(first)) == 1

        await harness.restart_bot()
        clock.advance(timedelta(minutes=5))
        assert await harness.pass_on_held() == 0  # still held
        assert not await wednesday_open(second)
        offer = next(m for m in first.bot_messages if "Освободилось время" in (m.text or ""))
        await first.click("Записаться", message_id=offer.message_id)
        await first.click("Принимаю")
        await identify(first, SIDOROVA)
        assert "Вы успешно записались" in first.bot_messages[-2].text
        async with harness.database.sessions() as session:
            assert await session.scalar(select(SlotOffer.state)) is OfferState.TAKEN


async def test_the_guarantee_message_appears_only_past_the_limit(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with clinic_harness(tmp_path, clock, CLINIC) as harness:
        user = harness.user(2301, "П")
        # The therapist's first free time is 23 h away: within the 24 h guarantee.
        await open_days(user)
        assert "гарантированный срок" not in user.last_bot_message.text
        # The neurologist's is on Friday: past one working day.
        await open_days(user, service="Приём невролога", doctor="Врач-невролог — Гареев Р.")
        text = user.last_bot_message.text
        assert "Свободного времени в гарантированный срок нет" in text
        assert "1 рабочих дней" in text or "рабочих дн" in text
        assert "+7 (495) 777-77-77" in text
        assert [WAIT] in user.buttons()

        admin = harness.user(ADMIN_ID, "Админ")
        await admin.send("/waiting")
        report = admin.last_bot_message.text
        assert "Приём невролога" in report
        assert "1 пациент не нашёл" in report
        assert "Приём терапевта:" not in report


async def test_booking_meanwhile_ends_the_entry_and_the_limit_of_entries(
    tmp_path: Path, clock: ManualClock
) -> None:
    waitlist = WaitlistSettings(max_entries=1)
    async with clinic_harness(tmp_path, clock, CLINIC, waitlist=waitlist) as harness:
        booker, first, second = (harness.user(n, "П") for n in (2401, 2402, 2403))
        await book(booker, PETROV, time="08:00")
        await book(harness.user(2404, "В"), VOLKOV, time="08:30")
        await join(first)
        # One entry is the limit here: a second one is refused with the reason.
        await open_days(first, service="Приём невролога", doctor="Врач-невролог — Гареев Р.")
        await first.click(WAIT)
        answer = await first.click("Только к этому врачу")
        assert answer is not None
        assert "не больше 1" in (answer.text or "")
        await join(second)
        # The first one books a later Wednesday themselves: their wait ends.
        await open_days(first)
        await first.click("ср 09.12 · 08:00–09:00")
        await first.click("08:00")
        await first.click("Принимаю")
        await identify(first, SIDOROVA)
        assert "Вы успешно записались" in first.bot_messages[-2].text
        # So the freed time goes to the second one.
        await cancel_first(booker)
        assert offers_to(first) == []
        assert len(offers_to(second)) == 1


async def test_a_full_day_pressed_waits_for_that_day(tmp_path: Path, clock: ManualClock) -> None:
    async with clinic_harness(tmp_path, clock, CLINIC) as harness:
        booker, waiting = harness.user(2501, "П"), harness.user(2502, "М")
        await book(booker, PETROV, time="08:00")
        await book(harness.user(2503, "В"), VOLKOV, time="08:30")
        await open_days(waiting)
        await waiting.click("✖ ср 02.12")
        assert "всё время уже занято" in waiting.last_bot_message.text
        await waiting.click("Только к этому врачу")
        assert "Вы в листе ожидания" in waiting.last_bot_message.text
        await waiting.send("/my")
        assert "Иванова А. П., ср 02.12" in waiting.last_bot_message.text
        await cancel_first(booker)
        [offer] = offers_to(waiting)
        assert "08:00" in offer


async def test_leaving_the_waitlist_from_my_bookings(tmp_path: Path, clock: ManualClock) -> None:
    async with clinic_harness(tmp_path, clock, CLINIC) as harness:
        booker, leaving = harness.user(2601, "П"), harness.user(2602, "М")
        await book(booker, PETROV, time="08:00")
        await join(leaving)
        await leaving.send("/my")
        await leaving.click("Отказаться: Иванова А. П.")
        assert "больше не в листе ожидания" in leaving.last_bot_message.text
        await leaving.send("/my")
        assert "Лист ожидания" not in leaving.last_bot_message.text
        await cancel_first(booker)
        assert offers_to(leaving) == []
