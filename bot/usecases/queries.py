"""Reads a screen needs before it offers a change: the booking as the account may see it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.booking import NotChangeableError, changeable_booking
from bot.services.visits import load_visit
from bot.usecases.outcomes import Account, Changed, Refused, Rules


async def changeable(
    session: AsyncSession,
    *,
    booking_id: int,
    slot_id: int | None,
    account: Account,
    now: datetime,
    rules: Rules,
    changing: bool = True,
) -> Changed | Refused:
    """The account's own upcoming booking (still at `slot_id`), as a visit with nothing owed;
    or why not. `changing` (a move is asked for): within the cut-off before the visit it is
    refused too; a cancel, the ticket or the calendar file is fine until the visit starts."""
    try:
        booking = await changeable_booking(
            session,
            booking_id=booking_id,
            slot_id=slot_id,
            telegram_user_id=account.user_id,
            now=now,
            cutoff=rules.cutoff if changing else timedelta(0),
            lock=False,
        )
    except NotChangeableError as refusal:
        return Refused(refusal.reason, refusal.phone)
    visit = await load_visit(session, booking_id=booking.id)
    assert visit is not None
    return Changed(visit=visit)
