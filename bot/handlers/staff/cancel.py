"""Cancelling a booking as the registry: the reason typed, a confirmation, the patient told."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.delivery.outbox import Outbox
from bot.handlers import screens
from bot.handlers.staff import render
from bot.handlers.staff.render import told_text
from bot.i18n import t
from bot.keyboards import staff as kb
from bot.keyboards.callbacks import StaffCancel
from bot.services.clock import Clock
from bot.services.staff.access import StaffAccess
from bot.services.staff.args import REASON_LIMIT
from bot.services.staff.search import booking_for
from bot.services.visits import load_visit
from bot.states import StaffFlow
from bot.texts import esc
from bot.usecases import registry
from bot.usecases.outcomes import Changed
from db.models import Booking


async def on_cancel(
    query: CallbackQuery,
    callback_data: StaffCancel,
    state: FSMContext,
    session: AsyncSession,
    access: StaffAccess,
    clock: Clock,
    outbox: Outbox,
    settings: Settings,
) -> None:
    booking = await booking_for(session, booking_id=callback_data.b, access=access)
    if booking is None:
        await query.answer(t("refusal-not-found"), show_alert=True)
        return
    await query.answer()
    assert query.bot is not None
    if callback_data.step == 0:
        await state.set_state(StaffFlow.cancel_reason)
        await state.set_data({"staff_cancel": booking.id})
        await query.bot.send_message(
            query.from_user.id, t("staff-ask-reason", ticket=esc(booking.ticket_number))
        )
        return
    data = await state.get_data()
    reason = data.get("reason")
    await state.clear()
    if callback_data.step == 2 or data.get("staff_cancel") != booking.id or not reason:
        await screens.show(query, screens.Screen(t("staff-kept")))
        return
    answer = await _cancel(
        query.bot,
        session,
        booking,
        reason=reason,
        access=access,
        clock=clock,
        outbox=outbox,
        hold=settings.waitlist.hold,
    )
    await screens.show(query, screens.Screen(answer))


async def _cancel(
    bot: Bot,
    session: AsyncSession,
    booking: Booking,
    *,
    reason: str,
    access: StaffAccess,
    clock: Clock,
    outbox: Outbox,
    hold: timedelta,
) -> str:
    """Cancel with the reason and tell the patient; the answer for the staff member."""
    now = clock.now()
    outcome = await registry.cancel(
        session, booking_id=booking.id, access=access, reason=reason, now=now, hold=hold
    )
    if not isinstance(outcome, Changed):
        return texts.refusal(outcome)
    # Sent now rather than after the update, so that the answer can say whether it went.
    told = await outbox.send(bot, outcome.queued)
    return t(
        "staff-cancelled",
        ticket=esc(outcome.visit.ticket_number),
        notified=told_text(told, owed=bool(outcome.queued)),
    )


async def typed_reason(
    message: Message, state: FSMContext, session: AsyncSession, access: StaffAccess
) -> None:
    data = await state.get_data()
    reason = (message.text or "").strip()
    if len(reason) > REASON_LIMIT:
        await message.answer(t("staff-reason-too-long", limit=REASON_LIMIT))
        return
    booking = await booking_for(session, booking_id=data.get("staff_cancel", 0), access=access)
    if booking is None or not reason:
        await state.clear()
        await message.answer(t("refusal-not-found"))
        return
    await state.update_data(reason=reason)
    visit = await load_visit(session, booking_id=booking.id)
    assert visit is not None
    await message.answer(
        t(
            "staff-confirm-cancel",
            ticket=esc(booking.ticket_number),
            card=render.card(visit),
            reason=esc(reason),
        ),
        reply_markup=kb.staff_cancel_confirm(booking.id),
    )


def create_router() -> Router:
    router = Router(name=__name__)
    # A command is never taken for the reason: it leaves the cancellation instead.
    router.message.register(typed_reason, StaffFlow.cancel_reason, F.text, ~F.text.startswith("/"))
    router.callback_query.register(on_cancel, StaffCancel.filter(), F.message)
    return router
