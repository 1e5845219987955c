"""The patient's language end to end: English from Telegram's language_code, /language
mid-dialogue, and everything the bot sends (screens, ticket, reminder, menu) in that language."""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from bot.services.clock import ManualClock
from bot.standin.harness import BotHarness
from tests.e2e.flow import PETROV

CYRILLIC_WORD = re.compile(r"[А-Яа-яЁё]{4,}")
# Names in the test clinic are Russian (they are data); labels and sentences must not be.
DATA = (
    "Поликлиника",
    "ГБУЗ",
    "Городская",
    "поликлиника",
    "Тестовая",
    "Москва",
    "Иванова",
    "Анна",
    "Петровна",
    "Приём",
    "терапевта",
    "Врач-терапевт",
    "Петров",
    "Пётр",
    "Петрович",
    "талон",  # explained once, in parentheses: «талон»
)


def russian_words(text: str) -> list[str]:
    return [w for w in CYRILLIC_WORD.findall(text) if not any(w in d for d in DATA)]


async def test_an_english_speaking_patient_books_end_to_end_in_english(
    harness: BotHarness, clock: ManualClock
) -> None:
    user = harness.user(8001, "John", language_code="en")
    await user.send("/start")
    assert "Book a doctor's appointment" in user.last_bot_message.text
    await user.click("Поликлиника № 1")
    assert user.buttons()[-1] == ["Back", "Start over"]
    await user.click("Приём терапевта")
    await user.click("Врач-терапевт — Иванова А. П.")
    await user.click("Wed 02.12 · 08:00–10:00")
    assert "Wednesday, December 2, 2026" in user.last_bot_message.text
    await user.click("08:00")
    consent = user.last_bot_message.text
    assert "Operator" in consent
    assert "the Russian text of the agreement is the one that applies" in consent
    assert russian_words(consent) == []
    await user.click("I accept")
    assert "Step 1 of 3" in user.last_bot_message.text
    await user.send(PETROV["oms"])
    await user.send(PETROV["document"])
    await user.send(PETROV["birth_date"])
    booked = user.bot_messages[-2]
    assert "You have successfully booked" in booked.text
    for message in user.bot_messages:
        assert russian_words(message.text or message.caption or "") == [], message.text

    pdf = PdfReader(BytesIO(user.download(user.documents[-1])))
    ticket = "\n".join(page.extract_text() for page in pdf.pages)
    assert "Doctor's appointment ticket" in ticket
    assert russian_words(ticket) == []

    # The reminder comes in English too (the 2-hour one, moved before the quiet hours).
    clock.set(datetime(2026, 12, 1, 20, 59, 30, tzinfo=ZoneInfo("Europe/Moscow")))
    assert harness.reminders is not None
    await harness.reminders.run_once()
    reminder = user.last_bot_message.text
    assert "Appointment reminder" in reminder
    assert russian_words(reminder) == []
    assert user.buttons()[0][0] == "I confirm"


async def test_language_switches_mid_dialogue_and_is_remembered(harness: BotHarness) -> None:
    user = harness.user(8002, "Пётр")  # Telegram in Russian
    await user.send("/start")
    assert "Выберите медицинскую организацию" in user.last_bot_message.text
    await user.click("Поликлиника № 1")
    services = user.last_bot_message.message_id
    await user.send("/language")
    await user.click("English")
    assert "Language: English" in user.last_bot_message.text
    # The dialogue goes on from the screen it was at, now in English.
    await user.click("Приём терапевта", message_id=services)
    doctors = next(m for m in user.bot_messages if m.message_id == services)
    assert user.buttons(doctors)[-1] == ["Back", "Start over"]
    assert russian_words(doctors.text) == []
    await user.send("/start")
    assert "Book a doctor's appointment" in user.last_bot_message.text
    # And back.
    await user.send("/language")
    await user.click("Русский")
    assert "Язык: русский" in user.last_bot_message.text
    await user.send("/start")
    assert "Выберите медицинскую организацию" in user.last_bot_message.text


async def test_the_command_menu_is_registered_in_every_language(harness: BotHarness) -> None:
    from bot.app import register_commands

    await register_commands(harness.bot)
    menus = harness.server.commands
    english = next(v for (scope, lang), v in menus.items() if lang == "en")
    default = next(v for (scope, lang), v in menus.items() if lang == "")
    assert (
        {c["command"] for c in english}
        == {c["command"] for c in default}
        >= {
            "start",
            "language",
        }
    )
    assert next(c for c in english if c["command"] == "start")["description"] == "Book a doctor"
    assert next(c for c in default if c["command"] == "start")["description"] == (
        "Записаться к врачу"
    )
