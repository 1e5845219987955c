"""Privacy end to end (issue 9): typed identity values on disk and in the chat, private files,
guessing limits per patient, consent per organization, no demo data in a real bot."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import (
    BookingSettings,
    DatabaseSettings,
    PrivacySettings,
    ReminderSettings,
    Settings,
    StaffSettings,
)
from bot.services.clock import ManualClock
from bot.services.identity import luhn_is_valid
from bot.standin.client import SimUser
from bot.standin.harness import BotHarness, harness_settings
from db.models import Booking, Organization
from tests import databases
from tests.e2e.conftest import ADMIN_ID, CLINIC
from tests.e2e.flow import PETROV, SIDOROVA, identify, open_day

REPO = Path(__file__).resolve().parents[2]
DELETED = "Сообщение удалено"
LOCKED_OUT = "Слишком много неудачных попыток"


def luhn_number(body: str) -> str:
    """`body` and the check digit that makes a valid unified OMS number."""
    return next(body + d for d in "0123456789" if luhn_is_valid(body + d))


# Values no registry patient has: wherever they turn up on disk, they were typed.
CANARY_OMS = luhn_number("390517264819337")
CANARY_DOCUMENT = "58203961"
CANARY_BIRTH_DATE = "17.08.1937"


@asynccontextmanager
async def running(
    tmp_path: Path, clock: ManualClock, **sections: object
) -> AsyncIterator[BotHarness]:
    settings = harness_settings(
        data_dir=tmp_path / "data",
        database_url=await databases.database_url(tmp_path / "data" / "talon.sqlite3"),
        demo_file=CLINIC,
        reminders=ReminderSettings(per_chat_interval_seconds=0),
        staff=StaffSettings(admins=[ADMIN_ID]),
        **sections,
    )
    async with BotHarness(settings=settings, clock=clock) as harness:
        yield harness
        assert harness.server.violations == []
        assert harness.server.handler_errors == []


async def reach_prompts(user: SimUser, *, time: str = "08:00") -> None:
    await open_day(user)
    await user.click(time)
    await user.click("Принимаю")


def seen_anywhere(user: SimUser, value: str) -> bool:
    """Whether the value is visible in the chat, in the user's or the bot's messages."""
    return any(value in (m.text or m.caption or "") for m in user.messages)


def database_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.iterdir() if p.name.startswith("talon.sqlite3"))


def files_holding(data_dir: Path, values: list[bytes]) -> list[str]:
    return [
        f"{path.name}: {value.decode()}"
        for path in database_files(data_dir)
        for value in values
        if value in path.read_bytes()
    ]


# ---- 2: typed values never reach a database file -------------------------------------------


@pytest.mark.sqlite_only("scans the SQLite file and its -wal and -shm files for typed values")
async def test_typed_identity_values_never_reach_any_database_file(
    tmp_path: Path, clock: ManualClock
) -> None:
    canaries = [
        CANARY_OMS.encode(),
        CANARY_DOCUMENT.encode(),
        CANARY_BIRTH_DATE.encode(),
        b"1937-08-17",
    ]
    data_dir = tmp_path / "data"
    async with running(tmp_path, clock) as harness:
        failed, waiting, idle = (harness.user(9100 + i, "П") for i in range(3))
        # A whole failed identification, then another one left half-way (the values sit in
        # the dialogue state right now), then values typed outside any dialogue.
        await reach_prompts(failed)
        await identify(
            failed,
            {"oms": CANARY_OMS, "document": CANARY_DOCUMENT, "birth_date": CANARY_BIRTH_DATE},
        )
        assert failed.last_bot_message.text.startswith("Вход невозможен")
        await reach_prompts(waiting, time="08:30")
        await waiting.send(CANARY_OMS)
        await waiting.send(CANARY_DOCUMENT)
        assert "Шаг 3 из 3" in waiting.last_bot_message.text
        await idle.send(f"{CANARY_OMS} {CANARY_DOCUMENT}")
        # A real booking too: the registry's own values may be on disk, typed ones may not.
        booker = harness.user(9110, "Пётр")
        await reach_prompts(booker, time="09:00")
        await identify(booker, PETROV)
        assert "Вы успешно записались" in booker.bot_messages[-2].text

        files = database_files(data_dir)
        assert {p.name for p in files} >= {"talon.sqlite3", "talon.sqlite3-wal"}
        assert files_holding(data_dir, canaries) == []
        # The scan does see values that are stored: the registry's OMS number of Петров.
        assert files_holding(data_dir, [PETROV["oms"].encode()]) != []
        # And the half-way patient still finishes after all that.
        await waiting.send("01.01.1990")
        assert waiting.last_bot_message.text.startswith("Вход невозможен")
    # After a clean stop too (checkpointed into the main file).
    assert files_holding(data_dir, canaries) == []


# ---- 3: the database is private ------------------------------------------------------------


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.sqlite_only("the modes of the SQLite folder and files")
async def test_the_database_folder_and_files_are_private(
    tmp_path: Path, clock: ManualClock
) -> None:
    data_dir = tmp_path / "data"
    # Even under a permissive umask (as a shell usually has), nothing is readable by others.
    with umask(0o022):
        async with running(tmp_path, clock) as harness:
            user = harness.user(9200, "Пётр")
            await reach_prompts(user)
            await identify(user, PETROV)
            files = database_files(data_dir)
            assert {p.name for p in files} == {
                "talon.sqlite3",
                "talon.sqlite3-wal",
                "talon.sqlite3-shm",
            }
            assert mode(data_dir) == 0o700
            for path in files:
                assert mode(path) == 0o600, path.name


@pytest.mark.sqlite_only("the mode of an existing SQLite file")
async def test_an_existing_database_open_to_others_is_warned_about(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    async with running(tmp_path, clock):
        pass
    (data_dir / "talon.sqlite3").chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="db.engine"):
        async with running(tmp_path, clock):
            pass
    messages = [record.getMessage() for record in caplog.records]
    warnings = [message for message in messages if "открыт другим пользователям" in message]
    assert any("talon.sqlite3 " in w and "chmod 600" in w for w in warnings), warnings


@pytest.mark.sqlite_only("the modes of the SQLite folder and files the command creates")
def test_the_command_line_creates_a_private_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "TALON_DATABASE__URL": f"sqlite+aiosqlite:///{data_dir / 'talon.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        # The shell's usual umask: the program must not rely on a stricter one.
        preexec_fn=lambda: os.umask(0o022),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert mode(data_dir) == 0o700
    for path in database_files(data_dir):
        assert mode(path) == 0o600, path.name


# ---- 4: identity-shaped messages are deleted in every state --------------------------------


async def test_identity_values_typed_outside_the_prompts_are_deleted(
    tmp_path: Path, clock: ManualClock
) -> None:
    booking = BookingSettings(max_failed_identifications=2)
    async with running(tmp_path, clock, booking=booking) as harness:
        # Before any dialogue: pasted straight away.
        newcomer = harness.user(9300, "Анна")
        await newcomer.send(f"мой полис {PETROV['oms']}")
        assert DELETED in newcomer.last_bot_message.text
        assert not seen_anywhere(newcomer, PETROV["oms"])

        # After «Вход невозможен», typed instead of pressing «Попробовать снова».
        failed = harness.user(9301, "Пётр")
        await reach_prompts(failed)
        await identify(failed, {**PETROV, "birth_date": "01.01.1990"})
        await failed.send(PETROV["oms"])
        await failed.send(PETROV["birth_date"])
        assert DELETED in failed.last_bot_message.text
        assert not seen_anywhere(failed, PETROV["oms"])
        assert not seen_anywhere(failed, PETROV["birth_date"])

        # While locked out (the second failure of this account).
        await failed.click("Попробовать снова")
        await identify(failed, {**PETROV, "birth_date": "01.01.1991"})
        await open_day(failed)
        await failed.click("08:30")  # the consent to this organization is given already
        await identify(failed, PETROV)
        assert LOCKED_OUT in failed.last_bot_message.text
        await failed.send(PETROV["document"])
        assert DELETED in failed.last_bot_message.text
        assert not seen_anywhere(failed, PETROV["document"])

        # After the dialogue expired, half-way through the prompts.
        idle = harness.user(9302, "Елена")
        await reach_prompts(idle, time="09:00")
        await idle.send(SIDOROVA["oms"])
        clock.advance(timedelta(minutes=11))
        await idle.send(SIDOROVA["document"])
        assert DELETED in idle.last_bot_message.text
        assert not seen_anywhere(idle, SIDOROVA["document"])
        # One line, and the way on.
        assert idle.buttons() == [["Записаться к врачу"]]

        # A registrar's command with a full OMS number: answered, then not kept in the chat.
        registrar = harness.user(ADMIN_ID, "Регистратура")
        await registrar.send(f"/find {PETROV['oms']}")
        assert "Команда удалена" in registrar.bot_messages[-2].text
        assert not seen_anywhere(registrar, PETROV["oms"])
        # Other commands and ordinary text stay: a visit date is no birth date, and /staff
        # takes Telegram user ids (as long as OMS numbers).
        await registrar.send("/day ivanova 02.12.2026")
        assert seen_anywhere(registrar, "/day ivanova 02.12.2026")
        await registrar.send("/staff add 123456789")
        assert seen_anywhere(registrar, "/staff add 123456789")
        await newcomer.send("хочу записаться на 02.12.2026")
        assert seen_anywhere(newcomer, "хочу записаться на 02.12.2026")


# ---- 5: guessing limited per patient across accounts ---------------------------------------


async def test_failures_are_limited_per_patient_across_accounts_and_alarm(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    privacy = PrivacySettings(
        max_failures_per_patient=3, failure_alarm_threshold=3, failure_alarm_window_minutes=10
    )
    caplog.set_level(logging.INFO)
    async with running(tmp_path, clock, privacy=privacy) as harness:
        # Three accounts, one wrong birth date each: every account stays below its own limit.
        for index in range(3):
            guesser = harness.user(9400 + index, "Гость")
            await reach_prompts(guesser, time="08:00")
            await identify(guesser, {**PETROV, "birth_date": f"0{index + 1}.01.1980"})
            assert guesser.last_bot_message.text.startswith("Вход невозможен")
        # A fourth account, even with the right values, can't identify that patient today.
        fourth = harness.user(9403, "Гость")
        await reach_prompts(fourth, time="08:00")
        await identify(fourth, PETROV)
        assert LOCKED_OUT in fourth.last_bot_message.text
        async with harness.database.sessions() as session:
            assert await session.scalar(select(func.count(Booking.id))) == 0
        # Another patient is not affected.
        other = harness.user(9404, "Мария")
        await reach_prompts(other, time="08:30")
        await identify(other, SIDOROVA)
        assert "Вы успешно записались" in other.bot_messages[-2].text
        # A day later the patient can identify again.
        clock.advance(timedelta(days=1, minutes=1))
        await open_day(fourth)
        await fourth.click("09:30")
        await identify(fourth, PETROV)
        assert "Вы успешно записались" in fourth.bot_messages[-2].text

    alarms = [r for r in caplog.records if "ALARM" in r.getMessage()]
    assert len(alarms) == 1
    assert "3 failed identifications from 3 accounts" in alarms[0].getMessage()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    # (Петров's document number, 123456, is also part of the stand-in bot's id in the log.)
    for value in (PETROV["oms"], "01.01.1980", "1980-01-01", "14.03.1985", "1985-03-14"):
        assert value not in logged


# ---- 6: consent per organization -----------------------------------------------------------

SECOND_ORG = {
    "org": "Поликлиника № 2",
    "doctor": "Врач-терапевт — Смирнов И.",
    "day": "ср 02.12 · 08:00–12:00",
}


async def test_consent_covers_one_organization_and_is_withdrawn_per_organization(
    tmp_path: Path, clock: ManualClock
) -> None:
    booking = BookingSettings(max_active_bookings=10, one_booking_per_doctor=False)
    async with running(tmp_path, clock, booking=booking) as harness:
        user = harness.user(9500, "Пётр")
        await reach_prompts(user)
        await identify(user, PETROV)
        await user.click("Запомнить пациента")
        # The other polyclinic is another operator of personal data: asked again, by name.
        await open_day(user, **SECOND_ORG)
        await user.click("08:00")
        asked = user.last_bot_message.text
        assert "Оператор: ГАУЗ «Поликлиника № 2»" in asked
        assert "Вы выбрали" in asked  # the choice stays in view
        await user.click("Принимаю")
        await user.click("Петров Пётр Петрович")
        assert "Вы успешно записались" in user.bot_messages[-2].text
        # A second booking at the first one asks nothing.
        await open_day(user)
        await user.click("09:00")
        assert user.buttons()[0] == ["Петров Пётр Петрович"]

        await user.send("/my")
        await user.click("Мои пациенты")
        shown = user.last_bot_message.text
        assert "ГБУЗ «Городская поликлиника № 1» — с 01.12.2026" in shown
        assert "ГАУЗ «Поликлиника № 2» — с 01.12.2026" in shown
        await user.click("Отозвать согласие: Поликлиника № 1")
        await user.click("Да, отозвать")
        assert "отозвано" in user.last_bot_message.text

        async with harness.database.sessions() as session:
            rows = (
                await session.execute(
                    select(Organization.short_name, Booking.telegram_user_id)
                    .join(Booking.service)
                    .join(Organization)
                    .order_by(Booking.id)
                )
            ).all()
        # Bookings at the first organization no longer point at the account; the other's do.
        assert [(org, uid is not None) for org, uid in rows] == [
            ("Поликлиника № 1", False),
            ("Поликлиника № 2", True),
        ]
        await user.send("/my")
        await user.click("Мои пациенты")
        shown = user.last_bot_message.text
        assert "Поликлиника № 1»" not in shown
        assert "ГАУЗ «Поликлиника № 2»" in shown
        assert "Петров Пётр Петрович" in shown  # still remembered for the other
        # Booking at the first one again asks for its consent; the second doesn't.
        await open_day(user, **SECOND_ORG)
        await user.click("09:00")
        assert user.buttons()[0] == ["Петров Пётр Петрович"]
        await open_day(user)
        await user.click("09:30")
        assert user.buttons()[0] == ["Принимаю", "Отказываюсь"]


# ---- 7: no demo data in a real bot ---------------------------------------------------------


async def test_a_real_bot_on_an_empty_database_loads_no_demo(
    tmp_path: Path, clock: ManualClock
) -> None:
    # The real bot's defaults, only pointed at a fresh file.
    settings = Settings(
        database=DatabaseSettings(url=await databases.database_url(tmp_path / "talon.sqlite3"))
    )
    async with BotHarness(settings=settings, clock=clock) as harness:
        user = harness.user(9600, "Пётр")
        await user.send("/start")
        assert "организац" in user.last_bot_message.text.lower()
        assert "Поликлиника" not in user.last_bot_message.text
        async with harness.database.sessions() as session:
            assert await session.scalar(select(func.count(Organization.id))) == 0
        assert harness.server.handler_errors == []


# ---- 10: README tells the truth about /forget ----------------------------------------------


async def test_forget_keeps_failure_records_as_readme_says(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with running(
        tmp_path, clock, booking=BookingSettings(max_failed_identifications=1)
    ) as harness:
        user = harness.user(9700, "Пётр")
        await reach_prompts(user)
        await identify(user, {**PETROV, "birth_date": "01.01.1990"})
        await user.send("/forget")
        await user.click("Да, отозвать")
        await reach_prompts(user)
        await identify(user, PETROV)
        assert LOCKED_OUT in user.last_bot_message.text
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    forget = next(line for line in readme.splitlines() if "**Withdrawing consent.**" in line)
    paragraph = readme[readme.index(forget) :].split("\n- ", 1)[0]
    assert "failure records are deleted" not in paragraph
    assert "failed identifications are kept" in paragraph
