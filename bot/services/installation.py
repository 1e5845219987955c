"""What created a database (the real bot or the sandbox), and its stable installation id.

The sandbox hands an unauthenticated registry admin and a clock that drops reminders to
whoever opens its page, so it must never run on the real registry. Each database records,
in its one `installation` row, which of the two created it; the sandbox looks at that row
before it migrates or writes anything, and refuses any database it did not create itself.

The row's `installation_id` (a random UUID written with the row, never changed) tells this
installation's files from another's: calendar files carry it in their UIDs
(bot/services/calendar.py), so booking 1 of one registry is not booking 1 of another in a
patient's calendar. `installation_uid` reads it once per database and process.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, inspect, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from db.models import Installation

logger = logging.getLogger(__name__)
# One row per database: a fixed key makes a second concurrent insert fail instead of adding
# a second row (e.g. `python -m bot slots` started while the bot upgrades an old database).
INSTALLATION_ROW_ID = 1


class Purpose(StrEnum):
    BOT = "bot"
    SANDBOX = "sandbox"


class ForeignDatabaseError(Exception):
    """The sandbox was pointed at a database it did not create; nothing in it was changed."""

    def __init__(self, *, database: str, found: str) -> None:
        self.database = database
        self.found = found
        super().__init__(
            f"Песочница не запускается на {database}: она работает только с базой, которую "
            f"создала сама, а эта {found}. Укажите в sandbox.database_url "
            "(TALON_SANDBOX__DATABASE_URL) новый файл."
        )


def describe_database(url: str) -> str:
    """The database as a person would name it, without a password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def _read_purpose(connection: Connection) -> tuple[bool, str | None]:
    """Whether the database has any table, and the purpose its installation row names."""
    tables = set(inspect(connection).get_table_names())
    if Installation.__tablename__ not in tables:
        return bool(tables), None
    purpose = connection.scalar(select(Installation.purpose).order_by(Installation.id).limit(1))
    return True, purpose


async def check_sandbox_database(*, url: str) -> None:
    """Raise ForeignDatabaseError unless the database is new (no tables) or the sandbox's own.

    Only reads: it runs before any migration, so a refused database stays as it was.
    """
    if _sqlite_file_missing(url):
        # New; connecting would only create the file, outside the engine that sets it up.
        return
    # A bare engine: none of the bot's connection set-up (e.g. SQLite's journal mode) may
    # touch a database that is about to be refused.
    engine = create_async_engine(url, hide_parameters=True)
    try:
        async with engine.connect() as connection:
            # The inspector keeps this portable: SQLite and PostgreSQL alike.
            has_tables, purpose = await connection.run_sync(_read_purpose)
            await connection.rollback()
    finally:
        await engine.dispose()
    if not has_tables or purpose == Purpose.SANDBOX:
        return
    found = (
        "содержит таблицы, но не запись об установке (её создала старая версия бота "
        "или другая программа)"
        if purpose is None
        else "создана ботом"
        if purpose == Purpose.BOT
        else f"создана программой «{purpose}»"
    )
    raise ForeignDatabaseError(database=describe_database(url), found=found)


def _sqlite_file_missing(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    return not Path(parsed.database).exists()


async def record_installation(
    session: AsyncSession, *, purpose: Purpose, now: datetime
) -> Installation:
    """The database's installation row, written with `purpose` if it has none yet.

    An existing row is never changed: a database created by the bot stays the bot's, which
    is what keeps the sandbox off it.
    """
    existing = await _installation(session)
    if existing is not None:
        if existing.purpose != purpose:
            logger.warning(
                "this database was created by the %s, not the %s", existing.purpose, purpose
            )
        _remember(session, existing.installation_id)
        return existing
    uid = str(uuid.uuid4())
    row = Installation(id=INSTALLATION_ROW_ID, purpose=purpose, installation_id=uid, created_at=now)
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        # Another process wrote it first: theirs is the record.
        await session.rollback()
        existing = await _installation(session)
        if existing is None:
            raise
        _remember(session, existing.installation_id)
        return existing
    _remember(session, uid)
    return row


class NoInstallationError(RuntimeError):
    """The database has no installation row: it was not opened as the bot opens it."""


# The row never changes once written: read once per database (engine) and process.
_uids: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()


def _engine(session: AsyncSession) -> Engine:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    return engine


def _remember(session: AsyncSession, uid: str) -> None:
    _uids[_engine(session)] = uid


async def installation_uid(session: AsyncSession) -> str:
    """This database's installation id, the same for as long as the database exists.

    Raises NoInstallationError on a database without its row (the bot writes it when it opens
    the database, bot/startup.py `open_database`), rather than make up an id that would
    change from one file of a booking to the next.
    """
    engine = _engine(session)
    known = _uids.get(engine)
    if known is None:
        row = await _installation(session)
        if row is None:
            raise NoInstallationError(
                f"{describe_database(engine.url.render_as_string(hide_password=True))} has no "
                "installation record: open it with bot.startup.open_database"
            )
        known = _uids[engine] = row.installation_id
    return known


async def _installation(session: AsyncSession) -> Installation | None:
    return await session.scalar(select(Installation).order_by(Installation.id).limit(1))
