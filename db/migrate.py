"""Alembic driven from code, so the bot can upgrade its own database at start.

The bot upgrades at every start, and nearly always finds nothing to do. Alembic, with Mako and
the migration scripts it loads, would stay in the process for good (about 8 MiB of its
memory), so `upgrade` first compares the database's version with HEAD_REVISION, and imports
Alembic only when there is something to migrate.
"""

from __future__ import annotations

from dataclasses import dataclass
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
HEAD_REVISION = "0016"
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


@dataclass(frozen=True, slots=True)
class Migration:
    """What `upgrade` did: the schema's revision before and after (None: no schema yet)."""

    before: str | None
    after: str | None

    @property
    def created(self) -> bool:
        """A new database: it had no schema, and has one now."""
        return self.before is None and self.after is not None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def current_revision(connection: Connection) -> str | None:
    """The revision the database stands at; None before the first migration."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    current = list(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
    # Alembic keeps one row per head; Talon's history has one head.
    return ", ".join(sorted(current)) or None


def is_at_head(connection: Connection) -> bool:
    """True if the database stands at the newest migration, so upgrading has nothing to do."""
    return current_revision(connection) == HEAD_REVISION


def _upgrade(connection: Connection, revision: str) -> Migration:
    if connection.dialect.name == "postgresql":
        # Held until this transaction (the whole migration) commits or rolls back.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    before = current_revision(connection)
    if revision == "head" and before == HEAD_REVISION:
        return Migration(before=before, after=before)
    # Lazy: only a migration needs Alembic (see the module's docstring).
    from alembic import command

    command.upgrade(alembic_config(connection), revision)
    return Migration(before=before, after=current_revision(connection))


async def upgrade(engine: AsyncEngine, revision: str = "head") -> Migration:
    """Migrate to `revision`; returns the revisions before and after (callers may ignore it)."""
    async with engine.begin() as conn:
        return await conn.run_sync(_upgrade, revision)
