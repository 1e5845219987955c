"""The sandbox keeps to itself: only its own database, and a stand-in nobody else can read.

`python -m bot sandbox` runs as a real process here, as a newcomer (or a careless admin
pointing it at the registry) would start it.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiogram.utils.token import validate_token

from bot.config import ReminderSettings
from bot.sandbox.web import Sandbox
from bot.services.clock import ManualClock
from bot.standin.harness import DEFAULT_TOKEN, BotHarness, harness_settings
from db.engine import create_engine
from db.migrate import upgrade
from tests.e2e.conftest import CLINIC, START
from tests.e2e.flow import PETROV, identify, open_day
from tests.test_cli import (
    PROCESS_TIMEOUT,
    assert_no_traceback,
    cli_env,
    run_cli,
    snapshot,
    sqlite_url,
)

PAGE_LINE = "Песочница Talon: откройте "


def installation_rows(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT purpose, installation_id FROM installation").fetchall()
    return [(purpose, installation_id) for purpose, installation_id in rows]


def revision(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(version)


# --- databases the sandbox did not create --------------------------------------------------------


async def booked_by_the_bot(tmp_path: Path) -> Path:
    """A database the bot created and used: a booking with its planned reminders."""
    settings = harness_settings(
        data_dir=tmp_path, demo_file=CLINIC, reminders=ReminderSettings(per_chat_interval_seconds=0)
    )
    async with BotHarness(settings=settings, clock=ManualClock(START)) as bot:
        user = bot.user(5550001, "Пётр")
        await open_day(user)
        await user.click("08:00")
        await user.click("Принимаю")
        await identify(user, PETROV)
        assert "Вы успешно записались" in user.bot_messages[-2].text
    return tmp_path / "talon.sqlite3"


async def migrated_by_the_cli(tmp_path: Path) -> Path:
    db = tmp_path / "bot.sqlite3"
    result = run_cli("migrate", cwd=tmp_path, TALON_DATABASE__URL=sqlite_url(db))
    assert result.returncode == 0, result.stderr
    return db


async def from_before_installation_records(tmp_path: Path) -> Path:
    """A database of an older version: migrated to 0007, before the installation table."""
    db = tmp_path / "old.sqlite3"
    engine = create_engine(sqlite_url(db))
    try:
        await upgrade(engine, "0007")
    finally:
        await engine.dispose()
    return db


async def of_another_program(tmp_path: Path) -> Path:
    db = tmp_path / "other.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    return db


FOREIGN = {
    "booked-by-the-bot": booked_by_the_bot,
    "bot-migrate": migrated_by_the_cli,
    "older-version-0007": from_before_installation_records,
    "another-program": of_another_program,
}


@pytest.mark.parametrize("make", FOREIGN.values(), ids=FOREIGN.keys())
async def test_the_sandbox_refuses_a_database_it_did_not_create(
    tmp_path: Path, make: Callable[[Path], Awaitable[Path]]
) -> None:
    db = await make(tmp_path)
    before = snapshot(sqlite_url(db))

    # A sandbox that did not refuse would serve its page until killed at the timeout.
    result = await asyncio.to_thread(
        run_cli, "sandbox", "--port", "0", cwd=tmp_path, TALON_SANDBOX__DATABASE_URL=sqlite_url(db)
    )

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert str(db) in lines[0]
    assert "sandbox.database_url" in lines[0]
    assert "создала сама" in lines[0]
    assert_no_traceback(result.stderr)
    # Not migrated, no demo data, no slots, no reminder touched, no installation row written.
    assert snapshot(sqlite_url(db)) == before


async def test_the_refused_bot_database_keeps_its_revision_and_purpose(tmp_path: Path) -> None:
    db = await booked_by_the_bot(tmp_path)
    rows_before = installation_rows(db)
    revision_before = revision(db)
    with sqlite3.connect(db) as conn:
        reminders_before = conn.execute("SELECT id, state, due_at FROM reminders").fetchall()
    assert reminders_before, "the bot's booking planned reminders"
    assert [purpose for purpose, _ in rows_before] == ["bot"]

    result = await asyncio.to_thread(
        run_cli, "sandbox", "--port", "0", cwd=tmp_path, TALON_SANDBOX__DATABASE_URL=sqlite_url(db)
    )

    assert result.returncode == 2, result.stderr
    assert installation_rows(db) == rows_before
    assert revision(db) == revision_before
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT id, state, due_at FROM reminders").fetchall() == (
            reminders_before
        )


# --- the bot's own record ------------------------------------------------------------------------


async def test_the_bot_records_itself_on_new_and_older_databases(tmp_path: Path) -> None:
    new = await migrated_by_the_cli(tmp_path)
    old = await from_before_installation_records(tmp_path)

    upgraded = run_cli("migrate", cwd=tmp_path, TALON_DATABASE__URL=sqlite_url(old))

    assert upgraded.returncode == 0, upgraded.stderr
    for db in (new, old):
        ((purpose, installation_id),) = installation_rows(db)
        assert purpose == "bot"
        assert len(installation_id) == 36
    # Opening it again keeps the one record.
    before = installation_rows(new)
    again = run_cli("slots", cwd=tmp_path, TALON_DATABASE__URL=sqlite_url(new))
    assert again.returncode == 0, again.stderr
    assert installation_rows(new) == before


# --- the sandbox's own database ------------------------------------------------------------------


async def serve_and_stop(cwd: Path, db: Path) -> None:
    """Start `python -m bot sandbox` on `db`, check its page answers, stop it with Ctrl+C."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        "--port",
        "0",
        cwd=cwd,
        env=cli_env(TALON_SANDBOX__DATABASE_URL=sqlite_url(db)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        line = (await asyncio.wait_for(process.stdout.readline(), PROCESS_TIMEOUT)).decode()
        if PAGE_LINE not in line:
            errors = (await asyncio.wait_for(process.stderr.read(), PROCESS_TIMEOUT)).decode()
            raise AssertionError(f"the sandbox did not start: {line!r} {errors}")
        url = line.split(PAGE_LINE, 1)[1].split()[0]
        async with aiohttp.ClientSession(base_url=url) as http, http.get("/api/state") as response:
            assert response.status == 200
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=15) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_the_sandbox_starts_again_on_its_own_database(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"

    await serve_and_stop(tmp_path, db)

    ((purpose, installation_id),) = installation_rows(db)
    assert purpose == "sandbox"
    first = snapshot(sqlite_url(db))
    assert first["organizations"], "the demo was loaded"

    await serve_and_stop(tmp_path, db)

    assert installation_rows(db) == [("sandbox", installation_id)]
    # The demo is loaded once, not again on top of itself.
    assert snapshot(sqlite_url(db))["organizations"] == first["organizations"]


# --- the stand-in's token ------------------------------------------------------------------------


async def get_me(base_url: str, token: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base_url}/bot{token}/getMe") as response,
    ):
        return response.status


async def test_each_start_gets_its_own_token_and_the_documented_one_is_refused(
    tmp_path: Path,
) -> None:
    settings = harness_settings(data_dir=tmp_path, demo_file=CLINIC)
    tokens = []
    for _ in range(2):
        sandbox = Sandbox(settings=settings, clock=ManualClock(START))
        await sandbox.start()
        try:
            server = sandbox.harness.server
            token = sandbox.harness.token
            assert validate_token(token)
            assert server.token == token
            assert await get_me(server.base_url, token) == 200
            # What any local user could try with the token from the source code.
            assert await get_me(server.base_url, DEFAULT_TOKEN) in {401, 404}
            tokens.append(token)
        finally:
            await sandbox.stop()

    assert DEFAULT_TOKEN not in tokens
    assert tokens[0] != tokens[1]
