"""Identification: the OMS number, the document number and the birth date, one prompt each."""

from __future__ import annotations

import logging
from datetime import date, datetime

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.dialogue import Dialogue, Mode, read_dialogue, write_dialogue
from bot.filters import InSession
from bot.handlers import screens
from bot.handlers.booked import book_chosen, show_times_again
from bot.i18n import t
from bot.keyboards import booking as kb
from bot.keyboards.callbacks import IdentityStep
from bot.services.attempts import Identification
from bot.services.clock import Clock
from bot.services.identity import (
    IdentityFormatError,
    normalize_document_number,
    normalize_oms,
    parse_birth_date,
)
from bot.services.identity_texts import render
from bot.services.sealing import Sealer
from bot.states import BookingFlow
from bot.usecases import accounts as account_cases

logger = logging.getLogger(__name__)

# The prompt's state and text key (rendered in the patient's language when shown).
STEPS: dict[int, tuple[State, str]] = {
    1: (BookingFlow.oms, "ask-oms"),
    2: (BookingFlow.document, "ask-document"),
    3: (BookingFlow.birth_date, "ask-birth-date"),
}
IDENTITY_STATES = (BookingFlow.oms.state, BookingFlow.document.state, BookingFlow.birth_date.state)
# What the steps before each prompt left in the dialogue (sealed).
EARLIER = {1: (), 2: ("oms",), 3: ("oms", "document")}


async def _retire_prompt(message: Message, current: Dialogue) -> None:
    """Take the buttons off the previous prompt so only the current step can be pressed."""
    if not current.prompt or message.bot is None:
        return
    try:
        await message.bot.edit_message_reply_markup(
            chat_id=message.chat.id, message_id=current.prompt, reply_markup=None
        )
    except TelegramBadRequest:
        logger.debug("previous prompt %s already gone", current.prompt)


async def _forget_typed(message: Message) -> None:
    """Identity numbers do not stay in the chat history once read."""
    try:
        await message.delete()
    except TelegramBadRequest:
        logger.debug("could not delete a typed identity value")


async def _prompt_text(session: AsyncSession, current: Dialogue, step: int) -> str | None:
    """The step's prompt; the first one repeats the choice (None: the time is gone)."""
    prompt = t(STEPS[step][1])
    if step != 1:
        return prompt
    if current.mode is Mode.ADD_PATIENT:
        return f"{t('add-patient-intro')}\n\n{prompt}"
    if current.slot is None or current.svc is None:
        return None
    summary = await screens.choice_summary(session, slot_id=current.slot, service_id=current.svc)
    return None if summary is None else f"{t('chosen', summary=summary)}\n\n{prompt}"


async def ask_identity(
    target: CallbackQuery | Message,
    *,
    state: FSMContext,
    session: AsyncSession,
    current: Dialogue,
    step: int,
    notice: str | None = None,
) -> None:
    prompt = await _prompt_text(session, current, step)
    if prompt is None:
        # The slot vanished under the patient (a re-import closed that time).
        await state.set_state(BookingFlow.browsing)
        await write_dialogue(state, current.without_identity().but(slot=None))
        await screens.show(target, screens.Screen(t("slot-gone"), kb.start_only()))
        return
    if notice:
        prompt = f"{notice}\n\n{prompt}"
    if isinstance(target, Message):
        await _retire_prompt(target, current)
    sent = await screens.show(
        target, screens.Screen(prompt, kb.identity_prompt(current.sid, back_step=step - 1))
    )
    await state.set_state(STEPS[step][0])
    await write_dialogue(state, current.but(prompt=sent.message_id if sent else None))


async def go_to_step(
    query: CallbackQuery,
    callback_data: IdentityStep,
    state: FSMContext,
    session: AsyncSession,
    dialogue: Dialogue,
    clock: Clock,
    settings: Settings,
) -> None:
    step, adding = callback_data.step, dialogue.mode is Mode.ADD_PATIENT
    on_prompt = await state.get_state() in IDENTITY_STATES or dialogue.retry
    # Steps 1-3 exist only after the consent: a forged button must not skip it.
    if not (adding or dialogue.has_choice) or (step and not on_prompt):
        await query.answer(t("not-available"), show_alert=True)
        return
    await query.answer()
    if adding and step == 0:
        await state.clear()
        await screens.show(query, screens.Screen(t("add-patient-cancelled"), kb.start_only()))
        return
    if not adding and (step == 0 or dialogue.slot is None):
        await show_times_again(
            query,
            state=state,
            session=session,
            current=dialogue,
            now=clock.now(),
            settings=settings,
        )
        return
    # Back to a step: what was typed at it and after it is asked again.
    kept = dialogue.but(
        oms=dialogue.oms if step >= 2 else None,
        document=dialogue.document if step >= 3 else None,
        retry=False,
    )
    await ask_identity(query, state=state, session=session, current=kept, step=step)


def _seal_context(chat_id: int, current: Dialogue, key: str) -> str:
    # Bound to the account, the dialogue and the field: a sealed value opens nowhere else.
    return f"{chat_id}:{current.sid}:{key}"


async def _current(message: Message, state: FSMContext) -> Dialogue | None:
    """The dialogue the prompt belongs to; an unreadable one ends with the way to start."""
    current = await read_dialogue(state)
    if current is None:
        await state.clear()
        await message.answer(t("session-ended"), reply_markup=kb.start_only())
    return current


