"""Start-up and periodic data work shared by the bot and the command line: opening the
database for the bot or the sandbox, the demo data, slot generation (at start for doctors
with none, then in the background). Wiring that reads the settings, so it lives beside the
app, not among the domain services."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.services.clock import Clock, SystemClock
from bot.services.importing import import_data, load_toml
from bot.services.installation import Purpose, check_sandbox_database, record_installation
from bot.services.slots import doctors_without_slots, generate_slots
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
    """What must be done before the bot answers anybody: demo data on an empty database (if
    enabled), and slots for doctors that have none ahead (a first start, doctors added by
    hand, a database left unused for longer than the horizon).

    The regeneration of everybody's slots (new days, changed hours) does not hold the start
    up: `start_slot_refresh` runs it in the background.
    """
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
    async with db.sessions() as session:
        now = clock.now()
        missing = await doctors_without_slots(session, now=now)
        if missing:
            added = await generate_slots(
                session,
                now=now,
                horizon_days=settings.booking.horizon_days,
                doctor_ids=missing,
            )
            await session.commit()
            logger.info("slots for %d doctors without any: %d new slots", len(missing), added)


# PostgreSQL advisory lock key of the slot regeneration: one instance at a time runs it.
SLOT_REFRESH_LOCK = 0x74616C6F6E + 1


async def refresh_slots(db: Database, *, settings: Settings, clock: Clock) -> None:
    """Every doctor's slots brought in line with the rules, in one transaction. Several
    instances (and `python -m bot slots`) may start it at once: on PostgreSQL the first takes
    the lock and the others skip it (a no-op, not an error); SQLite serves one instance."""
    async with db.sessions() as session:
        if not await _first_to_run(session, key=SLOT_REFRESH_LOCK):
            logger.info("slot generation runs elsewhere (another instance); skipped here")
            return
        added = await generate_slots(
            session, now=clock.now(), horizon_days=settings.booking.horizon_days
        )
        await session.commit()
    logger.info("slot generation: %d new slots", added)


async def _first_to_run(session: AsyncSession, *, key: int) -> bool:
    """Takes the job's lock for the session's transaction; False if another one holds it."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    taken = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key})
    return bool(taken)


class SlotRefresh:
    """The regeneration of all slots running in the background (`start_slot_refresh`)."""

    def __init__(self, task: asyncio.Task[None]) -> None:
        self.task = task

    @property
    def done(self) -> bool:
        return self.task.done()

    async def wait(self) -> None:
        """Until it has finished (a failure is logged, not raised)."""
        await asyncio.shield(self.task)

    async def stop(self) -> None:
        """Cancel it if it still runs (at shutdown), and wait until it has stopped."""
        self.task.cancel()
        # Waits without taking on the task's cancellation (a cancellation of the caller still
        # reaches the caller).
        await asyncio.wait({self.task})


def start_slot_refresh(
    db: Database,
    *,
    settings: Settings,
    clock: Clock,
    begin_after: asyncio.Event | None = None,
) -> SlotRefresh:
    """`refresh_slots` as a background task of the running loop, in its own session.

    The bot answers patients meanwhile: with nothing to change the regeneration only reads,
    and it writes (holding SQLite's write lock) only what it has to, at its end. A failure is
    logged; the nightly job tries again. `begin_after`, when given, is waited for first (for
    example the dispatcher's start-up).
    """

    async def run() -> None:
        if begin_after is not None:
            await begin_after.wait()
        began = time.perf_counter()
        try:
            await refresh_slots(db, settings=settings, clock=clock)
        except Exception:
            logger.exception("slot generation in the background failed")
        else:
            logger.info("slot generation took %.1f s", time.perf_counter() - began)

    return SlotRefresh(asyncio.create_task(run(), name="talon-slot-refresh"))
