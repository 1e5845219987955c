"""Where a test's database lives: a SQLite file, or a fresh PostgreSQL database of its own.

`TALON_TEST_POSTGRES=postgresql+asyncpg://USER@HOST:PORT/postgres` (a server where USER may
CREATE DATABASE) runs every test that uses a database on PostgreSQL: each database a test asks
for is a new `talon_t_<random>` on that server, dropped (WITH (FORCE)) when the test ends.
Unset, a test gets the SQLite file it names, exactly as before.

A database is named by the SQLite path it would have: the same path within a test is the same
database (a restarted bot finds its data again), different paths are different databases.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.engine import create_engine

POSTGRES_ENV = "TALON_TEST_POSTGRES"

T = TypeVar("T")

# The databases made for the running test: SQLite path → database name. Dropped by the
# autouse fixture in tests/conftest.py when the test ends (tests run one at a time).
_created: dict[Path, str] = {}


def postgres_server() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def on_postgres() -> bool:
    return postgres_server() is not None


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _server_dsn(database: str | None = None) -> str:
    """asyncpg's form of the server's URL (no "+asyncpg"), optionally another database."""
    server = postgres_server()
    assert server is not None
    url = make_url(server).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def _url_of(name: str) -> str:
    server = postgres_server()
    assert server is not None
    return make_url(server).set(database=name).render_as_string(hide_password=False)


async def _admin(*statements: str) -> None:
    # CREATE/DROP DATABASE can't run inside a transaction: asyncpg's plain execute doesn't
    # open one.
    conn = await asyncpg.connect(_server_dsn())
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def database_url(path: Path, *, template: str | None = None) -> str:
    """The URL of the test's database named by the SQLite file `path`.

    On PostgreSQL the first call for a path creates the database, a copy of the database
    behind the URL `template` when given (SQLite: copy that file to `path` yourself).
    """
    if not on_postgres():
        return f"sqlite+aiosqlite:///{path}"
    if path not in _created:
        _created[path] = make_url(await create_database(template=template)).database or ""
    return _url_of(_created[path])


async def create_database(*, template: str | None = None) -> str:
    """A new PostgreSQL database that the caller drops (drop_database): e.g. per module."""
    name = f"talon_t_{secrets.token_hex(8)}"
    source = "" if template is None else f' TEMPLATE "{make_url(template).database}"'
    await _admin(f'CREATE DATABASE "{name}"{source}')
    return _url_of(name)


async def drop_database(url: str) -> None:
    # FORCE: a bot process the test killed may still hold a connection.
    await _admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs `coroutine` to its end from synchronous code, in a thread with its own loop.

    A thread, because a synchronous test or fixture may be called while a loop is set up in
    this thread (pytest-asyncio's), where asyncio.run is refused.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def database_url_sync(path: Path, *, template: str | None = None) -> str:
    if not on_postgres():
        return f"sqlite+aiosqlite:///{path}"
    return run_sync(database_url(path, template=template))


async def drop_created() -> None:
    """Drops the databases made for the test that just ended."""
    names = list(_created.values())
    _created.clear()
    for name in names:
        await drop_database(_url_of(name))


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a stable order, on either database."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            names = sorted(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
            return {
                table: sorted(
                    (tuple(row) for row in await conn.execute(text(f'SELECT * FROM "{table}"'))),
                    key=repr,
                )
                for table in names
            }
    finally:
        await engine.dispose()


class SyncReader:
    """Synchronous reads of a database another process writes, for polling conditions.

    SQLite: a plain read-only connection per read (WAL lets it read while the bot writes).
    PostgreSQL: one asyncpg connection on a loop of its own in a thread, so a read blocks the
    caller's loop (e.g. a stand-in server's) only for the query itself.
    """

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._conn: Any = None
        if self._url.get_backend_name() != "sqlite":
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
            self._thread.start()
            dsn = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._conn = self._call(asyncpg.connect(dsn))

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self._conn is None:
            with sqlite3.connect(f"file:{self._url.database}?mode=ro", uri=True) as conn:
                return [tuple(row) for row in conn.execute(sql).fetchall()]
        return [tuple(row) for row in self._call(self._conn.fetch(sql))]

    def close(self) -> None:
        if self._loop is not None and self._thread is not None:
            if self._conn is not None:
                self._call(self._conn.close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()


async def sync_ids(conn: AsyncConnection | AsyncSession, *tables: str) -> None:
    """The next id of each table follows its largest id, as SQLite's rowid does.

    PostgreSQL's sequences don't move back after a DELETE and don't move on at an INSERT with
    explicit ids, so a test that does either and then lets the code insert sets them here.
    """
    if conn.bind.dialect.name != "postgresql":
        return
    for table in tables:
        await conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f' coalesce(max(id), 0) + 1, false) FROM "{table}"'
            )
        )
