"""Identification by OMS number, document number and birth date, then the booking itself."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.filters import InSession
from bot.handlers import screens
from bot.handlers.documents import send_ticket
from bot.keyboards import booking as kb
from bot.keyboards.callbacks import IdentityStep
from bot.services.accounts import is_remembered, remember_patient
from bot.services.attempts import identify
from bot.services.booking import (
    LimitReachedError,
    SlotUnavailableError,
    book_slot,
    load_ticket,
)
from bot.services.clock import Clock
from bot.services.identity import (
    IdentityFormatError,
    normalize_document_number,
    normalize_oms,
    parse_birth_date,
)
from bot.services.sealing import Sealer
from bot.states import BookingFlow

logger = logging.getLogger(__name__)

STEPS: dict[int, tuple[State, str]] = {
    1: (BookingFlow.oms, texts.ASK_OMS),
    2: (BookingFlow.document, texts.ASK_DOCUMENT),
    3: (BookingFlow.birth_date, texts.ASK_BIRTH_DATE),
}
IDENTITY_STATES = (BookingFlow.oms.state, BookingFlow.document.state, BookingFlow.birth_date.state)
# What identification keeps in the dialogue; dropped as soon as it is not needed.
IDENTITY_KEYS = ("oms", "document", "prompt", "retry")


def without_identity(draft: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in draft.items() if k not in IDENTITY_KEYS}


async def _retire_prompt(message: Message, draft: dict[str, Any]) -> None:
    """Take the buttons off the previous prompt so only the current step can be pressed."""
    prompt_id = draft.get("prompt")
    if not prompt_id or message.bot is None:
        return
    try:
        await message.bot.edit_message_reply_markup(
            chat_id=message.chat.id, message_id=prompt_id, reply_markup=None
        )
    except TelegramBadRequest:
        logger.debug("previous prompt %s already gone", prompt_id)


async def _forget_typed(message: Message) -> None:
    """Identity numbers do not stay in the chat history once read."""
    try:
        await message.delete()
    except TelegramBadRequest:
        logger.debug("could not delete a typed identity value")


async def show_times_again(
    target: CallbackQuery | Message,
    *,
    state: FSMContext,
    session: AsyncSession,
    draft: dict[str, Any],
    now: datetime,
    settings: Settings,
    notice: str | None = None,
) -> None:
    """Back to the chosen day's times, keeping what is already settled (e.g. the patient)."""
    await state.set_state(BookingFlow.browsing)
    await state.set_data(without_identity({**draft, "slot": None}))
    screen = await screens.times(
        session,
        sid=draft["sid"],
        pick=screens.day_pick(draft),
        now=now,
        settings=settings,
        notice=notice,
    )
    await screens.show(target, screen or screens.Screen(texts.NOT_AVAILABLE, kb.start_only()))


async def ask_identity(
    target: CallbackQuery | Message,
    *,
    state: FSMContext,
    session: AsyncSession,
    draft: dict[str, Any],
    step: int,
    notice: str | None = None,
) -> None:
    next_state, prompt = STEPS[step]
    if step == 1 and draft.get("add_patient"):
        prompt = f"{texts.ADD_PATIENT_INTRO}\n\n{prompt}"
    elif step == 1:
        summary = await screens.choice_summary(
            session, slot_id=draft["slot"], service_id=draft["svc"]
        )
        if summary is None:
            # The slot vanished under the patient (a re-import closed that time).
            await state.set_state(BookingFlow.browsing)
            await state.set_data(without_identity({**draft, "slot": None}))
            await screens.show(target, screens.Screen(texts.SLOT_GONE, kb.start_only()))
            return
        prompt = f"{texts.CHOSEN.format(summary=summary)}\n\n{prompt}"
    if notice:
        prompt = f"{notice}\n\n{prompt}"
    if isinstance(target, Message):
        await _retire_prompt(target, draft)
    sent = await screens.show(
        target, screens.Screen(prompt, kb.identity_prompt(draft["sid"], back_step=step - 1))
    )
    await state.set_state(next_state)
    await state.set_data({**draft, "prompt": sent.message_id if sent else None})


