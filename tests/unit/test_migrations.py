from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from db.engine import create_engine
from db.migrate import alembic_config, upgrade
from db.models import Base
from tests import databases


async def test_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    engine = create_engine(await databases.database_url(tmp_path / "m.sqlite3"))
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
        assert diff == []
    finally:
        await engine.dispose()


async def test_upgrade_is_idempotent_and_downgrade_removes_everything(tmp_path: Path) -> None:
    engine = create_engine(await databases.database_url(tmp_path / "m.sqlite3"))
    try:
        await upgrade(engine)
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "base"))
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        assert tables == ["alembic_version"]
    finally:
        await engine.dispose()


SLOT_INDEXES = {
    ("bookings", "ix_bookings_slot_id"),
    ("slots", "ix_slots_doctor_open_start"),
    ("working_hours", "ix_working_hours_doctor_id"),
}


async def test_0011_adds_the_slot_indexes_and_downgrade_drops_them(tmp_path: Path) -> None:
    engine = create_engine(await databases.database_url(tmp_path / "m.sqlite3"))

    def indexes(sync: Connection) -> set[tuple[str, str]]:
        inspector = inspect(sync)
        return {
            (table, str(index["name"]))
            for table in ("bookings", "slots", "working_hours")
            for index in inspector.get_indexes(table)
        }

    try:
        async with engine.begin() as conn:
            # A database made before 0011.
            await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0010"))
            assert not SLOT_INDEXES & await conn.run_sync(indexes)
        await upgrade(engine)
        async with engine.begin() as conn:
            assert await conn.run_sync(indexes) >= SLOT_INDEXES
            await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0010"))
            assert not SLOT_INDEXES & await conn.run_sync(indexes)
    finally:
        await engine.dispose()
