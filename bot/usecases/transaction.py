"""The one place a use case's transaction ends: committed with what it owes, or rolled back
into a refusal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from bot.services.booking import (
    ChangeRefusal,
    LimitReachedError,
    NotChangeableError,
    SlotUnavailableError,
)
from bot.services.outbox import enqueue
from bot.services.visits import VisitRecord, load_visit
from bot.unit import commit
from bot.usecases.outcomes import Changed, OverLimit, Owed, Refused, SlotTaken


@dataclass(frozen=True, slots=True)
class Conflict:
    """The database refused the rows (a unique index): the caller knows which one it was."""


Owes = Callable[[VisitRecord], Sequence[Owed]]


def owes_nothing(_visit: VisitRecord) -> Sequence[Owed]:
    return ()


async def commit_change(
    session: AsyncSession,
    change: Callable[[], Awaitable[int]],
    *,
    owes: Owes = owes_nothing,
    acting_chat: int | None,
    now: datetime,
) -> Changed | Refused | OverLimit | SlotTaken | Conflict:
    """Run `change` (it returns the id of the booking it changed), queue the messages it owes
    (`owes`, from the visit as changed) in the outbox, and commit all of it at once.

    Any refusal rolls the whole transaction back, so nothing is half done, and nobody is
    told of a change that did not happen. StaleDataError is the booking's revision counter:
    another change to it committed first.
    """
    try:
        booking_id = await change()
        visit = await load_visit(session, booking_id=booking_id)
        if visit is None:
            raise LookupError(f"booking {booking_id} vanished in its own change")
        owed = tuple(owes(visit))
        queued = await enqueue(session, owed, acting_chat=acting_chat, now=now)
        await commit(session, owed=queued)
    except NotChangeableError as refusal:
        await session.rollback()
        return Refused(refusal.reason, refusal.phone)
    except LimitReachedError as limit:
        await session.rollback()
        return OverLimit(limit.reason, limit.detail)
    except SlotUnavailableError:
        await session.rollback()
        return SlotTaken()
    except StaleDataError:
        await session.rollback()
        return Refused(ChangeRefusal.CHANGED)
    except IntegrityError:
        await session.rollback()
        return Conflict()
    return Changed(visit=visit, owed=owed, queued=queued)