async def go_to_step(
    query: CallbackQuery,
    callback_data: IdentityStep,
    state: FSMContext,
    session: AsyncSession,
    draft: dict[str, Any],
    clock: Clock,
    settings: Settings,
) -> None:
    step = callback_data.step
    on_prompt = await state.get_state() in IDENTITY_STATES or draft.get("retry")
    adding = bool(draft.get("add_patient"))
    # Steps 1-3 exist only after the consent: a forged button must not skip it.
    if not (adding or {"svc", "doc", "day"} <= draft.keys()) or (step and not on_prompt):
        await query.answer(texts.NOT_AVAILABLE, show_alert=True)
        return
    await query.answer()
    if adding and step == 0:
        await state.clear()
        await screens.show(query, screens.Screen(texts.ADD_PATIENT_CANCELLED, kb.start_only()))
        return
    if not adding and (step == 0 or not draft.get("slot")):
        await show_times_again(
            query, state=state, session=session, draft=draft, now=clock.now(), settings=settings
        )
        return
    keep = {"oms"} if step >= 2 else set()
    if step == 3:
        keep.add("document")
    draft = {k: v for k, v in draft.items() if k not in IDENTITY_KEYS or k in keep}
    await ask_identity(query, state=state, session=session, draft=draft, step=step)


def _seal_context(chat_id: int, draft: dict[str, Any], key: str) -> str:
    # Bound to the account, the dialogue and the field: a sealed value opens nowhere else.
    return f"{chat_id}:{draft.get('sid')}:{key}"


async def typed_oms(
    message: Message, state: FSMContext, session: AsyncSession, sealer: Sealer
) -> None:
    await _accept_value(message, state=state, session=session, sealer=sealer, step=1, key="oms")


async def typed_document(
    message: Message, state: FSMContext, session: AsyncSession, sealer: Sealer
) -> None:
    await _accept_value(
        message, state=state, session=session, sealer=sealer, step=2, key="document"
    )


async def _accept_value(
    message: Message,
    *,
    state: FSMContext,
    session: AsyncSession,
    sealer: Sealer,
    step: int,
    key: str,
) -> None:
    draft = await state.get_data()
    normalize = normalize_oms if step == 1 else normalize_document_number
    await _forget_typed(message)
    try:
        value = normalize(message.text or "")
    except IdentityFormatError as error:
        await ask_identity(
            message, state=state, session=session, draft=draft, step=step, notice=_format(error)
        )
        return
    if step == 2 and not await _earlier_values(
        message, state=state, session=session, sealer=sealer, draft=draft, step=step
    ):
        return
    # Only sealed: the dialogue state is written to the database (see services/sealing.py).
    draft = {**draft, key: sealer.seal(value, context=_seal_context(message.chat.id, draft, key))}
    await ask_identity(
        message,
        state=state,
        session=session,
        draft=draft,
        step=step + 1,
        notice=texts.OMS_ACCEPTED if step == 1 else texts.DOCUMENT_ACCEPTED,
    )


async def _earlier_values(
    message: Message,
    *,
    state: FSMContext,
    session: AsyncSession,
    sealer: Sealer,
    draft: dict[str, Any],
    step: int,
) -> dict[str, str] | None:
    """The values typed at the steps before `step`; None after asking them again.

    They are lost when a step was pressed twice, or when they were sealed by the process
    before a restart, whose key is gone: then the patient is told why and starts at step 1.
    """
    keys = ("oms", "document")[: step - 1]
    values = {
        key: sealer.open(draft.get(key), context=_seal_context(message.chat.id, draft, key))
        for key in keys
    }
    opened = {key: value for key, value in values.items() if value is not None}
    if len(opened) == len(keys):
        return opened
    lost = all(key in draft for key in keys)
    await ask_identity(
        message,
        state=state,
        session=session,
        draft={k: v for k, v in draft.items() if k not in keys},
        step=1,
        notice=texts.IDENTITY_ASKED_AGAIN if lost else None,
    )
    return None


def _format(error: IdentityFormatError) -> str:
    return texts.FORMAT_ERROR.format(message=texts.esc(error.message))


