from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.services.clock import ManualClock
from bot.standin.client import SimUser
from bot.standin.harness import BotHarness
from db.models import Booking
from tests.e2e.flow import PETROV, SIDOROVA, identify, open_day

LOGIN_FAILED = "Вход невозможен, проверьте, что данные введены верно"


async def reach_identification(user: SimUser) -> None:
    await open_day(user)
    await user.click("08:00")
    await user.click("Принимаю")


async def bookings(harness: BotHarness) -> int:
    async with harness.database.sessions() as session:
        return int(await session.scalar(select(func.count(Booking.id))) or 0)


@pytest.mark.parametrize(
    "patient",
    [
        pytest.param({**PETROV, "birth_date": "15.03.1985"}, id="wrong-birth-date"),
        pytest.param({**PETROV, "document": "654321"}, id="someone-elses-document"),
        pytest.param(
            {"oms": "7788899730000757", "document": "111111", "birth_date": "01.01.1970"},
            id="unknown-patient",
        ),
        pytest.param({**SIDOROVA, "oms": PETROV["oms"]}, id="mixed-patients"),
    ],
)
async def test_failed_identification_never_says_which_field(
    harness: BotHarness, patient: dict[str, str]
) -> None:
    user = harness.user(2001, "Пётр")
    await reach_identification(user)
    await identify(user, patient)
    failure = user.last_bot_message
    assert failure.text.startswith(LOGIN_FAILED)
    assert "опечатка" in failure.text
    assert "регистратуру" in failure.text
    assert user.buttons(failure) == [["Попробовать снова"], ["В начало"]]
    for word in ("полис", "документ", "дата рождения"):
        # The causes mention each value only in the general advice, never as "the wrong one".
        assert f"неверн{word}" not in failure.text.lower()
    assert await bookings(harness) == 0

    await user.click("Попробовать снова")
    assert "Шаг 1 из 3" in user.last_bot_message.text
    await identify(user, PETROV)
    assert "Вы успешно записались" in user.bot_messages[-2].text
    assert await bookings(harness) == 1


async def test_the_failure_text_is_the_same_for_every_cause(harness: BotHarness) -> None:
    first, second = harness.user(2002, "А"), harness.user(2003, "Б")
    await reach_identification(first)
    await identify(first, {**PETROV, "birth_date": "15.03.1985"})
    await open_day(second)
    await second.click("08:30")
    await second.click("Принимаю")
    await identify(second, {"oms": "123456780", "document": "999999", "birth_date": "01.01.1990"})
    assert first.last_bot_message.text == second.last_bot_message.text


@pytest.mark.parametrize(
    ("step", "typed", "expected"),
    [
        (1, "77888997300007AB", "цифр"),
        (1, "7788899730000766", "контрольн"),
        (1, "12345", "цифр"),
        (2, "IV-АИ 123456", "без серии"),
        (2, "4510 123456", "серии"),
        (2, "112-233-445 96", "СНИЛС"),
        (3, "31.02.1990", "дат"),
        (3, "14-03", "ДД.ММ.ГГГГ"),
        (3, "01.01.2030", "позже сегодняшней"),
        (3, "01.01.1800", "больше 125 лет"),
    ],
)
async def test_malformed_values_are_explained_and_the_prompt_repeats(
    harness: BotHarness, step: int, typed: str, expected: str
) -> None:
    user = harness.user(2004, "Пётр")
    await reach_identification(user)
    values = [PETROV["oms"], PETROV["document"], PETROV["birth_date"]]
    for value in values[: step - 1]:
        await user.send(value)
    await user.send(typed)
    reply = user.last_bot_message
    assert expected.lower() in reply.text.lower(), reply.text
    assert f"Шаг {step} из 3" in reply.text
    # Nothing the patient typed is echoed back.
    assert typed not in reply.text
    for value in values[step - 1 :]:
        await user.send(value)
    assert "Вы успешно записались" in user.bot_messages[-2].text


async def test_repeated_failures_lock_the_account_out_for_a_while(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(2006, "Пётр")
    await reach_identification(user)
    wrong = {**PETROV, "birth_date": "15.03.1985"}
    for _ in range(harness.settings.booking.max_failed_identifications):
        await identify(user, wrong)
        assert user.last_bot_message.text.startswith(LOGIN_FAILED)
        await user.click("Попробовать снова")
    # Even the right values are not looked up now.
    await identify(user, PETROV)
    assert "Слишком много неудачных попыток" in user.last_bot_message.text
    assert await bookings(harness) == 0

    clock.advance(timedelta(minutes=61))
    await open_day(user)
    await user.click("08:00")  # the consent is on record: straight to the prompts
    await identify(user, PETROV)
    assert "Вы успешно записались" in user.bot_messages[-2].text
