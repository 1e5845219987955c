"""Input that once broke replies (issue 9, finding 8): every answer stays short and clear.

The stand-in already fails a test on any request Telegram would reject (a text over 4,096
UTF-16 code units among them) and on any handler error, such as an OverflowError.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bot.services.staff import args as staff
from bot.standin.client import SimUser
from bot.standin.harness import BotHarness
from db.models import Closure, StaffMember, StaffRole
from tests.e2e.conftest import ADMIN_ID
from tests.e2e.flow import PETROV, open_day

EMOJI = "".join(chr(0x1F300 + i) for i in range(900))  # 900 distinct pictographs
# The format error comes with the prompt of its step; both together stay far below the limit.
SHORT = 500
SOMETHING_WRONG = "Что-то пошло не так"
TELEGRAM_LIMIT = 4096


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def at_step(user: SimUser, step: int) -> None:
    """Open the identification dialogue and answer its steps before `step` correctly."""
    await open_day(user)
    await user.click("08:00")
    await user.click("Принимаю")
    for value in (PETROV["oms"], PETROV["document"])[: step - 1]:
        await user.send(value)


async def finish_from(user: SimUser, step: int) -> None:
    for value in (PETROV["oms"], PETROV["document"], PETROV["birth_date"])[step - 1 :]:
        await user.send(value)
    assert "Вы успешно записались" in user.bot_messages[-2].text


def no_failure_shown(user: SimUser) -> None:
    assert not [m for m in user.bot_messages if SOMETHING_WRONG in (m.text or "")]


@pytest.mark.parametrize("step", [1, 2], ids=["oms", "document"])
async def test_900_emoji_get_a_short_format_error_and_the_dialogue_goes_on(
    harness: BotHarness, step: int
) -> None:
    user = harness.user(8001, "Пётр")
    await at_step(user, step)
    await user.send(EMOJI)
    reply = user.last_bot_message.text
    assert len(reply) < SHORT, len(reply)
    assert "лишние символы: «🌀», «🌁», «🌂» и другие" in reply
    assert f"Шаг {step} из 3" in reply
    no_failure_shown(user)
    await finish_from(user, step)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        pytest.param("7788<>&8997", "«<», «>», «&»", id="html-special"),
        pytest.param("7788\u202e8997\u200f", "служебный символ U+202E", id="rtl-marks"),
        pytest.param("7788\u0301" * 500, "служебный символ U+0301", id="combining"),
        pytest.param("1" * 4000, "4000 цифр", id="4000-digits"),
        pytest.param("7" * 2000 + "\u0000#", "служебный символ U+0000", id="long-and-control"),
    ],
)
async def test_hostile_oms_input_gets_a_short_answer_shown_as_typed(
    harness: BotHarness, typed: str, shown: str
) -> None:
    user = harness.user(8002, "Пётр")
    await at_step(user, 1)
    await user.send(typed)
    reply = user.last_bot_message
    assert shown in reply.text
    assert len(reply.text) < SHORT
    assert "Шаг 1 из 3" in reply.text
    # The handler escapes what it echoes: "<" reached Telegram as an entity, not as a tag.
    assert reply.html is not None
    assert "<>" not in reply.html
    no_failure_shown(user)
    await finish_from(user, 1)


async def test_digits_of_another_script_are_described_not_echoed(harness: BotHarness) -> None:
    user = harness.user(8003, "Пётр")
    await at_step(user, 2)
    fullwidth = "".join(chr(ord("０") + int(d)) for d in PETROV["document"])
    await user.send(fullwidth)
    reply = user.last_bot_message.text
    assert "цифра не из набора 0–9" in reply
    assert not set(fullwidth) & set(reply)
    await finish_from(user, 2)


DAY_RANGE = "с 01.12.2025 по 01.12.2027"  # a year either way of 01.12.2026, the test's today
PERIOD_RANGE = "с 01.12.2026 по 01.12.2027"  # closing or reopening: today to a year ahead


@pytest.mark.parametrize("typed", ["31.12.9999", "01.01.0001"])
@pytest.mark.parametrize(
    ("command", "window"),
    [
        ("/day ivanova {date}", DAY_RANGE),
        ("/close ivanova {date} Врач на больничном", PERIOD_RANGE),
        ("/reopen ivanova {date}", PERIOD_RANGE),
    ],
)
async def test_dates_beyond_the_range_are_answered_with_the_range(
    harness: BotHarness, command: str, window: str, typed: str
) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send(command.format(date=typed))
    reply = admin.last_bot_message.text
    assert reply == f"Дата {typed} вне допустимых пределов: для этой команды — {window}."
    async with harness.database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Closure)) == 0


@pytest.mark.parametrize(
    "command",
    [
        "/day ivanova {date}",
        "/close ivanova {date} Врач на больничном",
        "/reopen ivanova {date}",
    ],
)
@pytest.mark.parametrize("typed", ["31.02.2026", "29.02.2027", "31.04", "00.12.2026"])
async def test_impossible_dates_are_named_as_such(
    harness: BotHarness, command: str, typed: str
) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send(command.format(date=typed))
    assert admin.last_bot_message.text == f"Такой даты нет: {typed}."


async def test_the_edges_of_the_ranges_are_accepted(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/day ivanova 01.12.2025")
    assert "1 декабря 2025" in admin.last_bot_message.text
    await admin.send("/day ivanova 01.12.2027")
    assert "1 декабря 2027" in admin.last_bot_message.text
    await admin.send("/close ivanova 30.11.2026 Задним числом")
    assert PERIOD_RANGE in admin.last_bot_message.text
    await admin.send("/close ivanova 01.12.2027 Учёба")
    assert "Закрыть приём?" in admin.last_bot_message.text


async def test_a_time_range_that_is_not_one_is_named(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    for times in ("25:00-26:00", "10:00-09:00"):
        await admin.send(f"/close ivanova 02.12.2026 {times} Совещание")
        assert admin.last_bot_message.text.startswith("Время приёма укажите как ЧЧ:ММ-ЧЧ:ММ")


async def staff_members(harness: BotHarness) -> int:
    async with harness.database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(StaffMember)) or 0)


# Numbers of 9 to 16 digits are avoided here: a staff command carrying one is taken for an OMS
# number and deleted from the chat. The 52-bit edge is checked on the parser below.
@pytest.mark.parametrize(
    "typed", ["99999999999999999999999", "0", "²", "1" * 4000, "-5", "７", "12345678x"]
)
@pytest.mark.parametrize("action", ["add", "remove"])
async def test_a_user_id_no_one_can_have_is_refused(
    harness: BotHarness, action: str, typed: str
) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send(f"/staff {action} {typed}")
    reply = admin.last_bot_message.text
    assert reply.startswith("Такого id в Telegram не бывает")
    assert "от 1 до 4503599627370495" in reply
    assert await staff_members(harness) == 0


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1", 1),
        ("4503599627370495", 2**52 - 1),
        ("0000000000000007", 7),
        ("4503599627370496", None),  # 2**52
        ("99999999999999999", None),
        ("0", None),
        ("+7", None),
        ("٧", None),
    ],
)
def test_user_ids_are_positive_and_below_2_to_the_52(typed: str, expected: int | None) -> None:
    assert staff.parse_user_id(typed) == expected


async def test_a_usual_user_id_is_accepted(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/staff add 12345678 gp1")
    assert admin.last_bot_message.text == "Регистратор 12345678 добавлен (организации: gp1)."
    assert await staff_members(harness) == 1


TODAY = date(2026, 12, 1)
AHEAD = staff.DateWindow.around(TODAY, years_back=0, years_ahead=1)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("01.12", date(2026, 12, 1)),  # today
        ("30.11", date(2027, 11, 30)),  # its next occurrence
        ("1.2", date(2027, 2, 1)),
        ("01.12.2027", date(2027, 12, 1)),
        ("29.02", staff.BadDate(staff.DateProblem.OUT_OF_RANGE, "29.02")),  # next: 2028
        ("02.12.2027", staff.BadDate(staff.DateProblem.OUT_OF_RANGE, "02.12.2027")),
        ("31.11", staff.BadDate(staff.DateProblem.NO_SUCH_DATE, "31.11")),
        ("01.01.0000", staff.BadDate(staff.DateProblem.NO_SUCH_DATE, "01.01.0000")),
        ("2026-12-01", staff.BadDate(staff.DateProblem.FORMAT)),
        ("０１.１２.２０２６", staff.BadDate(staff.DateProblem.FORMAT)),
        ("01.12.20266", staff.BadDate(staff.DateProblem.FORMAT)),
    ],
)
def test_day_arguments(typed: str, expected: date | staff.BadDate) -> None:
    assert staff.parse_day_argument(typed, today=TODAY, window=AHEAD) == expected


async def test_800_organization_codes_are_refused_in_a_short_answer(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    codes = " ".join(f"o{i}" for i in range(800))
    await admin.send(f"/staff add 1 {codes}")
    reply = admin.last_bot_message.text
    assert reply.startswith("Слишком много кодов организаций: можно указать не больше 10.")
    assert len(reply) < SHORT
    # Unknown codes are named, but only a few and each cut.
    await admin.send("/staff add 1 " + " ".join(["x" * 1000, "y", "z", "w"]))
    reply = admin.last_bot_message.text
    assert reply == f"нет организаций с кодами: {'x' * 20}…, y, z и другие"
    assert await staff_members(harness) == 0
    # Repeated codes count once.
    await admin.send("/staff add 1 " + " ".join(["gp1"] * 11))
    assert admin.last_bot_message.text == "Регистратор 1 добавлен (организации: gp1)."


@pytest.mark.parametrize(
    "command",
    [
        "/find " + "Ж" * 4000,
        "/find " + "7" * 4000,
        "/day " + "Ж" * 4000,
        "/day ivanova " + "1" * 4000,
        "/day ivanova " + "<&>" * 1300,
        "/close " + "Ж" * 4000 + " 02.12.2026 Учёба",
        "/reopen ivanova 02.12.2026 " + "9" * 4000,
        "/history " + "Ж" * 4000,
        "/staff " + "Ж" * 4000,
    ],
)
async def test_a_very_long_argument_gets_a_short_answer(harness: BotHarness, command: str) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send(command)
    reply = admin.last_bot_message.text
    assert len(reply) < SHORT, reply[:200]
    assert "Ж" * 50 not in reply
    assert "1" * 50 not in reply


async def test_a_long_reason_to_close_is_cut(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/close ivanova 02.12.2026 " + "Учёба " * 650)
    reply = admin.last_bot_message.text
    assert reply.startswith("Закрыть приём?")
    assert utf16_len(reply) < 1000


async def test_a_long_list_of_registrars_is_cut_to_whole_lines(harness: BotHarness) -> None:
    # Written straight to the database: long codes the command itself would not accept.
    async with harness.database.sessions() as session:
        session.add_all(
            StaffMember(
                telegram_user_id=100 + n,
                role=StaffRole.REGISTRAR,
                organization_codes=[f"{'к' * 60}{i}" for i in range(10)],
                added_by=ADMIN_ID,
                added_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
            for n in range(40)
        )
        await session.commit()
    admin = harness.user(ADMIN_ID, "Админ")
    await admin.send("/staff")
    reply = admin.last_bot_message.text
    assert utf16_len(reply) <= TELEGRAM_LIMIT
    assert reply.splitlines()[-1].startswith("… и ещё строк: ")
    assert reply.splitlines()[-2].endswith(f"{'к' * 60}9)")  # the last line shown is whole
