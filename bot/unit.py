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
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


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
