"""The buttons on a reminder: confirm, cancel (after a question), move."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.handlers import screens
from bot.handlers.documents import send_calendar
from bot.handlers.moves import start_move
from bot.keyboards import booking as kb
from bot.keyboards import reminders as reminder_kb
from bot.keyboards.callbacks import ReminderAction
from bot.services.booking import (
    NotChangeableError,
    booking_calendar,
    cancel_booking,
    changeable_booking,
    confirm_booking,
    load_ticket,
)
from bot.services.clock import Clock


async def on_reminder_action(
    query: CallbackQuery,
    callback_data: ReminderAction,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
) -> None:
    now, user_id = clock.now(), query.from_user.id
    booking_id, slot_id = callback_data.b, callback_data.sl
    try:
        match callback_data.a:
            case "ok":
                await confirm_booking(
                    session,
                    booking_id=booking_id,
                    slot_id=slot_id,
                    telegram_user_id=user_id,
                    now=now,
                )
                await query.answer(texts.CONFIRMED, show_alert=True)
            case "x":
                await changeable_booking(
                    session,
                    booking_id=booking_id,
                    slot_id=slot_id,
                    telegram_user_id=user_id,
                    now=now,
                    cutoff=settings.booking.change_cutoff,
                )
                ticket = await load_ticket(session, booking_id=booking_id, now=now)
                await query.answer()
                assert query.bot is not None
                await query.bot.send_message(
                    user_id,
                    texts.ASK_CANCEL.format(details=texts.ticket_details(ticket)),
                    reply_markup=reminder_kb.confirm_cancel(booking_id=booking_id, slot_id=slot_id),
                )
            case "xy":
                await cancel_booking(
                    session,
                    booking_id=booking_id,
                    slot_id=slot_id,
                    telegram_user_id=user_id,
                    now=now,
                    cutoff=settings.booking.change_cutoff,
                )
                # Loaded only once the booking proved to be this chat's own.
                ticket = await load_ticket(session, booking_id=booking_id, now=now)
                await query.answer()
                await screens.show(
                    query,
                    screens.Screen(
                        texts.CANCELLED.format(details=texts.ticket_details(ticket)),
                        kb.start_only(),
                    ),
                )
                assert query.bot is not None
                ics = await booking_calendar(
                    session, booking_id=booking_id, now=now, cancelled=True
                )
                await send_calendar(
                    query.bot, user_id, ics, ticket_number=ticket.ticket_number, cancelled=True
                )
            case "xn":
                await query.answer()
                await screens.show(query, screens.Screen(texts.KEPT, kb.start_only()))
            case "mv":
                booking = await changeable_booking(
                    session,
                    booking_id=booking_id,
                    slot_id=slot_id,
                    telegram_user_id=user_id,
                    now=now,
                    cutoff=settings.booking.change_cutoff,
                )
                await query.answer()
                await start_move(
                    query,
                    state=state,
                    session=session,
                    booking=booking,
                    clock=clock,
                    settings=settings,
                )
    except NotChangeableError as refusal:
        await session.rollback()
        await query.answer(texts.refusal(refusal), show_alert=True)
        if callback_data.a in ("xy", "xn") and isinstance(query.message, Message):
            await screens.show(query, screens.Screen(texts.refusal(refusal), kb.start_only()))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(on_reminder_action, ReminderAction.filter(), F.message)
    return router
