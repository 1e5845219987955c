"""Choosing organization → service → doctor → day → time, and the consent."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.filters import InSession
from bot.handlers import screens
from bot.handlers.identify import ask_identity, book_for_identified, without_identity
from bot.handlers.moves import move_to_slot
from bot.handlers.start import begin
from bot.keyboards import booking as kb
from bot.keyboards.callbacks import (
    ClosedDay,
    ConsentAnswer,
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
from bot.services import catalog
from bot.services.accounts import is_remembered, remembered_patients
from bot.services.booking import is_slot_bookable
from bot.services.clock import Clock
from bot.services.consent import has_consent, record_consent
from bot.states import BookingFlow


async def _browse(state: FSMContext, draft: dict[str, Any], **selection: Any) -> None:
    await state.set_state(BookingFlow.browsing)
    await state.set_data({**without_identity(draft), **selection})


async def _unavailable(query: CallbackQuery) -> None:
    await query.answer(texts.NOT_AVAILABLE, show_alert=True)


async def list_organizations(
    query: CallbackQuery,
    callback_data: OrgList,
    state: FSMContext,
    session: AsyncSession,
    draft: dict[str, Any],
) -> None:
    await _browse(state, draft)
    await screens.show(
        query, await screens.organizations(session, sid=callback_data.s, page=callback_data.page)
    )
    await query.answer()


async def pick_organization(
    query: CallbackQuery,
    callback_data: OrgPick,
    state: FSMContext,
    session: AsyncSession,
    draft: dict[str, Any],
) -> None:
    screen = await screens.services(
        session, sid=callback_data.s, organization_id=callback_data.org, page=callback_data.page
    )
    if screen is None:
        return await _unavailable(query)
    await _browse(state, draft, org=callback_data.org)
    await screens.show(query, screen)
    await query.answer()


async def pick_service(
    query: CallbackQuery,
    callback_data: ServicePick,
    state: FSMContext,
    session: AsyncSession,
    draft: dict[str, Any],
) -> None:
    screen = await screens.doctors(
        session, sid=callback_data.s, service_id=callback_data.svc, page=callback_data.page
    )
    if screen is None:
        return await _unavailable(query)
    await _browse(state, draft, svc=callback_data.svc)
    await screens.show(query, screen)
    await query.answer()


async def pick_doctor(
    query: CallbackQuery,
    callback_data: DoctorPick,
    state: FSMContext,
    session: AsyncSession,
    draft: dict[str, Any],
    clock: Clock,
    settings: Settings,
) -> None:
    screen = await screens.days(
        session,
        sid=callback_data.s,
        service_id=callback_data.svc,
        doctor_id=callback_data.doc,
        now=clock.now(),
        settings=settings,
    )
    if screen is None:
        return await _unavailable(query)
    await _browse(state, draft, svc=callback_data.svc, doc=callback_data.doc)
    await screens.show(query, screen)
    await query.answer()


async def pick_day(
    query: CallbackQuery,
    callback_data: DayPick,
    state: FSMContext,
    session: AsyncSession,
    draft: dict[str, Any],
    clock: Clock,
    settings: Settings,
) -> None:
    screen = await screens.times(
        session, sid=callback_data.s, pick=callback_data, now=clock.now(), settings=settings
    )
    if screen is None:
        await query.answer(texts.DAY_CLOSED, show_alert=True)
        return
    await _browse(state, draft, svc=callback_data.svc, doc=callback_data.doc, day=callback_data.day)
    await screens.show(query, screen)
    await query.answer()


async def closed_day(query: CallbackQuery) -> None:
    await query.answer(texts.DAY_CLOSED, show_alert=True)


async def taken_slot(query: CallbackQuery) -> None:
    await query.answer(texts.TIME_TAKEN, show_alert=True)


async def page_info(query: CallbackQuery) -> None:
    await query.answer()


async def pick_slot(
    query: CallbackQuery,
    callback_data: SlotPick,
    state: FSMContext,
    session: AsyncSession,
    draft: dict[str, Any],
    clock: Clock,
    settings: Settings,
) -> None:
    now = clock.now()
    if not {"svc", "doc", "day"} <= draft.keys() or draft["svc"] != callback_data.svc:
        return await _unavailable(query)
    if not await is_slot_bookable(
        session,
        slot_id=callback_data.slot,
        service_id=callback_data.svc,
        doctor_id=draft["doc"],
        now=now,
    ):
        await query.answer(texts.TIME_TAKEN, show_alert=True)
        refreshed = await screens.times(
            session, sid=callback_data.s, pick=screens.day_pick(draft), now=now, settings=settings
        )
        if refreshed is not None:
            await screens.show(query, refreshed)
        return
    await _browse(state, draft, slot=callback_data.slot)
    draft = await state.get_data()
    assert query.message is not None
    if draft.get("move"):
        await query.answer()
        await move_to_slot(
            query, state=state, session=session, clock=clock, draft=draft, settings=settings
        )
        return
    if draft.get("remembered") and not await is_remembered(
        session, telegram_user_id=query.from_user.id, patient_id=draft.get("patient", 0)
    ):
        # «Забыть» was pressed since: that patient no longer books without the prompts.
        draft = {k: v for k, v in draft.items() if k not in ("patient", "remembered")}
        await state.set_data(draft)
    service = await catalog.get_service(session, callback_data.svc)
    if service is None:
        return await _unavailable(query)
    if not await has_consent(
        session,
        telegram_user_id=query.from_user.id,
        organization_id=service.organization_id,
        version=settings.consent.version,
    ):
        # Asked per organization: each is its own operator of personal data, so a patient
        # identified earlier in this dialogue (then gone back to another organization) too.
        await state.set_state(BookingFlow.consent)
        summary = await screens.choice_summary(
            session, slot_id=callback_data.slot, service_id=callback_data.svc
        )
        back = screens.day_pick(draft).pack()
        await screens.show(
            query,
            screens.consent(
                sid=callback_data.s,
                settings=settings,
                back=back,
                operator=service.organization,
                summary=summary,
            ),
        )
        await query.answer()
        return
    await query.answer()
    await _after_consent(
        query, state=state, session=session, clock=clock, draft=draft, settings=settings
    )


async def _after_consent(
    query: CallbackQuery,
    *,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    draft: dict[str, Any],
    settings: Settings,
) -> None:
    if draft.get("add_patient"):
        await ask_identity(query, state=state, session=session, draft=draft, step=1)
    elif draft.get("patient"):
        # Identified earlier in this dialogue (the first choice was taken meanwhile).
        await book_for_identified(
            query, state=state, session=session, clock=clock, draft=draft, settings=settings
        )
    else:
        await _who_is_patient(query, state=state, session=session, draft=draft)


async def answer_consent(
    query: CallbackQuery,
    callback_data: ConsentAnswer,
    state: FSMContext,
    session: AsyncSession,
    draft: dict[str, Any],
    clock: Clock,
    settings: Settings,
) -> None:
    if not callback_data.ok:
        await query.answer(texts.CONSENT_DECLINED_SHORT)
        await begin(query, state=state, session=session, notice=texts.CONSENT_DECLINED)
        return
    organization_id = None
    if not draft.get("add_patient"):
        service = await catalog.get_service(session, draft["svc"]) if "svc" in draft else None
        if service is None or not draft.get("slot"):
            return await _unavailable(query)
        organization_id = service.organization_id
    await record_consent(
        session,
        telegram_user_id=query.from_user.id,
        organization_id=organization_id,
        version=settings.consent.version,
        now=clock.now(),
    )
    await query.answer()
    await _after_consent(
        query, state=state, session=session, clock=clock, draft=draft, settings=settings
    )


async def _who_is_patient(
    query: CallbackQuery, *, state: FSMContext, session: AsyncSession, draft: dict[str, Any]
) -> None:
    """A remembered patient books without the three prompts; anyone else goes through them."""
    patients = await remembered_patients(session, telegram_user_id=query.from_user.id)
    if not patients:
        await ask_identity(query, state=state, session=session, draft=draft, step=1)
        return
    summary = await screens.choice_summary(session, slot_id=draft["slot"], service_id=draft["svc"])
    await state.set_state(BookingFlow.browsing)
    await screens.show(
        query,
        screens.Screen(
            texts.WHO_IS_PATIENT.format(summary=summary or ""),
            kb.who_is_patient(draft["sid"], patients, back=screens.day_pick(draft).pack()),
        ),
    )


async def pick_patient(
    query: CallbackQuery,
    callback_data: PatientPick,
    state: FSMContext,
    session: AsyncSession,
    draft: dict[str, Any],
    clock: Clock,
    settings: Settings,
) -> None:
    if not draft.get("slot") or draft.get("move"):
        return await _unavailable(query)
    await query.answer()
    if callback_data.p == 0:
        await ask_identity(query, state=state, session=session, draft=draft, step=1)
        return
    if not await is_remembered(
        session, telegram_user_id=query.from_user.id, patient_id=callback_data.p
    ):
        await screens.show(query, screens.Screen(texts.NOT_AVAILABLE, kb.start_only()))
        return
    draft = {**draft, "patient": callback_data.p, "remembered": True}
    await state.set_data(draft)
    await book_for_identified(
        query, state=state, session=session, clock=clock, draft=draft, settings=settings
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(InSession(), F.message)
    router.callback_query.register(list_organizations, OrgList.filter())
    router.callback_query.register(pick_organization, OrgPick.filter())
    router.callback_query.register(pick_service, ServicePick.filter())
    router.callback_query.register(pick_doctor, DoctorPick.filter())
    router.callback_query.register(pick_day, DayPick.filter())
    router.callback_query.register(closed_day, ClosedDay.filter())
    router.callback_query.register(taken_slot, TakenSlot.filter())
    router.callback_query.register(page_info, PageInfo.filter())
    router.callback_query.register(pick_slot, SlotPick.filter())
    router.callback_query.register(answer_consent, ConsentAnswer.filter(), BookingFlow.consent)
    router.callback_query.register(pick_patient, PatientPick.filter())
    return router
