"""Which bot process holds what: an id per process, renewed while it runs.

Reminders and outbox rows are claimed under the claiming process's id. Another process takes
such a row back only when its holder has not renewed its `seen_at` for the lease: a killed
instance's sends are resumed by a survivor (or by its own next start) once the lease has
run out, and a live instance's sends are never repeated. Liveness is wall-clock time, not
the business clock the rest of the bot may be given (tests move that one at will).

SQLite serves one instance: there, a process starting takes back everything at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db.engine import Database
from db.models import Instance

logger = logging.getLogger(__name__)

_identity: tuple[int, str] | None = None


def instance_id() -> str:
    """This process's id: new in every process, a forked one included."""
    global _identity
    if _identity is None or _identity[0] != os.getpid():
        _identity = (os.getpid(), uuid.uuid4().hex)
    return _identity[1]


def begin_new_instance() -> str:
    """A new id for this process, as a new process would get (the test harness restarting the
    bot in one interpreter)."""
    global _identity
    _identity = None
    return instance_id()


def wall_now() -> datetime:
    return datetime.now(UTC)


async def renew(session: AsyncSession, *, started_at: datetime) -> None:
    """This instance is alive now (the heartbeat); committed."""
    now = wall_now()
    await session.merge(
        Instance(
            id=instance_id(),
            host=socket.gethostname()[:255],
            pid=os.getpid(),
            started_at=started_at,
            seen_at=now,
        )
    )
    await session.commit()


def held_by_the_dead(
    column: ColumnElement[str | None] | InstrumentedAttribute[str | None], *, lease: timedelta
) -> ColumnElement[bool]:
    """Rows whose holder (`column`) is not a live instance: gone for the lease, or unknown.
    Never this instance's own, whatever its heartbeat says."""
    alive = select(Instance.id).where(Instance.seen_at > wall_now() - lease)
    return or_(
        column.is_(None),
        and_(column != instance_id(), column.not_in(alive.scalar_subquery())),
    )


def only_instance(session: AsyncSession) -> bool:
    """SQLite serves one instance: whatever a previous process held is its to take back."""
    return session.get_bind().dialect.name == "sqlite"


async def forget_gone(session: AsyncSession, *, older_than: timedelta) -> None:
    """Instances not seen for long (their rows were taken back long ago); committed."""
    await session.execute(delete(Instance).where(Instance.seen_at < wall_now() - older_than))
    await session.commit()


class Heartbeat:
    """Renews this instance's `seen_at` every `every` seconds while the process runs."""

    def __init__(self, db: Database, *, every: float) -> None:
        self._db = db
        self._every = every
        self._started_at = wall_now()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Seen before it claims anything, so no other instance takes its claims for a dead one's.
        await self._renew()
        self._task = asyncio.create_task(self._run(), name="heartbeat")

    async def stop(self) -> None:
        """At a clean stop: no longer alive, so whatever it still holds (a run cancelled
        mid-batch) is another instance's, or the next start's, to take back at once."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        async with self._db.sessions() as session:
            await session.execute(delete(Instance).where(Instance.id == instance_id()))
            await session.commit()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self._renew()
            except Exception:
                # The database may be away for a moment; the lease allows a few misses.
                logger.warning("heartbeat not renewed", exc_info=True)

    async def _renew(self) -> None:
        async with self._db.sessions() as session:
            await renew(session, started_at=self._started_at)
