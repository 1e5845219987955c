from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_POOL_SIZE = 16


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    # Statement parameters carry OMS and document numbers: keep them out of logs and of
    # exception messages that end up in logs.
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True)

    pool: dict[str, Any] = {}
    if parsed.database and parsed.database != ":memory:":
        make_private_file(Path(parsed.database))
        # A fixed set of connections, never opened and closed under load: each aiosqlite
        # connection is a thread plus four PRAGMAs, and overflow connections were being
        # created and dropped on every burst. SQLite writes one at a time anyway, so more
        # updates than this simply wait their turn for a connection (an update holds one
        # connection at most, so waiting can't deadlock).
        pool = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": 0, "pool_timeout": 120}
    engine = create_async_engine(url, echo=echo, hide_parameters=True, **pool)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers proceed while a booking commits; the busy timeout makes concurrent
        # writers queue instead of failing with "database is locked".
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Deleted dialogue state may have held identity numbers: overwrite, don't just unlink.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    return engine


def make_private_file(path: Path) -> None:
    """The registry's database readable by its owner only: folder 0700, file 0600.

    SQLite gives its -wal and -shm files the main file's permissions, so creating the main
    file private covers them. An existing file or folder open to others is left as it is (an
    administrator may mean it) but warned about at every start.
    """
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True)
    if not path.exists():
        # O_EXCL: never loosen a file that appeared meanwhile; 0600 whatever the umask.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    for item in (folder, path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
        if item.exists() and item.stat().st_mode & 0o077:
            logger.warning(
                "%s открыт другим пользователям (права %o), а в нём данные пациентов: "
                "выполните chmod %s %s",
                item,
                item.stat().st_mode & 0o777,
                "700" if item.is_dir() else "600",
                item,
            )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def open_database(url: str, *, echo: bool = False) -> AsyncIterator[Database]:
    """Engines on an up-to-date schema: migrations run before anything else touches it."""
    from db.migrate import upgrade

    engine = create_engine(url, echo=echo)
    try:
        await upgrade(engine)
        yield Database(engine=engine, sessions=create_session_factory(engine))
    finally:
        await engine.dispose()
