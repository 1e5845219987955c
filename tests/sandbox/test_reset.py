"""`reset_sandbox`: `python -m bot sandbox --reset` removes the sandbox's own database, and
only that: the check that keeps the sandbox off other databases keeps --reset off them too."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.config import ReminderSettings, SandboxSettings, Settings
from bot.sandbox.web import Sandbox, reset_sandbox
from bot.services.clock import ManualClock
from bot.standin.harness import harness_settings
from tests.e2e.conftest import CLINIC, START
from tests.e2e.flow import PETROV
from tests.sandbox.test_api import PATIENT
from tests.sandbox.test_isolation import FOREIGN, installation_rows
from tests.test_cli import snapshot, sqlite_url

COMPANIONS = ("-wal", "-shm", "-journal")
# What the sandbox keeps across restarts: bookings, consents and remembered patients.
KEPT = ("bookings", "consents", "account_patients")


def companions(db: Path) -> list[Path]:
    return [db.with_name(db.name + suffix) for suffix in COMPANIONS]


def settings_for(db: Path | str) -> Settings:
    url = db if isinstance(db, str) else sqlite_url(db)
    return Settings(sandbox=SandboxSettings(database_url=url))


async def sandbox_with_a_booking(tmp_path: Path) -> Path:
    """The sandbox's database after a patient booked and had the patient remembered."""
    db = tmp_path / "sandbox.sqlite3"
    settings = harness_settings(
        data_dir=tmp_path,
        database_url=sqlite_url(db),
        demo_file=CLINIC,
        reminders=ReminderSettings(per_chat_interval_seconds=0),
    )
    sandbox = Sandbox(settings=settings, clock=ManualClock(START))
    await sandbox.start()
    try:
        server = sandbox.harness.server
        user = next(u.user for u in sandbox.users.values() if u.user.id == PATIENT)

        async def say(text: str) -> None:
            await server.wait_handled(server.push_message(user, text))

        async def click(label: str) -> None:
            for message in reversed(server.messages(PATIENT)):
                for row in message.inline_keyboard:
                    for button in row:
                        if button["text"] == label:
                            update_id, _ = server.push_callback(
                                user, message.message_id, button["callback_data"]
                            )
                            await server.wait_handled(update_id)
                            return
            raise AssertionError(f"no button {label!r}")

        await say("/start")
        for label in (
            "Поликлиника № 1",
            "Приём терапевта",
            "Врач-терапевт — Иванова А. П.",
            "ср 02.12 · 08:00–10:00",
            "08:00",
            "Принимаю",
        ):
            await click(label)
        for value in PETROV.values():
            await say(value)
        assert any("Вы успешно записались" in (m.text or "") for m in server.messages(PATIENT))
        await click("Запомнить пациента")
    finally:
        await sandbox.stop()
    assert installation_rows(db)[0][0] == "sandbox"
    return db


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


async def test_reset_removes_the_sandboxs_own_database_and_its_companions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = await sandbox_with_a_booking(tmp_path)
    kept = snapshot(sqlite_url(db))
    for table in KEPT:
        assert kept[table], f"the sandbox keeps {table} in its file"
    for companion in companions(db):
        # Whatever SQLite leaves beside it (the sandbox stopped cleanly: stand-ins).
        companion.write_bytes(b"")
    neighbour = tmp_path / "talon.sqlite3"
    neighbour.write_bytes(b"not the sandbox's")

    reset_sandbox(settings_for(db))

    line = one_line(capsys)
    assert str(db) in line
    assert "удалена" in line
    assert not db.exists()
    for companion in companions(db):
        assert not companion.exists()
    # Nothing else in the folder is touched.
    assert neighbour.read_bytes() == b"not the sandbox's"


async def test_after_a_reset_the_sandbox_starts_with_the_demo_and_nothing_else(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = await sandbox_with_a_booking(tmp_path)
    demo_organizations = snapshot(sqlite_url(db))["organizations"]

    reset_sandbox(settings_for(db))

    settings = harness_settings(data_dir=tmp_path, database_url=sqlite_url(db), demo_file=CLINIC)
    sandbox = Sandbox(settings=settings, clock=ManualClock(START))
    await sandbox.start()
    await sandbox.stop()
    rows = snapshot(sqlite_url(db))
    assert rows["organizations"] == demo_organizations
    for table in KEPT:
        assert rows[table] == [], table
    assert [purpose for purpose, _ in installation_rows(db)] == ["sandbox"]


@pytest.mark.parametrize("make", FOREIGN.values(), ids=FOREIGN.keys())
async def test_reset_refuses_a_database_the_sandbox_did_not_create(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Awaitable[Path]],
) -> None:
    db = await make(tmp_path)
    before = snapshot(sqlite_url(db))
    capsys.readouterr()

    with pytest.raises(SystemExit) as exit_info:
        reset_sandbox(settings_for(db))

    assert exit_info.value.code == 2
    line = one_line(capsys)
    assert str(db) in line
    assert "Сброс песочницы отменён" in line
    assert "создана не песочницей" in line
    assert "sandbox.database_url" in line
    assert snapshot(sqlite_url(db)) == before


async def test_reset_refuses_a_file_that_is_not_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me\n" * 200, encoding="utf-8")

    with pytest.raises(SystemExit) as exit_info:
        reset_sandbox(settings_for(notes))

    assert exit_info.value.code == 2
    line = one_line(capsys)
    assert str(notes) in line
    assert "не читается как база SQLite" in line
    assert notes.read_text(encoding="utf-8") == "keep me\n" * 200


def test_reset_refuses_a_database_on_a_server(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+asyncpg://talon:secret@db.example:5432/talon"

    with pytest.raises(SystemExit) as exit_info:
        reset_sandbox(settings_for(url))

    assert exit_info.value.code == 2
    line = one_line(capsys)
    assert "не файл SQLite" in line
    assert "secret" not in line


def test_reset_without_a_database_has_nothing_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "sandbox.sqlite3"
    # A log left of a removed file would be replayed into the next one: it goes.
    Path(f"{db}-wal").write_bytes(b"stale")

    reset_sandbox(settings_for(db))

    assert "Сбрасывать нечего" in one_line(capsys)
    assert not db.exists()
    assert not Path(f"{db}-wal").exists()


async def test_reset_works_from_inside_a_running_event_loop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "empty-sandbox.sqlite3"
    # A database without tables: the sandbox would take it as new, so it may go.
    sqlite3.connect(db).close()
    assert db.exists()

    reset_sandbox(settings_for(db))

    assert not db.exists()
    assert "удалена" in one_line(capsys)
