"""A free time the registry offered with its cancellation: booked in one press."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot import texts
from bot.config import Settings
from bot.delivery.limiter import RateLimiter
from bot.delivery.owed import deliver
from bot.handlers import screens
from bot.handlers.booked import account_of
from bot.i18n import t
from bot.keyboards.alternatives import alternatives as alternatives_kb
from bot.keyboards.callbacks import AltBook
from bot.services.clock import Clock
from bot.services.staff.closures import alternatives
from bot.usecases import patient
from bot.usecases.outcomes import Changed, SlotTaken
from db.models import Booking


async def book_offered(
    query: CallbackQuery,
    callback_data: AltBook,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    limiter: RateLimiter,
) -> None:
    now, account = clock.now(), account_of(query)
    outcome = await patient.book_offered(
        session,
        cancelled_booking_id=callback_data.b,
        slot_id=callback_data.sl,
        account=account,
        now=now,
        rules=settings.rules,
    )
    if isinstance(outcome, SlotTaken):
        await query.answer(t("alternative-taken"), show_alert=True)
        await _offer_again(query, session, cancelled_booking_id=callback_data.b, clock=clock)
        return
    if not isinstance(outcome, Changed):
        await query.answer(texts.refusal(outcome), show_alert=True)
        return
    await query.answer()
    assert query.bot is not None
    details = texts.ticket_details(outcome.visit)
    await query.bot.send_message(account.chat_id, t("booked", details=details))
    await deliver(
        query.bot, session, outcome.owed, acting_chat=account.chat_id, now=now, limiter=limiter
    )


async def _offer_again(
    query: CallbackQuery, session: AsyncSession, *, cancelled_booking_id: int, clock: Clock
) -> None:
    """The time was taken meanwhile: what is free now, in place of the old offer."""
    old = await session.get(
        Booking, cancelled_booking_id, options=[selectinload(Booking.slot)], populate_existing=True
    )
    if old is None:
        return
    offer = await alternatives(session, booking=old, now=clock.now())
    await screens.show(
        query, screens.Screen(t("alternative-taken"), alternatives_kb(old.id, offer))
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(book_offered, AltBook.filter(), F.message)
    return router
