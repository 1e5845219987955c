"""The unit of work of one update: its database session, and its dialogue state in memory.

Who owns the update's transaction (written down once, here; see docs/architecture.md):

* the `UnitOfWork` middleware (bot/middlewares.py) opens one session per update, shared by
  the dialogue state (bot/fsm_storage.py), the language, the staff filter and the handler;
  at the end of the update it writes the dialogue state and commits; on an error it rolls
  everything of the update back;
* a use case (bot/usecases/) that must make a change durable before anybody is told of it
  (a booking, a cancellation, a move) commits it itself at that point, through
  `commit_change`; what the update writes after that is committed at the end as above.

Dialogue state is read once per update and written once at its end, so the write lock of
SQLite is held only for that last short transaction, never across a call to Telegram.

Every transaction of an update that writes records the update as handled (`commit`, and the
middleware's last commit): a redelivered update (a poll after a crash, a webhook retry) is
then recognised with the account's facts and not applied twice. What the update's changes
owe (outbox rows, bot/services/outbox.py) is sent after its last commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import HandledUpdate


@dataclass(slots=True)
class CachedDialogue:
    state: str | None
    data: dict[str, Any]
    stored: bool  # a record exists in the database (so clearing it must delete it)
    dirty: bool = False


@dataclass(slots=True)
class UpdateUnit:
    session: AsyncSession
    # The reference data's stamp, read with the account's facts (bot/services/catalog.py).
    reference_version: int | None = None
    # Dialogue records read or written during the update, by storage key id.
    dialogues: dict[str, CachedDialogue] = field(default_factory=dict)
    update_id: int | None = None
    handled_at: datetime | None = None  # the update's moment, for its handled record
    # A commit of this update already recorded it as handled.
    recorded: bool = False
    # A commit of this update changed something (its last commit must record it handled).
    committed: bool = False
    # The dialogue was written outside the database (Redis: bot/redis_state.py).
    wrote_elsewhere: bool = False
    # Outbox rows the update's changes owe, sent after its last commit.
    owed: list[int] = field(default_factory=list)


def _record_statement(dialect: str) -> Insert:
    # Insert-or-ignore: a use case's commit and the update's last one may both record it.
    if dialect == "postgresql":
        return postgresql.insert(HandledUpdate).on_conflict_do_nothing()
    return sqlite.insert(HandledUpdate).on_conflict_do_nothing()


_RECORD = {name: _record_statement(name) for name in ("sqlite", "postgresql")}


async def record_handled(unit: UpdateUnit) -> None:
    """Add the update's handled record to the unit's open transaction (once per update)."""
    if unit.recorded or unit.update_id is None or unit.handled_at is None:
        return
    dialect = unit.session.get_bind().dialect.name
    await unit.session.execute(
        _RECORD[dialect], {"update_id": unit.update_id, "handled_at": unit.handled_at}
    )


async def commit(session: AsyncSession, *, owed: tuple[int, ...] = (), final: bool = True) -> None:
    """Commit a change made during an update; outside an update (a job, a script), just commit.

    `final`: the change is what the update is for (a booking, a cancellation, a closure), so
    the update is recorded as handled in the same transaction: redelivered, it is not applied
    again, and the outbox rows noted here (`owed`) tell the person. A preliminary or repeatable
    commit (an identification, a consent given on the way to a booking) is not final: the
    update is recorded at its end, and redelivered before that, it runs again.
    """
    unit = current_unit()
    if unit is None or unit.session is not session:
        await session.commit()
        return
    if final:
        await record_handled(unit)
    await session.commit()
    unit.committed = True
    unit.recorded = unit.recorded or (final and unit.update_id is not None)
    unit.owed.extend(owed)


_current: ContextVar[UpdateUnit | None] = ContextVar("talon_update_unit", default=None)


def current_unit() -> UpdateUnit | None:
    """The unit of the update being handled in this task; None in jobs and scripts."""
    return _current.get()


@asynccontextmanager
async def entered(unit: UpdateUnit) -> AsyncIterator[UpdateUnit]:
    token = _current.set(unit)
    try:
        yield unit
    finally:
        _current.reset(token)
