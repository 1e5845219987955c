"""Several instances on one PostgreSQL database (real processes).

SQLite serves one instance only (README); these run in CI's PostgreSQL pass of the suite
(TALON_TEST_POSTGRES, tests/databases.py).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from db.engine import create_engine
from db.migrate import HEAD_REVISION
from tests import databases
from tests.test_cli import PROCESS_TIMEOUT, cli_env

pytestmark = pytest.mark.skipif(
    not databases.on_postgres(),
    reason="several instances need PostgreSQL: run with TALON_TEST_POSTGRES (CI does)",
)


async def _migrate(url: str, cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "migrate",
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
        results = await asyncio.gather(*(_migrate(url, tmp_path) for _ in range(2)))
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
