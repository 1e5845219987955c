"""Alembic driven from code, so the bot can upgrade its own database at start.

The bot upgrades at every start, and nearly always finds nothing to do. Alembic, with Mako and
the migration scripts it loads, would stay in the process for good (about 8 MiB of its
memory), so `upgrade` first compares the database's version with HEAD_REVISION, and imports
Alembic only when there is something to migrate.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest migration. A stale value would let a database at the previous head skip a new
# migration, so tests/unit/test_migrate_head.py fails until it equals Alembic's head.
HEAD_REVISION = "0015"
# Alembic's default name, which alembic_config keeps.
VERSION_TABLE = "alembic_version"
# PostgreSQL advisory lock key of migrations ("talon" in ASCII): several instances starting
# at once on one database migrate one at a time; the others wait, then find it current.
MIGRATION_LOCK = 0x74616C6F6E


def alembic_config(connection: Connection | None = None) -> Config:
    # Lazy: only a migration needs Alembic (see the module's docstring).
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def is_at_head(connection: Connection) -> bool:
    """True if the database stands at the newest migration, so upgrading has nothing to do."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return False
    current = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
    return list(current) == [HEAD_REVISION]


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        # Held until this transaction (the whole migration) commits or rolls back.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    if revision == "head" and is_at_head(connection):
        return
    # Lazy: only a migration needs Alembic (see the module's docstring).
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)
