"""How a waitlist offer goes out: the freed time, the doctor and service, until when it is
held, with «Записаться» and «Не подходит». Rendered from the offer when it is sent; an offer
that ended meanwhile (taken, declined, run out) is not sent at all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import t
from bot.keyboards import waitlist as kb
from bot.services.clock import Clock
from bot.services.dates import local_when
from bot.services.outbox import OfferOwed
from bot.texts import esc
from bot.usecases import waitlist as waitlist_cases
from db.engine import Database
from db.models import (
    Doctor,
    OfferState,
    Organization,
    Service,
    Slot,
    SlotOffer,
    WaitlistEntry,
    short_name,
)

if TYPE_CHECKING:
    # The outbox sender imports this module for `offer_sender`.
    from bot.delivery.outbox import Outbox

Send = Callable[[], Awaitable[object]]


async def offer_sender(
    bot: Bot, session: AsyncSession, item: OfferOwed, *, now: datetime
) -> Send | None:
    """The call that sends the offer, or None if it no longer stands."""
    row = (
        await session.execute(
            select(
                SlotOffer.state,
                SlotOffer.held_until,
                SlotOffer.offered_at,
                Slot.starts_at,
                Service.name,
                Doctor.last_name,
                Doctor.first_name,
                Doctor.middle_name,
                Doctor.position,
                Organization.timezone,
            )
            .join(Slot, Slot.id == SlotOffer.slot_id)
            .join(WaitlistEntry, WaitlistEntry.id == SlotOffer.entry_id)
            .join(Service, Service.id == WaitlistEntry.service_id)
            .join(Doctor, Doctor.id == Slot.doctor_id)
            .join(Organization, Organization.id == Doctor.organization_id)
            .where(SlotOffer.id == item.offer_id)
        )
    ).first()
    if row is None:
        return None
    state, until, offered_at, starts_at, service, last, first, middle, position, tz = row
    if state is not OfferState.HELD or until <= now:
        return None
    text = t(
        "waitlist-offer",
        when=local_when(starts_at, tz),
        doctor=esc(short_name(last, first, middle)),
        position=esc(position),
        service=esc(service),
        until=f"{until.astimezone(ZoneInfo(tz)):%H:%M}",
        hold=round((until - offered_at).total_seconds() / 60),
    )
    markup = kb.offer(item.offer_id)
    return lambda: bot.send_message(item.chat_id, text, reply_markup=markup)


async def pass_on_held(
    db: Database, bot: Bot, outbox: Outbox, *, clock: Clock, hold: timedelta
) -> int:
    """The waitlist's periodic job (and at start, so holds that ran out while the bot was
    down pass on): ended holds go to the next in line, whose offers are sent at once."""
    async with db.sessions() as session:
        queued = await waitlist_cases.expire(session, now=clock.now(), hold=hold)
    if queued:
        await outbox.send(bot, queued)
    return len(queued)
