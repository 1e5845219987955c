"""Moving an existing booking: the booking dialogue's day and time screens, then one move."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.dialogue import Dialogue, Mode, write_dialogue
from bot.handlers import screens
from bot.handlers.booked import account_of, refused_or_taken
from bot.i18n import t
from bot.keyboards.staff import staff_move_confirm
from bot.services.clock import Clock
from bot.services.visits import VisitRecord
from bot.states import BookingFlow
from bot.usecases import patient
from bot.usecases.outcomes import Changed


async def start_move(
    query: CallbackQuery,
    *,
    state: FSMContext,
    session: AsyncSession,
    visit: VisitRecord,
    clock: Clock,
    settings: Settings,
    by_staff: bool = False,
) -> None:
    """A new dialogue on the booking's doctor, remembering which booking it moves."""
    current = Dialogue.start(
        Mode.STAFF_MOVE if by_staff else Mode.MOVE,
        svc=visit.service_id,
        doc=visit.doctor_id,
        booking=visit.booking_id,
        from_slot=visit.slot_id,
        ticket=visit.ticket_number,
    )
    screen = await screens.days(
        session,
        sid=current.sid,
        service_id=visit.service_id,
        doctor_id=visit.doctor_id,
        now=clock.now(),
        settings=settings,
    )
    if screen is None:
        await query.answer(t("not-available"), show_alert=True)
        return
    await state.set_state(BookingFlow.browsing)
    await write_dialogue(state, current)
    intro = t(
        "staff-move-intro" if by_staff else "move-intro", ticket=texts.esc(visit.ticket_number)
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
    current: Dialogue,
    settings: Settings,
) -> None:
    """The new time is chosen: the registry confirms first; a patient's move is made now."""
    new_slot, _ = current.choice
    if current.booking is None or current.from_slot is None:
        raise ValueError("a move dialogue without its booking")
    if current.mode is Mode.STAFF_MOVE:
        await _ask_staff_confirmation(
            query, state=state, session=session, current=current, booking_id=current.booking
        )
        return
    now = clock.now()
    outcome = await patient.move(
        session,
        booking_id=current.booking,
        slot_id=current.from_slot,
        new_slot_id=new_slot,
        account=account_of(query),
        now=now,
        rules=settings.rules,
    )
    if isinstance(outcome, Changed):
        await state.clear()
        text = t("moved", details=texts.ticket_details(outcome.visit))
        # The new ticket and calendar file, and any notice, follow from the outbox.
        await screens.show(query, screens.Screen(text))
        return
    # The booking stays as it was; a refusal ends the move.
    await refused_or_taken(
        query,
        outcome,
        state=state,
        session=session,
        current=current,
        now=now,
        settings=settings,
        end_dialogue=True,
    )


async def _ask_staff_confirmation(
    query: CallbackQuery,
    *,
    state: FSMContext,
    session: AsyncSession,
    current: Dialogue,
    booking_id: int,
) -> None:
    """The registry's move is made only after this question (handlers/staff/move.py)."""
    new_slot, _ = current.choice
    await state.clear()
    summary = await screens.choice_summary(session, slot_id=new_slot, service_id=current.svc or 0)
    text = t("staff-confirm-move", ticket=texts.esc(current.ticket or ""), summary=summary or "")
    await screens.show(query, screens.Screen(text, staff_move_confirm(booking_id, new_slot)))
