"""Start-up and periodic data work shared by the bot and the command line: opening the
database for the bot or the sandbox, the demo data, slot generation. Wiring that reads the
settings, so it lives beside the app, not among the domain services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import select

from bot.config import Settings
from bot.services.clock import Clock, SystemClock
from bot.services.importing import import_data, load_toml
from bot.services.installation import Purpose, check_sandbox_database, record_installation
from bot.services.slots import generate_slots
from db.engine import Database
from db.engine import open_database as db_open
from db.models import Organization

logger = logging.getLogger(__name__)


@asynccontextmanager
async def open_database(
    settings: Settings, *, purpose: Purpose = Purpose.BOT
) -> AsyncIterator[Database]:
    """The migrated database, with its installation row (written with `purpose` if missing).

    For the sandbox, a database it did not create raises ForeignDatabaseError before
    anything is migrated or written.
    """
    url = settings.database.url
    if purpose is Purpose.SANDBOX:
        await check_sandbox_database(url=url)
    async with db_open(url, echo=settings.database.echo) as db:
        async with db.sessions() as session:
            # The wall clock, not the bot's: this records when the file was really created.
            await record_installation(session, purpose=purpose, now=SystemClock().now())
        yield db


async def prepare_data(db: Database, *, settings: Settings, clock: Clock) -> None:
    """Demo data on an empty database (if enabled), then slots for the horizon."""
    async with db.sessions() as session:
        empty = await session.scalar(select(Organization.id).limit(1)) is None
        if empty and settings.demo.load_when_empty:
            report = await import_data(
                session,
                data=load_toml(settings.demo.file),
                now=clock.now(),
                horizon_days=settings.booking.horizon_days,
            )
            logger.info("demo data loaded: %s", report.summary())
    await refresh_slots(db, settings=settings, clock=clock)


async def refresh_slots(db: Database, *, settings: Settings, clock: Clock) -> None:
    async with db.sessions() as session:
        added = await generate_slots(
            session, now=clock.now(), horizon_days=settings.booking.horizon_days
        )
        await session.commit()
    logger.info("slot generation: %d new slots", added)
