"""The consent to the processing of personal data, asked per organization before a booking,
and who the patient is once it is given."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.dialogue import Dialogue, Mode
from bot.filters import InSession
from bot.handlers import screens
from bot.handlers.booked import book_chosen
from bot.handlers.identify import ask_identity
from bot.handlers.start import begin
from bot.i18n import t
from bot.keyboards import booking as kb
from bot.keyboards.callbacks import ConsentAnswer
from bot.services import catalog
from bot.services.accounts import remembered_patients
from bot.services.catalog import ServiceRef
from bot.services.clock import Clock
from bot.services.consent import has_consent
from bot.states import BookingFlow
from bot.usecases.accounts import give_consent


async def _unavailable(query: CallbackQuery) -> None:
    await query.answer(t("not-available"), show_alert=True)


async def ask_consent_or_go_on(
    query: CallbackQuery,
    *,
    state: FSMContext,
    session: AsyncSession,
    current: Dialogue,
    clock: Clock,
    settings: Settings,
) -> None:
    """Each organization is its own operator of personal data: its own consent is asked,
    also for a patient identified earlier in this dialogue at another organization."""
    _, service_id = current.choice
    service = await catalog.get_service(session, service_id)
    if service is None:
        return await _unavailable(query)
    if await has_consent(
        session,
        telegram_user_id=query.from_user.id,
        organization_id=service.organization_id,
        version=settings.consent.version,
    ):
        await _after_consent(
            query,
            state=state,
            session=session,
            current=current,
            clock=clock,
            settings=settings,
        )
        return
    await _show_agreement(
        query, state=state, session=session, current=current, service=service, settings=settings
    )


async def _show_agreement(
    query: CallbackQuery,
    *,
    state: FSMContext,
    session: AsyncSession,
    current: Dialogue,
    service: ServiceRef,
    settings: Settings,
) -> None:
    """The agreement of the service's organization, with the choice it is asked for above it
    (the summary the later steps show, shortened only if the whole would not fit)."""
    slot_id, service_id = current.choice
    await state.set_state(BookingFlow.consent)
    choice = await screens.load_choice(session, slot_id=slot_id, service_id=service_id)
    await screens.show(
        query,
        screens.consent(
            sid=current.sid,
            settings=settings,
            back=current.day_pick().pack(),
            operator=service.organization,
            choice=choice,
        ),
    )


async def _after_consent(
    query: CallbackQuery,
    *,
    state: FSMContext,
    session: AsyncSession,
    current: Dialogue,
    clock: Clock,
    settings: Settings,
) -> None:
    if current.mode is Mode.ADD_PATIENT:
        await ask_identity(query, state=state, session=session, current=current, step=1)
    elif current.patient is not None:
        # Identified earlier in this dialogue (the first choice was taken meanwhile).
        await book_chosen(
            query,
            state=state,
            session=session,
            current=current,
            clock=clock,
            settings=settings,
        )
    else:
        await _who_is_patient(query, state=state, session=session, current=current)


async def answer_consent(
    query: CallbackQuery,
    callback_data: ConsentAnswer,
    state: FSMContext,
    session: AsyncSession,
    dialogue: Dialogue,
    clock: Clock,
    settings: Settings,
) -> None:
    if not callback_data.ok:
        await query.answer(t("consent-declined-short"))
        await begin(query, state=state, session=session, notice=t("consent-declined"))
        return
    organization_id = None
    if dialogue.mode is not Mode.ADD_PATIENT:
        service = await catalog.get_service(session, dialogue.svc) if dialogue.svc else None
        if service is None or dialogue.slot is None:
            return await _unavailable(query)
        organization_id = service.organization_id
    await give_consent(
        session,
        user_id=query.from_user.id,
        organization_id=organization_id,
        version=settings.consent.version,
        now=clock.now(),
    )
    await query.answer()
    await _after_consent(
        query,
        state=state,
        session=session,
        current=dialogue,
        clock=clock,
        settings=settings,
    )


async def _who_is_patient(
    query: CallbackQuery, *, state: FSMContext, session: AsyncSession, current: Dialogue
) -> None:
    """A remembered patient books without the three prompts; anyone else goes through them."""
    patients = await remembered_patients(session, telegram_user_id=query.from_user.id)
    if not patients:
        await ask_identity(query, state=state, session=session, current=current, step=1)
        return
    slot_id, service_id = current.choice
    summary = await screens.choice_summary(session, slot_id=slot_id, service_id=service_id)
    await state.set_state(BookingFlow.browsing)
    await screens.show(
        query,
        screens.Screen(
            t("who-is-patient", summary=summary or ""),
            kb.who_is_patient(current.sid, patients, back=current.day_pick().pack()),
        ),
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(F.message)
    # Only at the agreement: anywhere else its buttons are stale (handlers/fallback.py).
    router.callback_query.register(
        answer_consent, ConsentAnswer.filter(), InSession(), BookingFlow.consent
    )
    return router
