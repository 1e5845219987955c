"""Moving an existing booking: the booking dialogue's day and time screens, then one move."""

from __future__ import annotations

import logging
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.delivery.notify import notify_chat
from bot.handlers import screens
from bot.handlers.documents import send_calendar, send_ticket
from bot.handlers.identify import show_times_again
from bot.keyboards import booking as kb
from bot.keyboards.staff import staff_move_confirm
from bot.services.booking import (
    LimitReachedError,
    NotChangeableError,
    SlotUnavailableError,
    booking_calendar,
    load_ticket,
    move_booking,
)
from bot.services.clock import Clock
from bot.states import BookingFlow
from db.models import Booking

logger = logging.getLogger(__name__)


async def start_move(
    query: CallbackQuery,
    *,
    state: FSMContext,
    session: AsyncSession,
    booking: Booking,
    clock: Clock,
    settings: Settings,
    by_staff: bool = False,
) -> None:
    """A new dialogue on the booking's doctor, remembering which booking it moves."""
    sid = screens.new_session_id()
    service_id, doctor_id = booking.service_id, booking.slot.doctor_id
    draft: dict[str, Any] = {
        "sid": sid,
        "svc": service_id,
        "doc": doctor_id,
        "move": booking.id,
        "from": booking.slot_id,
    }
    if by_staff:
        draft.update(staff=True, ticket=booking.ticket_number)
    screen = await screens.days(
        session,
        sid=sid,
        service_id=service_id,
        doctor_id=doctor_id,
        now=clock.now(),
        settings=settings,
    )
    if screen is None:
        await query.answer(texts.NOT_AVAILABLE, show_alert=True)
        return
    await state.set_state(BookingFlow.browsing)
    await state.set_data(draft)
    intro = (texts.STAFF_MOVE_INTRO if by_staff else texts.MOVE_INTRO).format(
        ticket=texts.esc(booking.ticket_number)
    )
    assert query.bot is not None
    await query.bot.send_message(
        query.from_user.id, f"{intro}\n\n{screen.text}", reply_markup=screen.markup
    )


async def move_to_slot(
    query: CallbackQuery,
    *,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    draft: dict[str, Any],
    settings: Settings,
) -> None:
    now = clock.now()
    if draft.get("staff"):
        # The registry confirms before the patient's time changes.
        await state.clear()
        summary = await screens.choice_summary(
            session, slot_id=draft["slot"], service_id=draft["svc"]
        )
        await screens.show(
            query,
            screens.Screen(
                texts.STAFF_CONFIRM_MOVE.format(
                    ticket=texts.esc(draft.get("ticket", "")), summary=summary or ""
                ),
                staff_move_confirm(draft["move"], draft["slot"]),
            ),
        )
        return
    try:
        booking = await move_booking(
            session,
            booking_id=draft["move"],
            slot_id=draft["from"],
            new_slot_id=draft["slot"],
            telegram_user_id=query.from_user.id,
            now=now,
            reminders=settings.reminders.policy,
            cutoff=settings.booking.change_cutoff,
            limits=settings.booking.limits,
        )
    except LimitReachedError as error:
        await state.clear()
        await screens.show(query, screens.Screen(texts.limit_reached(error), kb.start_only()))
        return
    except SlotUnavailableError:
        await show_times_again(
            query,
            state=state,
            session=session,
            draft=draft,
            now=now,
            settings=settings,
            notice=texts.SLOT_TAKEN_MEANWHILE,
        )
        return
    except NotChangeableError as refusal:
        await state.clear()
        await screens.show(query, screens.Screen(texts.refusal(refusal), kb.start_only()))
        return
    await state.clear()
    logger.info("booking %s moved by telegram user %s", booking.id, query.from_user.id)
    ticket = await load_ticket(session, booking_id=booking.id, now=now)
    await screens.show(
        query, screens.Screen(texts.MOVED.format(details=texts.ticket_details(ticket)))
    )
    assert query.bot is not None
    ics = await booking_calendar(session, booking_id=booking.id, now=now)
    await send_calendar(query.bot, query.from_user.id, ics, ticket_number=ticket.ticket_number)
    await send_ticket(query.bot, query.from_user.id, ticket, markup=kb.start_only())
    if booking.telegram_chat_id and booking.telegram_chat_id != query.from_user.id:
        await notify_chat(
            query.bot,
            session,
            chat_id=booking.telegram_chat_id,
            text=texts.MOVED_BY_OTHER.format(details=texts.ticket_details(ticket)),
            clock=clock,
        )
