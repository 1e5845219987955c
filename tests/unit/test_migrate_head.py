"""db/migrate.py upgrades without importing Alembic when the database is already at the head."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from db.engine import create_engine
from db.migrate import HEAD_REVISION, alembic_config, is_at_head, upgrade
from tests import databases

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_head_revision_is_alembics_one_head() -> None:
    # A new migration must update HEAD_REVISION: with a stale constant, a database at the
    # previous head would be taken for up to date and never get the new migration.
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD_REVISION]


async def test_is_at_head_only_after_the_last_migration(tmp_path: Path) -> None:
    engine = create_engine(await databases.database_url(tmp_path / "m.sqlite3"))
    try:
        async with engine.connect() as conn:
            assert not await conn.run_sync(is_at_head)
        await upgrade(engine, "0010")
        async with engine.connect() as conn:
            assert not await conn.run_sync(is_at_head)
        await upgrade(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(is_at_head)
    finally:
        await engine.dispose()


async def test_a_start_on_an_up_to_date_database_does_not_load_alembic(tmp_path: Path) -> None:
    url = await databases.database_url(tmp_path / "m.sqlite3")
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    script = (
        "import asyncio, sys\n"
        "from db.engine import open_database\n"
        "async def main():\n"
        f"    async with open_database({url!r}):\n"
        "        pass\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(60):
        shown, _ = await process.communicate()
    assert process.returncode == 0
    assert shown.decode().strip() == "False"
