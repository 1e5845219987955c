"""Moving a booking as the registry: the booking dialogue picks the time (handlers/moves.py),
then the staff member confirms here and the patient gets the new ticket."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.delivery.outbox import Outbox
from bot.handlers import screens
from bot.handlers.moves import start_move
from bot.handlers.staff.render import told_text
from bot.i18n import t
from bot.keyboards.callbacks import StaffMove
from bot.services.clock import Clock
from bot.services.dates import local_when
from bot.services.staff.access import StaffAccess
from bot.services.staff.search import booking_for
from bot.services.visits import load_visit
from bot.texts import esc
from bot.usecases import registry
from bot.usecases.outcomes import Changed
from db.models import Booking


async def on_move(
    query: CallbackQuery,
    callback_data: StaffMove,
    state: FSMContext,
    session: AsyncSession,
    access: StaffAccess,
    clock: Clock,
    settings: Settings,
    outbox: Outbox,
) -> None:
    booking = await booking_for(session, booking_id=callback_data.b, access=access)
    if booking is None:
        await query.answer(t("refusal-not-found"), show_alert=True)
        return
    await query.answer()
    if not callback_data.sl:
        await _begin_move(
            query, booking, state=state, session=session, clock=clock, settings=settings
        )
        return
    if not callback_data.ok:
        await screens.show(query, screens.Screen(t("staff-kept")))
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
        outbox=outbox,
    )
    await screens.show(query, screens.Screen(answer))


async def _begin_move(
    query: CallbackQuery,
    booking: Booking,
    *,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
) -> None:
    """«Move» on a booking's card: the booking dialogue's days, for the staff member."""
    visit = await load_visit(session, booking_id=booking.id)
    assert visit is not None
    await start_move(
        query,
        state=state,
        session=session,
        visit=visit,
        clock=clock,
        settings=settings,
        by_staff=True,
    )


async def _move(
    bot: Bot,
    session: AsyncSession,
    booking: Booking,
    *,
    slot_id: int,
    access: StaffAccess,
    clock: Clock,
    settings: Settings,
    outbox: Outbox,
) -> str:
    """Move to the slot and send the patient the new ticket; the answer for the staff member."""
    now = clock.now()
    outcome = await registry.move(
        session,
        booking_id=booking.id,
        new_slot_id=slot_id,
        access=access,
        now=now,
        rules=settings.rules,
    )
    if not isinstance(outcome, Changed):
        return texts.refusal(outcome)
    # Sent now rather than after the update, so that the answer can say whether it went.
    told = await outbox.send(bot, outcome.queued)
    visit = outcome.visit
    return t(
        "staff-moved",
        ticket=esc(visit.ticket_number),
        when=local_when(visit.starts_at, visit.timezone),
        notified=told_text(told, owed=bool(outcome.queued)),
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(on_move, StaffMove.filter(), F.message)
    return router
