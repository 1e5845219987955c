"""Choosing organization → service → doctor → day → time, and a remembered patient to book
for; the consent in between is handlers/consent.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.dialogue import Dialogue, Mode, write_dialogue
from bot.filters import InSession
from bot.handlers import screens
from bot.handlers.booked import book_chosen
from bot.handlers.consent import ask_consent_or_go_on
from bot.handlers.identify import ask_identity
from bot.handlers.moves import move_to_slot
from bot.i18n import t
from bot.keyboards import booking as kb
from bot.keyboards.callbacks import (
    ClosedDay,
    DayPick,
    DoctorPick,
    OrgList,
    OrgPick,
    PageInfo,
    PatientPick,
    ServicePick,
    SlotPick,
    TakenSlot,
)
from bot.services.accounts import is_remembered
from bot.services.booking import is_slot_bookable
from bot.services.clock import Clock
from bot.states import BookingFlow


async def _browse(state: FSMContext, current: Dialogue, **selection: object) -> Dialogue:
    """Back to browsing: the new choice; nothing typed at the prompts stays."""
    await state.set_state(BookingFlow.browsing)
    chosen = current.without_identity().but(**selection)
    await write_dialogue(state, chosen)
    return chosen


async def _unavailable(query: CallbackQuery) -> None:
    await query.answer(t("not-available"), show_alert=True)


async def _show(
    query: CallbackQuery, screen: screens.Screen | None, *, refusal: str = t("not-available")
) -> bool:
    if screen is None:
        await query.answer(refusal, show_alert=True)
        return False
    await screens.show(query, screen)
    await query.answer()
    return True


async def list_organizations(
    query: CallbackQuery,
    callback_data: OrgList,
    state: FSMContext,
    session: AsyncSession,
    dialogue: Dialogue,
) -> None:
    await _browse(state, dialogue)
    await _show(
        query, await screens.organizations(session, sid=dialogue.sid, page=callback_data.page)
    )


async def pick_organization(
    query: CallbackQuery,
    callback_data: OrgPick,
    state: FSMContext,
    session: AsyncSession,
    dialogue: Dialogue,
) -> None:
    screen = await screens.services(
        session, sid=dialogue.sid, organization_id=callback_data.org, page=callback_data.page
    )
    if await _show(query, screen):
        await _browse(state, dialogue, org=callback_data.org)


async def pick_service(
    query: CallbackQuery,
    callback_data: ServicePick,
    state: FSMContext,
    session: AsyncSession,
    dialogue: Dialogue,
) -> None:
    screen = await screens.doctors(
        session, sid=dialogue.sid, service_id=callback_data.svc, page=callback_data.page
    )
    if await _show(query, screen):
        await _browse(state, dialogue, svc=callback_data.svc)


async def pick_doctor(
    query: CallbackQuery,
    callback_data: DoctorPick,
    state: FSMContext,
    session: AsyncSession,
    dialogue: Dialogue,
    clock: Clock,
    settings: Settings,
) -> None:
    screen = await screens.days(
        session,
        sid=dialogue.sid,
        service_id=callback_data.svc,
        doctor_id=callback_data.doc,
        now=clock.now(),
        settings=settings,
        # A new booking checks the state's guarantee on waiting times (a move does not).
        user_id=query.from_user.id if dialogue.mode is Mode.BOOK else None,
    )
    if await _show(query, screen):
        await _browse(state, dialogue, svc=callback_data.svc, doc=callback_data.doc)


async def pick_day(
    query: CallbackQuery,
    callback_data: DayPick,
    state: FSMContext,
    session: AsyncSession,
    dialogue: Dialogue,
    clock: Clock,
    settings: Settings,
) -> None:
    screen = await screens.times(
        session, sid=dialogue.sid, pick=callback_data, now=clock.now(), settings=settings
    )
    if await _show(query, screen, refusal=t("day-closed")):
        await _browse(
            state, dialogue, svc=callback_data.svc, doc=callback_data.doc, day=callback_data.day
        )


async def closed_day(query: CallbackQuery) -> None:
    await query.answer(t("day-closed"), show_alert=True)


async def taken_slot(query: CallbackQuery) -> None:
    await query.answer(t("time-taken"), show_alert=True)


async def page_info(query: CallbackQuery) -> None:
    await query.answer()


async def pick_slot(
    query: CallbackQuery,
    callback_data: SlotPick,
    state: FSMContext,
    session: AsyncSession,
    dialogue: Dialogue,
    clock: Clock,
    settings: Settings,
) -> None:
    """A time: moves go on to the move; a booking asks the consent, then who the patient is."""
    now = clock.now()
    if not dialogue.has_choice or dialogue.svc != callback_data.svc:
        return await _unavailable(query)
    if not await _still_bookable(
        query, pick=callback_data, session=session, dialogue=dialogue, now=now, settings=settings
    ):
        return
    current = await _browse(state, dialogue, slot=callback_data.slot)
    await query.answer()
    await _move_or_book(
        query,
        state=state,
        session=session,
        current=current,
        clock=clock,
        settings=settings,
    )


async def _still_bookable(
    query: CallbackQuery,
    *,
    pick: SlotPick,
    session: AsyncSession,
    dialogue: Dialogue,
    now: datetime,
    settings: Settings,
) -> bool:
    """Whether the pressed time may still be booked; if not, the day's times as they are now."""
    if await is_slot_bookable(
        session,
        slot_id=pick.slot,
        service_id=pick.svc,
        doctor_id=dialogue.doc,
        now=now,
        user_id=query.from_user.id,
    ):
        return True
    await query.answer(t("time-taken"), show_alert=True)
    await screens.show_if(
        query,
        await screens.times(
            session, sid=dialogue.sid, pick=dialogue.day_pick(), now=now, settings=settings
        ),
    )
    return False


