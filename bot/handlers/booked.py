"""The end of the booking dialogue: book the chosen time, or go back to the day's times."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.dialogue import Dialogue, write_dialogue
from bot.handlers import screens
from bot.i18n import t
from bot.keyboards import booking as kb
from bot.services.clock import Clock
from bot.states import BookingFlow
from bot.usecases import patient
from bot.usecases.outcomes import (
    Account,
    Changed,
    DistrictRefusal,
    OverLimit,
    Refused,
    SlotTaken,
)


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
    """The acting account; in a private chat its chat is the user's own. A pressed text
    message is the screen a booking's confirmation replaces."""
    user = target.from_user
    assert user is not None
    if isinstance(target, Message):
        return Account(user_id=user.id, chat_id=target.chat.id)
    message = target.message
    screen = message.message_id if isinstance(message, Message) and message.text else None
    return Account(user_id=user.id, chat_id=user.id, screen=screen)


async def book_chosen(
    target: CallbackQuery | Message,
    *,
    state: FSMContext,
    session: AsyncSession,
    current: Dialogue,
    clock: Clock,
    settings: Settings,
) -> None:
    """Book the dialogue's time for its patient. The confirmation and the ticket are owed in
    the booking's own transaction and sent after the update's commit (bot/middlewares.py)."""
    (slot_id, service_id), patient_id = current.choice, current.patient
    if patient_id is None:
        raise ValueError("no patient in this dialogue")
    account, now = account_of(target), clock.now()
    if isinstance(target, Message) and current.prompt is not None:
        # Typed last (the birth date): the prompt that asked for it becomes the confirmation.
        # An edit, so that sending it again after a crash can't show it twice.
        account = replace(account, screen=current.prompt)
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
        return
    if isinstance(outcome, DistrictRefusal):
        await _not_this_district(target, outcome, state=state, current=current)
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


async def _not_this_district(
    target: CallbackQuery | Message,
    refusal: DistrictRefusal,
    *,
    state: FSMContext,
    current: Dialogue,
) -> None:
    """Why not this doctor, with the patient's own district's doctors to choose from. The
    identified patient stays in the dialogue: the next time they choose books at once."""
    await state.set_state(BookingFlow.browsing)
    await write_dialogue(state, current.without_identity().but(slot=None))
    _, service_id = current.choice
    markup = kb.district_doctors(current.sid, service_id=service_id, doctors=refusal.doctors)
    await screens.show(target, screens.Screen(texts.district_refusal(refusal), markup))


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
