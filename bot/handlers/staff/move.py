"""Moving a booking as the registry: the booking dialogue picks the time (handlers/moves.py),
then the staff member confirms here and the patient gets the new ticket."""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.delivery.limiter import RateLimiter
from bot.delivery.notify import notify_chat
from bot.handlers import screens
from bot.handlers.documents import send_ticket
from bot.handlers.moves import start_move
from bot.keyboards.callbacks import StaffMove
from bot.services.booking import (
    NotChangeableError,
    SlotUnavailableError,
    load_ticket,
    move_booking_by_staff,
)
from bot.services.clock import Clock
from bot.services.dates import local_when
from bot.services.staff.access import StaffAccess
from bot.services.staff.search import booking_for
from bot.services.ticket import TicketData
from bot.texts import esc
from db.models import Booking


async def on_move(
    query: CallbackQuery,
    callback_data: StaffMove,
    state: FSMContext,
    session: AsyncSession,
    access: StaffAccess,
    clock: Clock,
    settings: Settings,
    limiter: RateLimiter,
) -> None:
    booking = await booking_for(session, booking_id=callback_data.b, access=access)
    if booking is None:
        await query.answer(texts.REFUSALS["not_found"], show_alert=True)
        return
    await query.answer()
    if not callback_data.sl:
        await start_move(
            query,
            state=state,
            session=session,
            booking=booking,
            clock=clock,
            settings=settings,
            by_staff=True,
        )
        return
    if not callback_data.ok:
        await screens.show(query, screens.Screen(texts.STAFF_KEPT))
        return
    assert query.bot is not None
    answer = await _move(
        query.bot,
        session,
        booking,
        slot_id=callback_data.sl,
        access=access,
        clock=clock,
        settings=settings,
        limiter=limiter,
    )
    await screens.show(query, screens.Screen(answer))


async def _move(
    bot: Bot,
    session: AsyncSession,
    booking: Booking,
    *,
    slot_id: int,
    access: StaffAccess,
    clock: Clock,
    settings: Settings,
    limiter: RateLimiter,
) -> str:
    """Move to the slot and send the patient the new ticket; the answer for the staff member."""
    now = clock.now()
    try:
        moved = await move_booking_by_staff(
            session,
            booking_id=booking.id,
            new_slot_id=slot_id,
            staff_telegram_id=access.telegram_user_id,
            organization_codes=access.organization_codes,
            now=now,
            reminders=settings.reminders.policy,
        )
    except NotChangeableError as refusal:
        return texts.refusal(refusal)
    except SlotUnavailableError:
        return texts.TIME_TAKEN
    ticket = await load_ticket(session, booking_id=moved.id, now=now)
    notified = False
    if moved.telegram_chat_id:
        notified = await _send_new_ticket(
            bot, session, moved.telegram_chat_id, ticket, clock=clock, limiter=limiter
        )
    return texts.STAFF_MOVED.format(
        ticket=esc(moved.ticket_number),
        when=local_when(ticket.starts_at, ticket.timezone),
        notified=texts.STAFF_NOTIFIED if notified else texts.STAFF_NOT_NOTIFIED,
    )


async def _send_new_ticket(
    bot: Bot,
    session: AsyncSession,
    chat_id: int,
    ticket: TicketData,
    *,
    clock: Clock,
    limiter: RateLimiter,
) -> bool:
    """Tell the patient of the move, then send the new ticket; whether the notice got there."""
    notified = await notify_chat(
        bot,
        session,
        chat_id=chat_id,
        text=texts.MOVED_BY_REGISTRY.format(
            details=texts.ticket_details(ticket), phone=esc(ticket.organization_phone)
        ),
        clock=clock,
        limiter=limiter,
    )
    if notified:
        with contextlib.suppress(TelegramAPIError):
            await send_ticket(bot, chat_id, ticket)
    return notified


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(on_move, StaffMove.filter(), F.message)
    return router
