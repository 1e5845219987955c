"""The waitlist from the chat: joining it from a doctor's days, the offer of a freed time
(«Записаться» books it like a pressed time; «Не подходит» passes it on), and leaving it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.dialogue import Dialogue, write_dialogue
from bot.filters import InSession
from bot.handlers import screens
from bot.handlers.consent import ask_consent_or_go_on
from bot.i18n import t
from bot.keyboards import waitlist as kb
from bot.keyboards.callbacks import OfferAction, WaitJoin, WaitLeave
from bot.services import catalog
from bot.services.clock import Clock
from bot.services.dates import long_day
from bot.services.waitlist import JoinRefusal, OfferRefusal, OfferView
from bot.states import BookingFlow
from bot.texts import esc
from bot.usecases import waitlist as cases


async def ask_join(
    query: CallbackQuery,
    callback_data: WaitJoin,
    session: AsyncSession,
    dialogue: Dialogue,
) -> None:
    """«Сообщить, когда появится время»: this doctor only, or any doctor of the service."""
    doctor = await catalog.get_doctor_for_service(
        session, doctor_id=callback_data.doc, service_id=callback_data.svc
    )
    if doctor is None:
        await query.answer(t("not-available"), show_alert=True)
        return
    await query.answer()
    text = t("waitlist-ask", doctor=esc(doctor.short_name))
    day = screens.parse_day(callback_data.day) if callback_data.day else None
    if day is not None:
        text = f"{t('waitlist-day-full', day=long_day(day))}\n\n{text}"
    await screens.show(query, screens.Screen(text, kb.join_choice(callback_data)))


async def join(
    query: CallbackQuery,
    callback_data: WaitJoin,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
) -> None:
    result = await cases.join(
        session,
        user_id=query.from_user.id,
        chat_id=query.from_user.id,
        service_id=callback_data.svc,
        doctor_id=callback_data.doc,
        any_doctor=bool(callback_data.any),
        day=screens.parse_day(callback_data.day) if callback_data.day else None,
        now=clock.now(),
        settings=settings,
    )
    if isinstance(result, JoinRefusal):
        key = "waitlist-already" if result is JoinRefusal.ALREADY else "waitlist-too-many"
        await query.answer(t(key, limit=settings.waitlist.max_entries), show_alert=True)
        return
    await query.answer()
    await state.clear()
    await screens.show(
        query,
        screens.Screen(t("waitlist-joined", hold=settings.waitlist.hold_minutes), kb.after_join()),
    )


async def offer(
    query: CallbackQuery,
    callback_data: OfferAction,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
) -> None:
    """«Записаться» on an offer: the held time goes on as if pressed in the day's grid."""
    now = clock.now()
    if callback_data.a == "n":
        declined = await cases.decline(
            session,
            offer_id=callback_data.o,
            user_id=query.from_user.id,
            now=now,
            settings=settings,
        )
        await query.answer()
        await screens.show(
            query,
            screens.Screen(
                t("waitlist-declined" if declined else "waitlist-offer-gone"), kb.after_join()
            ),
        )
        return
    taken = await cases.offer_to_take(
        session, offer_id=callback_data.o, user_id=query.from_user.id, now=now
    )
    if isinstance(taken, OfferRefusal):
        await _refused(
            query,
            taken,
            callback_data=callback_data,
            session=session,
            state=state,
            clock=clock,
            settings=settings,
        )
        return
    current = await _dialogue_for(session, taken)
    if current is None:
        await query.answer(t("waitlist-offer-gone"), show_alert=True)
        return
    await state.set_state(BookingFlow.browsing)
    await write_dialogue(state, current)
    await query.answer()
    await ask_consent_or_go_on(
        query, state=state, session=session, current=current, clock=clock, settings=settings
    )


async def _dialogue_for(session: AsyncSession, offer: OfferView) -> Dialogue | None:
    doctor = await catalog.get_doctor_for_service(
        session, doctor_id=offer.doctor_id, service_id=offer.service_id
    )
    if doctor is None:
        return None
    local = offer.starts_at.astimezone(ZoneInfo(doctor.organization.timezone))
    return Dialogue.start(
        org=doctor.organization_id,
        svc=offer.service_id,
        doc=offer.doctor_id,
        day=f"{local:%Y%m%d}",
        slot=offer.slot_id,
    )


async def _refused(
    query: CallbackQuery,
    refusal: OfferRefusal,
    *,
    callback_data: OfferAction,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    settings: Settings,
) -> None:
    if refusal is OfferRefusal.NOT_YOURS:
        await query.answer(t("waitlist-not-yours"), show_alert=True)
        return
    await query.answer()
    # The hold ran out or the offer ended: the doctor's free times as they are now.
    found = await cases.offer_doctor(session, offer_id=callback_data.o)
    if found is None:
        await screens.show(query, screens.Screen(t("waitlist-offer-gone"), kb.after_join()))
        return
    service_id, doctor_id = found
    current = Dialogue.start(svc=service_id, doc=doctor_id)
    await state.set_state(BookingFlow.browsing)
    await write_dialogue(state, current)
    screen = await screens.days(
        session,
        sid=current.sid,
        service_id=service_id,
        doctor_id=doctor_id,
        now=clock.now(),
        settings=settings,
    )
    key = "waitlist-offer-expired" if refusal is OfferRefusal.EXPIRED else "waitlist-offer-gone"
    if screen is None:
        await screens.show(query, screens.Screen(t(key), kb.after_join()))
        return
    await screens.show(query, screens.Screen(f"{t(key)}\n\n{screen.text}", screen.markup))


async def leave(
    query: CallbackQuery,
    callback_data: WaitLeave,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
) -> None:
    left = await cases.leave(
        session,
        entry_id=callback_data.e,
        user_id=query.from_user.id,
        now=clock.now(),
        settings=settings,
    )
    await query.answer(t("waitlist-left" if left else "waitlist-offer-gone"), show_alert=not left)
    if left:
        await screens.show(query, screens.Screen(t("waitlist-left"), kb.after_join()))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(F.message)
    router.callback_query.register(ask_join, WaitJoin.filter(F.go == 0), InSession())
    router.callback_query.register(join, WaitJoin.filter(F.go == 1), InSession())
    # Offers and leaving come in messages of their own, outside any dialogue.
    router.callback_query.register(offer, OfferAction.filter())
    router.callback_query.register(leave, WaitLeave.filter())
    return router
