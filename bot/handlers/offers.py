"""A free time the registry offered with its cancellation: booked in one press."""

from __future__ import annotations

from dataclasses import replace

from aiogram import F, Router
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot import texts
from bot.config import Settings
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
) -> None:
    # The registry's notice with its offer stays in the chat: the confirmation comes anew.
    now, account = clock.now(), replace(account_of(query), screen=None)
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
    # The confirmation and the ticket follow from the outbox.
    await query.answer()


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