async def typed_number(
    message: Message, state: FSMContext, session: AsyncSession, sealer: Sealer
) -> None:
    """Step 1 or 2: the OMS or document number, checked for form, sealed into the dialogue."""
    await _forget_typed(message)
    current = await _current(message, state)
    if current is None:
        return
    step = 1 if await state.get_state() == BookingFlow.oms.state else 2
    normalize = normalize_oms if step == 1 else normalize_document_number
    try:
        value = normalize(message.text or "")
    except IdentityFormatError as error:
        notice = t("format-error", message=texts.esc(render(error)))
        await ask_identity(
            message, state=state, session=session, current=current, step=step, notice=notice
        )
        return
    if (
        await _earlier_values(
            message, state=state, session=session, sealer=sealer, current=current, step=step
        )
        is None
    ):
        return
    key = "oms" if step == 1 else "document"
    # Only sealed: the dialogue state is written to the database (see services/sealing.py).
    sealed = sealer.seal(value, context=_seal_context(message.chat.id, current, key))
    notice = t("oms-accepted") if step == 1 else t("document-accepted")
    await ask_identity(
        message,
        state=state,
        session=session,
        current=current.but(**{key: sealed}),
        step=step + 1,
        notice=notice,
    )


async def _earlier_values(
    message: Message,
    *,
    state: FSMContext,
    session: AsyncSession,
    sealer: Sealer,
    current: Dialogue,
    step: int,
) -> dict[str, str] | None:
    """The values typed at the steps before `step`; None after asking them again.

    They are lost when a step was pressed twice, or when they were sealed by the process
    before a restart, whose key is gone: then the patient is told why and starts at step 1.
    """
    keys = EARLIER[step]
    values = {
        key: sealer.open(
            getattr(current, key), context=_seal_context(message.chat.id, current, key)
        )
        for key in keys
    }
    opened = {key: value for key, value in values.items() if value is not None}
    if len(opened) == len(keys):
        return opened
    lost = all(getattr(current, key) is not None for key in keys)
    await ask_identity(
        message,
        state=state,
        session=session,
        current=current.but(oms=None, document=None),
        step=1,
        notice=t("identity-asked-again") if lost else None,
    )
    return None


async def typed_birth_date(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    sealer: Sealer,
) -> None:
    """Step 3: the birth date, then the registry lookup, then the booking."""
    await _forget_typed(message)
    current = await _current(message, state)
    if current is None:
        return
    now = clock.now()
    try:
        birth_date = parse_birth_date(message.text or "", today=now.date())
    except IdentityFormatError as error:
        notice = t("format-error", message=texts.esc(render(error)))
        await ask_identity(
            message, state=state, session=session, current=current, step=3, notice=notice
        )
        return
    earlier = await _earlier_values(
        message, state=state, session=session, sealer=sealer, current=current, step=3
    )
    if earlier is None:
        return
    await _look_up(
        message,
        state=state,
        session=session,
        current=current,
        earlier=earlier,
        birth_date=birth_date,
        now=now,
        clock=clock,
        settings=settings,
    )


async def _look_up(
    message: Message,
    *,
    state: FSMContext,
    session: AsyncSession,
    current: Dialogue,
    earlier: dict[str, str],
    birth_date: date,
    now: datetime,
    clock: Clock,
    settings: Settings,
) -> None:
    """The registry lookup with the three values, then what its result leads to."""
    result = await account_cases.identify(
        session,
        user_id=message.chat.id,
        oms=earlier["oms"],
        document=earlier["document"],
        birth_date=birth_date,
        now=now,
        limits=settings.failure_limits,
    )
    await _retire_prompt(message, current)
    # Nothing typed survives the lookup, whatever its result.
    current = current.without_identity()
    await state.set_state(BookingFlow.browsing)
    await _after_lookup(
        message,
        result=result,
        state=state,
        session=session,
        current=current,
        clock=clock,
        settings=settings,
    )


async def _after_lookup(
    message: Message,
    *,
    result: Identification,
    state: FSMContext,
    session: AsyncSession,
    current: Dialogue,
    clock: Clock,
    settings: Settings,
) -> None:
    """Not found: why; found while adding a patient: remembered; found for a time: booked."""
    if result.patient_id is None:
        await _not_identified(message, state=state, current=current, locked_out=result.locked_out)
    elif current.mode is Mode.ADD_PATIENT:
        await _remember(
            message, state=state, session=session, patient_id=result.patient_id, clock=clock
        )
    else:
        current = current.but(patient=result.patient_id)
        await write_dialogue(state, current)
        await book_chosen(
            message,
            state=state,
            session=session,
            current=current,
            clock=clock,
            settings=settings,
        )


async def _not_identified(
    message: Message, *, state: FSMContext, current: Dialogue, locked_out: bool
) -> None:
    logger.info(
        "identification %s for telegram user %s",
        "refused (too many failures)" if locked_out else "failed",
        message.chat.id,
    )
    if locked_out:
        await write_dialogue(state, current)
        await message.answer(t("too-many-failures"), reply_markup=kb.start_only())
    else:
        await write_dialogue(state, current.but(retry=True))
        await message.answer(t("login-failed"), reply_markup=kb.login_failed(current.sid))


async def _remember(
    message: Message, *, state: FSMContext, session: AsyncSession, patient_id: int, clock: Clock
) -> None:
    patient = await account_cases.remember(
        session, user_id=message.chat.id, patient_id=patient_id, now=clock.now()
    )
    await state.clear()
    await message.answer(
        t("remembered", name=texts.esc(patient.full_name)), reply_markup=kb.start_only()
    )


async def not_text(message: Message) -> None:
    await message.answer(t("text-expected"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(go_to_step, IdentityStep.filter(), InSession(), F.message)
    router.message.register(
        typed_number, StateFilter(BookingFlow.oms, BookingFlow.document), F.text
    )
    router.message.register(typed_birth_date, BookingFlow.birth_date, F.text)
    router.message.register(not_text, StateFilter(*IDENTITY_STATES))
    return router
