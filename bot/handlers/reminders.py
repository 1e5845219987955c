"""The buttons on a reminder: confirm, cancel (after a question), move."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.handlers import screens
from bot.handlers.booked import account_of
from bot.handlers.moves import start_move
from bot.i18n import t
from bot.keyboards import booking as kb
from bot.keyboards import reminders as reminder_kb
from bot.keyboards.callbacks import ReminderAction
from bot.services.clock import Clock
from bot.services.visits import VisitRecord
from bot.usecases import patient, queries
from bot.usecases.outcomes import Account, Changed, Outcome, OverLimit, Refused, Rules, SlotTaken


async def on_reminder_action(
    query: CallbackQuery,
    callback_data: ReminderAction,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
) -> None:
    now, account = clock.now(), account_of(query)
    action = callback_data.a
    if action == "xn":
        await query.answer()
        await screens.show(query, screens.Screen(t("kept"), kb.start_only()))
        return
    outcome = await _apply(
        session, pressed=callback_data, account=account, now=now, rules=settings.rules
    )
    if isinstance(outcome, Refused | OverLimit | SlotTaken):
        await _refused(query, outcome, action=action)
        return
    await query.answer(t("confirmed") if action == "ok" else None, show_alert=action == "ok")
    assert isinstance(outcome, Changed)
    assert query.bot is not None
    visit = outcome.visit
    if action == "x":
        await _ask_cancel(query.bot, visit, chat_id=account.chat_id, pressed=callback_data)
    elif action == "xy":
        text = t("cancelled", details=texts.ticket_details(visit))
        # The calendar's cancellation (and any notice) follows from the outbox.
        await screens.show(query, screens.Screen(text, kb.start_only()))
    elif action == "mv":
        await start_move(
            query, state=state, session=session, visit=visit, clock=clock, settings=settings
        )


async def _apply(
    session: AsyncSession, *, pressed: ReminderAction, account: Account, now: datetime, rules: Rules
) -> Outcome:
    """`ok` confirms and `xy` cancels; `x` (which asks first) and `mv` (which opens the days)
    only check that the booking may still change: a cancel until the visit starts, a move
    until the cut-off before it (an old «Перенести» pressed later gets the phone)."""
    booking_id, slot_id = pressed.b, pressed.sl
    if pressed.a == "ok":
        return await patient.confirm(
            session, booking_id=booking_id, slot_id=slot_id, account=account, now=now
        )
    if pressed.a == "xy":
        return await patient.cancel(
            session,
            booking_id=booking_id,
            slot_id=slot_id,
            account=account,
            now=now,
            hold=rules.hold,
        )
    return await queries.changeable(
        session,
        booking_id=booking_id,
        slot_id=slot_id,
        account=account,
        now=now,
        rules=rules,
        changing=pressed.a == "mv",
    )


async def _ask_cancel(
    bot: Bot, visit: VisitRecord, *, chat_id: int, pressed: ReminderAction
) -> None:
    """The question before cancelling, as a new message."""
    await bot.send_message(
        chat_id,
        t("ask-cancel", details=texts.ticket_details(visit)),
        reply_markup=reminder_kb.confirm_cancel(booking_id=pressed.b, slot_id=pressed.sl),
    )


async def _refused(
    query: CallbackQuery, outcome: Refused | OverLimit | SlotTaken, *, action: str
) -> None:
    text = texts.refusal(outcome)
    await query.answer(text, show_alert=True)
    if action == "xy" and isinstance(query.message, Message):
        await screens.show(query, screens.Screen(text, kb.start_only()))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(on_reminder_action, ReminderAction.filter(), F.message)
    return router
