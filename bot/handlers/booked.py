"""The end of the booking dialogue: book the chosen time, or go back to the day's times."""

from __future__ import annotations

from datetime import datetime

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.delivery.limiter import RateLimiter
from bot.delivery.owed import deliver
from bot.dialogue import Dialogue, write_dialogue
from bot.handlers import screens
from bot.i18n import t
from bot.keyboards import booking as kb
from bot.services.accounts import is_remembered
from bot.services.clock import Clock
from bot.states import BookingFlow
from bot.usecases import patient
from bot.usecases.outcomes import Account, Changed, OverLimit, Refused, SlotTaken


async def show_times_again(
    target: CallbackQuery | Message,
    *,
    state: FSMContext,
    session: AsyncSession,
    current: Dialogue,
    now: datetime,
    settings: Settings,
    notice: str | None = None,
) -> None:
    """Back to the chosen day's times, keeping what is already settled (e.g. the patient)."""
    await state.set_state(BookingFlow.browsing)
    await write_dialogue(state, current.without_identity().but(slot=None))
    screen = await screens.times(
        session,
        sid=current.sid,
        pick=current.day_pick(),
        now=now,
        settings=settings,
        notice=notice,
    )
    await screens.show(target, screen or screens.Screen(t("not-available"), kb.start_only()))


def account_of(target: CallbackQuery | Message) -> Account:
    """The acting account; in a private chat its chat is the user's own."""
    user = target.from_user
    assert user is not None
    chat_id = target.chat.id if isinstance(target, Message) else user.id
    return Account(user_id=user.id, chat_id=chat_id)


async def book_chosen(
    target: CallbackQuery | Message,
    *,
    state: FSMContext,
    session: AsyncSession,
    current: Dialogue,
    clock: Clock,
    settings: Settings,
    limiter: RateLimiter,
) -> None:
    """Book the dialogue's time for its patient; show the result and send the ticket."""
    (slot_id, service_id), patient_id = current.choice, current.patient
    if patient_id is None:
        raise ValueError("no patient in this dialogue")
    account, now = account_of(target), clock.now()
    outcome = await patient.book(
        session,
        slot_id=slot_id,
        service_id=service_id,
        patient_id=patient_id,
        account=account,
        now=now,
        rules=settings.rules,
    )
    if isinstance(outcome, Changed):
        # Nothing typed survives the booking: the dialogue is over.
        await state.clear()
        await _show_booked(
            target, outcome, session=session, account=account, now=now, limiter=limiter
        )
        return
    await refused_or_taken(
        target,
        outcome,
        state=state,
        session=session,
        current=current,
        now=now,
        settings=settings,
        end_dialogue=False,
    )


async def refused_or_taken(
    target: CallbackQuery | Message,
    outcome: OverLimit | Refused | SlotTaken,
    *,
    state: FSMContext,
    session: AsyncSession,
    current: Dialogue,
    now: datetime,
    settings: Settings,
    end_dialogue: bool,
) -> None:
    """A taken time: the day's other times. A refusal: why, with the way to start again; a
    booking keeps its choice for another time, a move (`end_dialogue`) ends."""
    if isinstance(outcome, SlotTaken):
        await show_times_again(
            target,
            state=state,
            session=session,
            current=current,
            now=now,
            settings=settings,
            notice=t("slot-taken-meanwhile"),
        )
        return
    if end_dialogue:
        await state.clear()
    else:
        await state.set_state(BookingFlow.browsing)
        await write_dialogue(state, current.without_identity().but(slot=None))
    await screens.show(target, screens.Screen(texts.refusal(outcome), kb.start_only()))


async def _show_booked(
    target: CallbackQuery | Message,
    outcome: Changed,
    *,
    session: AsyncSession,
    account: Account,
    now: datetime,
    limiter: RateLimiter,
) -> None:
    """The booking on screen (offering to remember a patient not remembered yet), then what
    it owes (the ticket)."""
    visit = outcome.visit
    remembered = await is_remembered(
        session, telegram_user_id=account.user_id, patient_id=visit.patient_id
    )
    text = t("booked", details=texts.ticket_details(visit))
    markup = None if remembered else kb.remember(visit.booking_id)
    await screens.show(target, screens.Screen(text, markup))
    assert target.bot is not None
    await deliver(
        target.bot, session, outcome.owed, acting_chat=account.chat_id, now=now, limiter=limiter
    )
