"""Several instances on one PostgreSQL database (real processes).

SQLite serves one instance only (README); these run in CI's PostgreSQL pass of the suite
(TALON_TEST_POSTGRES, tests/databases.py).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import DatabaseSettings, Settings
from bot.services.clock import SystemClock
from bot.startup import refresh_slots
from db.engine import Database, create_engine, create_session_factory
from db.migrate import HEAD_REVISION
from tests import databases
from tests.test_cli import EXAMPLE_IMPORT, PROCESS_TIMEOUT, cli_env

pytestmark = pytest.mark.skipif(
    not databases.on_postgres(),
    reason="several instances need PostgreSQL: run with TALON_TEST_POSTGRES (CI does)",
)


async def _cli(*args: str, url: str, cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=cli_env(TALON_DATABASE__URL=url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(PROCESS_TIMEOUT):
        _, stderr = await process.communicate()
    return process.returncode or 0, stderr.decode()


async def test_instances_starting_at_once_on_an_empty_database_both_come_up(
    tmp_path: Path,
) -> None:
    url = await databases.database_url(tmp_path / "shared.sqlite3")
    # Several pairs: one pair may by chance not overlap.
    for _ in range(3):
        results = await asyncio.gather(*(_cli("migrate", url=url, cwd=tmp_path) for _ in range(2)))
        assert [code for code, _ in results] == [0, 0], [err[-2000:] for _, err in results]
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                version = await conn.execute(text("SELECT version_num FROM alembic_version"))
                assert version.scalars().all() == [HEAD_REVISION]
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        finally:
            await engine.dispose()


async def test_two_slot_regenerations_at_once_are_one_run_and_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = await databases.database_url(tmp_path / "shared.sqlite3")
    code, errors = await _cli("import", str(EXAMPLE_IMPORT), url=url, cwd=tmp_path)
    assert code == 0, errors[-2000:]
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            # Slots as a night's regeneration would find them: all to be made again.
            await conn.execute(text("DELETE FROM slots"))
        caplog.set_level(logging.INFO, logger="bot.startup")
        # Two instances' nightly jobs at the same moment (in one process: no start-up skew).
        settings = Settings(database=DatabaseSettings(url=url))
        clock = SystemClock()
        engines = [create_engine(url) for _ in range(2)]
        try:
            await asyncio.gather(
                *(
                    refresh_slots(
                        Database(engine=e, sessions=create_session_factory(e)),
                        settings=settings,
                        clock=clock,
                    )
                    for e in engines
                )
            )
        finally:
            for e in engines:
                await e.dispose()
        async with engine.begin() as conn:
            slots = await conn.scalar(text("SELECT count(*) FROM slots"))
            starts = await conn.scalar(
                text("SELECT count(*) FROM (SELECT DISTINCT doctor_id, starts_at FROM slots) s")
            )
        assert slots
        assert slots == starts  # made once, not twice
        # One of them ran it; the other found it running and stood aside.
        assert sum("runs elsewhere" in r.getMessage() for r in caplog.records) == 1
    finally:
        await engine.dispose()