async def typed_birth_date(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    sealer: Sealer,
) -> None:
    draft = await state.get_data()
    now = clock.now()
    await _forget_typed(message)
    try:
        birth_date = parse_birth_date(message.text or "", today=now.date())
    except IdentityFormatError as error:
        await ask_identity(
            message, state=state, session=session, draft=draft, step=3, notice=_format(error)
        )
        return
    earlier = await _earlier_values(
        message, state=state, session=session, sealer=sealer, draft=draft, step=3
    )
    if earlier is None:
        return
    result = await identify(
        session,
        telegram_user_id=message.chat.id,
        oms=earlier["oms"],
        document=earlier["document"],
        birth_date=birth_date,
        now=now,
        limits=settings.failure_limits,
    )
    await _retire_prompt(message, draft)
    draft = without_identity(draft)
    await state.set_state(BookingFlow.browsing)
    if result.patient_id is None:
        logger.info(
            "identification %s for telegram user %s",
            "refused (too many failures)" if result.locked_out else "failed",
            message.chat.id,
        )
        if result.locked_out:
            await state.set_data(draft)
            await message.answer(texts.TOO_MANY_FAILURES, reply_markup=kb.start_only())
        else:
            await state.set_data({**draft, "retry": True})
            await message.answer(texts.LOGIN_FAILED, reply_markup=kb.login_failed(draft["sid"]))
        return
    if draft.get("add_patient"):
        patient = await remember_patient(
            session, telegram_user_id=message.chat.id, patient_id=result.patient_id, now=now
        )
        await state.clear()
        await message.answer(
            texts.REMEMBERED.format(name=texts.esc(patient.full_name)),
            reply_markup=kb.start_only(),
        )
        return
    draft["patient"] = result.patient_id
    await state.set_data(draft)
    await book_for_identified(
        message, state=state, session=session, clock=clock, draft=draft, settings=settings
    )


async def not_text(message: Message) -> None:
    await message.answer(texts.TEXT_EXPECTED)


async def book_for_identified(
    target: CallbackQuery | Message,
    *,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    draft: dict[str, Any],
    settings: Settings,
) -> None:
    chat_id = target.chat.id if isinstance(target, Message) else target.from_user.id
    now = clock.now()
    try:
        booking = await book_slot(
            session,
            slot_id=draft["slot"],
            service_id=draft["svc"],
            patient_id=draft["patient"],
            telegram_user_id=target.from_user.id if target.from_user else None,
            telegram_chat_id=chat_id,
            now=now,
            reminders=settings.reminders.policy,
            limits=settings.booking.limits,
        )
    except LimitReachedError as error:
        await state.set_state(BookingFlow.browsing)
        await state.set_data(without_identity({**draft, "slot": None}))
        await screens.show(target, screens.Screen(texts.limit_reached(error), kb.start_only()))
        return
    except SlotUnavailableError:
        await show_times_again(
            target,
            state=state,
            session=session,
            draft=draft,
            now=now,
            settings=settings,
            notice=texts.SLOT_TAKEN_MEANWHILE,
        )
        return
    # Nothing typed survives the booking: the dialogue is over.
    await state.clear()
    logger.info("booking %s made for telegram user %s", booking.id, chat_id)
    ticket = await load_ticket(session, booking_id=booking.id, now=now)
    remembered = await is_remembered(
        session, telegram_user_id=chat_id, patient_id=booking.patient_id
    )
    await screens.show(
        target,
        screens.Screen(
            texts.BOOKED.format(details=texts.ticket_details(ticket)),
            None if remembered else kb.remember(booking.id),
        ),
    )
    assert target.bot is not None
    await send_ticket(target.bot, chat_id, ticket, markup=kb.start_only())


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(go_to_step, IdentityStep.filter(), InSession(), F.message)
    router.message.register(typed_oms, BookingFlow.oms, F.text)
    router.message.register(typed_document, BookingFlow.document, F.text)
    router.message.register(typed_birth_date, BookingFlow.birth_date, F.text)
    router.message.register(not_text, StateFilter(*IDENTITY_STATES))
    return router
