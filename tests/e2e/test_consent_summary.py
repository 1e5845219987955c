"""The agreement screen keeps the choice it is asked for above the agreement, and stays
within one Telegram message (4096 characters) even with the longest names."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import MAX_AGREEMENT_CHARS
from bot.config import PACKAGE_DATA, ConsentSettings
from bot.handlers import screens
from bot.services.clock import ManualClock
from bot.standin.harness import BotHarness
from bot.standin.html import parse_html, utf16_len
from bot.standin.limits import MAX_TEXT
from tests.e2e.custom_clinic import clinic_harness
from tests.e2e.flow import DOCTOR, ORG, SERVICE, WEDNESDAY, open_day

HEADING = {"ru": "Согласие на обработку персональных данных", "en": "Consent to the processing"}
CHOSEN = {"ru": "Вы выбрали", "en": "You have chosen"}
WHEN = {"ru": "Дата и время: ", "en": "Date and time: "}
WEDNESDAY_LABEL = {"ru": "ср 02.12", "en": "Wed 02.12"}
ACCEPT = {"ru": "Принимаю", "en": "I accept"}


def _summary_is_above_the_agreement(text: str, locale: str) -> None:
    assert text.startswith(CHOSEN[locale])
    assert text.index(WHEN[locale]) < text.index(HEADING[locale])
    assert utf16_len(text) <= MAX_TEXT


async def test_the_agreement_shows_the_chosen_doctor_and_time(harness: BotHarness) -> None:
    user = harness.user(1001, "Пётр")
    await open_day(user, org=ORG, service=SERVICE, doctor=DOCTOR, day=WEDNESDAY)
    await user.click("08:30")
    consent = user.last_bot_message.text
    assert user.buttons()[0] == ["Принимаю", "Отказываюсь"]
    summary = [
        "Организация: ГБУЗ «Городская поликлиника № 1»",
        "Врач: Иванова Анна Петровна, Врач-терапевт",
        "Услуга: Приём терапевта",
        "Дата и время: среда, 2 декабря 2026 г., 08:30",
    ]
    for line in summary:
        assert line in consent, line
    _summary_is_above_the_agreement(consent, "ru")
    # The same summary as the next step shows.
    await user.click("Принимаю")
    step = user.last_bot_message.text
    for line in summary:
        assert line in step, line


@pytest.mark.parametrize("locale", ["ru", "en"])
async def test_the_agreement_with_the_longest_demo_names_fits_one_message(
    tmp_path: Path, clock: ManualClock, locale: str
) -> None:
    """The demo's longest organization, service, doctor and position are one choice."""
    async with clinic_harness(tmp_path, clock, PACKAGE_DATA / "demo.toml") as harness:
        user = harness.user(1001, "Пётр", language_code=locale)
        await user.send("/start")
        await user.click("Поликлиника № 14, Екатеринбург")
        await user.click("Профилактический медицинский осмотр")
        await user.click("Врач-терапевт участковый — Никитина О. В.")
        day = next(b for row in user.buttons() for b in row if WEDNESDAY_LABEL[locale] in b)
        await user.click(day)
        await user.click(user.buttons()[-2][-1])  # the last time of the first page
        consent = user.last_bot_message.text
        _summary_is_above_the_agreement(consent, locale)
        for name in (
            "ГАУЗ СО «Городская поликлиника № 14» (демонстрационная)",
            "Никитина Ольга Владимировна, Врач-терапевт участковый",
            "Профилактический медицинский осмотр",
        ):
            assert name in consent
        assert user.buttons()[0][0] == ACCEPT[locale]


# The longest names the registry import accepts (bot/services/importing/schema.py).
LONG_CLINIC = """
[[organizations]]
code = "long"
name = "{org}"
short_name = "{short}"
address = "{address}"
phone = "+7 (495) 111-11-11"
timezone = "Europe/Moscow"

  [[organizations.services]]
  code = "svc"
  name = "{service}"

  [[organizations.doctors]]
  code = "doc"
  last_name = "{last}"
  first_name = "{first}"
  middle_name = "{middle}"
  position = "{position}"
  services = ["svc"]
  slot_minutes = 30
  hours = {{ wed = "08:00-10:00" }}
"""


def _long(prefix: str, length: int) -> str:
    return (prefix + " " + "Ш" * length)[:length]


@pytest.mark.parametrize("locale", ["ru", "en"])
async def test_the_agreement_with_the_longest_names_and_text_allowed_fits_one_message(
    tmp_path: Path, clock: ManualClock, locale: str
) -> None:
    """Names at the import's limits and an agreement at app.MAX_AGREEMENT_CHARS would make
    4600 characters: the stand-in refuses a text over 4096, and the harness checks it refused
    nothing."""
    clinic = tmp_path / "long.toml"
    clinic.write_text(
        LONG_CLINIC.format(
            org=_long("Организация", 300),
            short=_long("Коротко", 40),
            address=_long("Адрес", 300),
            service=_long("Услуга", 200),
            last=_long("Фамилия", 100),
            first=_long("Имя", 100),
            middle=_long("Отчество", 100),
            position=_long("Должность", 200),
        ),
        encoding="utf-8",
    )
    agreement = tmp_path / "agreement.txt"
    agreement.write_text(_long("Согласие", MAX_AGREEMENT_CHARS), encoding="utf-8")
    consent = ConsentSettings(file=agreement, translations={"en": agreement})
    async with clinic_harness(tmp_path, clock, clinic, consent=consent) as harness:
        user = harness.user(1001, "Пётр", language_code=locale)
        await user.send("/start")
        for _ in range(3):  # the organization, the service, the doctor
            await user.click(user.buttons()[0][0])
        await user.click(user.buttons()[0][1])  # Wednesday 2 December
        await user.click("08:30")
        text = user.last_bot_message.text
        _summary_is_above_the_agreement(text, locale)
        summary = text[: text.index(HEADING[locale])]
        # The names cut (with «…») to make room, the date and time whole.
        assert "Фамилия ШШШ" in summary
        assert "…" in summary
        assert "08:30" in summary.split(WHEN[locale])[1]
        # The agreement whole, naming its operator in full.
        assert _long("Организация", 300) in text[len(summary) :]
        assert text.endswith(_long("Согласие", MAX_AGREEMENT_CHARS))
        assert user.buttons()[0][0] == ACCEPT[locale]


@pytest.mark.parametrize(
    "html", ["<b>Вы выбрали</b>\nВрач: А &amp; Б &lt;3&gt;", "😀 <b>жирный</b> «№ 3»", ""]
)
def test_the_length_is_counted_as_telegram_counts_it(html: str) -> None:
    plain, _ = parse_html(html)
    assert screens.plain_length(html) == utf16_len(plain)
