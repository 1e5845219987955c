"""Values as the driver stores them, and the statements that bind and read them.

`_Codec` converts naive UTC datetimes to and from the stored values; the plain `table()`
constructs (`_SLOTS`, `_BOOKINGS`, `_HOURS`) let Core statements skip SQLAlchemy's per-value
processing; `_Query` and `_execute_many` run them (on SQLite straight through the driver); the
dialect helpers give a stored moment's whole seconds in SQL.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Integer,
    cast,
    column,
    extract,
    func,
    literal_column,
    table,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement, ColumnElement
from sqlalchemy.sql.expression import Executable

from db.models import Booking, BookingStatus, Slot, WorkingHours

# SQLite refuses statements with more bound parameters than this (999 on old builds).
_IN_CHUNK: Final = 500
_WRITE_CHUNK: Final = 50_000
_ACTIVE: Final[ColumnElement[Any]] = literal_column(f"'{BookingStatus.ACTIVE.value}'")


@dataclass(frozen=True, slots=True)
class _Codec:
    """Naive UTC datetimes to and from the values the driver stores.

    The same conversion as the models' `UTCDateTime` and the dialect's DATETIME, without
    their per-value Python calls; on SQLite the fast form is checked against them first.
    """

    encode: Callable[[datetime], Any]
    decode: Callable[[Any], datetime]
    read_time: Callable[[Any], time]


_codecs: dict[tuple[str, str], _Codec] = {}


def _codec(dialect: Dialect) -> _Codec:
    key = (dialect.name, dialect.driver)
    found = _codecs.get(key)
    if found is None:
        found = _codecs[key] = _make_codec(dialect)
    return found


def _make_codec(dialect: Dialect) -> _Codec:
    moment_type = Slot.__table__.c.starts_at.type.dialect_impl(dialect)
    bind = moment_type.bind_processor(dialect)
    result = moment_type.result_processor(dialect, None)
    time_type = WorkingHours.__table__.c.start_time.type.dialect_impl(dialect)
    time_result = time_type.result_processor(dialect, None)

    def encode(value: datetime) -> Any:
        aware = value.replace(tzinfo=UTC)
        return bind(aware) if bind is not None else aware

    def decode(value: Any) -> datetime:
        aware = result(value) if result is not None else value
        assert isinstance(aware, datetime)
        return aware.astimezone(UTC).replace(tzinfo=None)

    def read_time(value: Any) -> time:
        moment = time_result(value) if time_result is not None else value
        assert isinstance(moment, time)
        return moment

    if dialect.name == "sqlite":
        probe = datetime(2026, 3, 29, 1, 2, 3, 4005)
        stored = encode(probe)
        if _sqlite_text(probe) == stored and datetime.fromisoformat(stored) == probe:
            return _Codec(encode=_sqlite_text, decode=datetime.fromisoformat, read_time=read_time)
    return _Codec(encode=encode, decode=decode, read_time=read_time)


# The SQLite dialect's storage format, by a C-level call (no Python frame per value).
_sqlite_text: Callable[[datetime], str] = operator.methodcaller("isoformat", " ", "microseconds")


# Plain table constructs: Core statements on them bind and return the driver's own values.
_SLOTS = table(
    Slot.__tablename__,
    column("id"),
    column("doctor_id"),
    column("starts_at"),
    column("ends_at"),
    column("is_open"),
)
_BOOKINGS = table(Booking.__tablename__, column("slot_id"), column("status"))
_HOURS = table(
    WorkingHours.__tablename__,
    column("doctor_id"),
    column("weekday"),
    column("start_time"),
    column("end_time"),
)


class _Query:
    """A Core statement run with the driver's values.

    On aiosqlite the statement is compiled once and sent to the driver directly: the screens'
    queries take well under a millisecond there, and SQLAlchemy's execution path would
    double that. Elsewhere SQLAlchemy runs it as usual.
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._sqlite: tuple[str, tuple[str, ...], SQLCompiler] | None = None

    async def rows(self, conn: AsyncConnection, params: Mapping[str, Any]) -> Sequence[Any]:
        if conn.dialect.driver != "aiosqlite":
            return (await conn.execute(self.statement, dict(params))).all()
        if self._sqlite is None:
            compiled = _compile(self.statement, conn.dialect)
            self._sqlite = (compiled.string, tuple(compiled.positiontup or ()), compiled)
        sql, names, compiled = self._sqlite
        values = compiled.construct_params(dict(params))
        assert values is not None
        positional = [values[name] for name in names]
        sync = conn.sync_connection
        if sync is not None:
            # Listeners (statement counts, logs) still see the statement; they get no cursor.
            for listener in sync.dispatch.before_cursor_execute:
                listener(sync, None, sql, positional, None, False)
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        return list(await driver.execute_fetchall(sql, positional))


async def _execute_many(
    conn: AsyncConnection,
    statement: Executable,
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """The statement once per row; a row holds the values of `names`, in that order."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        compiled = _compile(statement, conn.dialect)
        if list(compiled.positiontup or ()) == list(names):
            # Tuples go to the driver's executemany as they are: no per-row dict, no processing.
            for start in range(0, len(rows), _WRITE_CHUNK):
                await conn.exec_driver_sql(
                    compiled.string, list(rows[start : start + _WRITE_CHUNK])
                )
            return
    for start in range(0, len(rows), _WRITE_CHUNK):
        chunk = rows[start : start + _WRITE_CHUNK]
        await conn.execute(statement, [dict(zip(names, row, strict=True)) for row in chunk])


def _compile(statement: Executable, dialect: Dialect) -> SQLCompiler:
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    return compiled


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def _off_the_second(moment: ColumnElement[Any], dialect: Dialect) -> ColumnElement[Any] | None:
    """True for a stored moment with a fraction of a second (or, on SQLite, stored in another
    form than the dialect's); None on other databases."""
    if dialect.name == "sqlite":
        return func.substr(moment, 20) != literal_column("'.000000'")
    if dialect.name == "postgresql":
        micro = cast(extract("microseconds", moment), BigInteger)
        return micro % literal_column("1000000") != literal_column("0")
    return None


def _epoch_seconds(moment: ColumnElement[Any], dialect: Dialect) -> ColumnElement[Any] | None:
    """Whole seconds since 1970 of a stored UTC moment, in SQL; None on other databases."""
    if dialect.name == "sqlite":
        days = func.julianday(moment) - literal_column("2440587.5")
        return cast(func.round(days * literal_column("86400")), Integer)
    if dialect.name == "postgresql":
        return cast(extract("epoch", moment), BigInteger)
    return None