async def _move_or_book(
    query: CallbackQuery,
    *,
    state: FSMContext,
    session: AsyncSession,
    current: Dialogue,
    clock: Clock,
    settings: Settings,
) -> None:
    """A move goes on to the move (the registry's to its confirmation); a booking to the
    consent."""
    if current.mode in (Mode.MOVE, Mode.STAFF_MOVE):
        await move_to_slot(
            query,
            state=state,
            session=session,
            clock=clock,
            current=current,
            settings=settings,
        )
        return
    if current.remembered and not await is_remembered(
        session, telegram_user_id=query.from_user.id, patient_id=current.patient or 0
    ):
        # «Забыть» was pressed since: that patient no longer books without the prompts.
        current = current.but(patient=None, remembered=False)
        await write_dialogue(state, current)
    await ask_consent_or_go_on(
        query,
        state=state,
        session=session,
        current=current,
        clock=clock,
        settings=settings,
    )


async def pick_patient(
    query: CallbackQuery,
    callback_data: PatientPick,
    state: FSMContext,
    session: AsyncSession,
    dialogue: Dialogue,
    clock: Clock,
    settings: Settings,
) -> None:
    if dialogue.slot is None or dialogue.mode is not Mode.BOOK:
        return await _unavailable(query)
    await query.answer()
    if callback_data.p == 0:
        await ask_identity(query, state=state, session=session, current=dialogue, step=1)
        return
    if not await is_remembered(
        session, telegram_user_id=query.from_user.id, patient_id=callback_data.p
    ):
        await screens.show(query, screens.Screen(t("not-available"), kb.start_only()))
        return
    current = dialogue.but(patient=callback_data.p, remembered=True)
    await write_dialogue(state, current)
    await book_chosen(
        query,
        state=state,
        session=session,
        current=current,
        clock=clock,
        settings=settings,
    )


ROUTES: tuple[tuple[Callable[..., Awaitable[None]], type[CallbackData]], ...] = (
    (list_organizations, OrgList),
    (pick_organization, OrgPick),
    (pick_service, ServicePick),
    (pick_doctor, DoctorPick),
    (pick_day, DayPick),
    (closed_day, ClosedDay),
    (taken_slot, TakenSlot),
    (page_info, PageInfo),
    (pick_slot, SlotPick),
    (pick_patient, PatientPick),
)


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(F.message)
    for handler, data in ROUTES:
        router.callback_query.register(handler, data.filter(), InSession())
    return router
