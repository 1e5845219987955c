"""The one place a use case's transaction ends: committed, or rolled back into a refusal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from bot.services.booking import (
    ChangeRefusal,
    LimitReachedError,
    NotChangeableError,
    SlotUnavailableError,
)
from bot.services.visits import load_visit
from bot.usecases.outcomes import Changed, OverLimit, Owed, Refused, SlotTaken


@dataclass(frozen=True, slots=True)
class Conflict:
    """The database refused the rows (a unique index): the caller knows which one it was."""


async def commit_change(
    session: AsyncSession, change: Callable[[], Awaitable[int]]
) -> int | Refused | OverLimit | SlotTaken | Conflict:
    """Run `change` (it returns the id of the booking it changed) and commit.

    Any refusal rolls the whole transaction back, so nothing is half done. StaleDataError is
    the booking's revision counter: another change to it committed first.
    """
    try:
        booking_id = await change()
        await session.commit()
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
    return booking_id


async def changed(session: AsyncSession, booking_id: int, owed: tuple[Owed, ...] = ()) -> Changed:
    """The outcome of a committed change: the visit as it is now, and what it owes."""
    visit = await load_visit(session, booking_id=booking_id)
    if visit is None:
        raise LookupError(f"booking {booking_id} vanished right after its change")
    return Changed(visit=visit, owed=owed)
