"""«Мои пациенты»: patients remembered for the account, adding one without booking, and the
consents the account gave (per organization), with their withdrawal."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.dialogue import Dialogue, Mode, write_dialogue
from bot.handlers import screens
from bot.handlers.identify import ask_identity
from bot.i18n import t
from bot.keyboards import account as kb
from bot.keyboards import booking as booking_kb
from bot.keyboards.callbacks import (
    AddPatient,
    ForgetPatient,
    MyPatients,
    RememberPatient,
    Withdraw,
)
from bot.services import accounts, catalog
from bot.services.booking import BookingError
from bot.services.clock import Clock
from bot.services.consent import has_consent, held_consents
from bot.states import BookingFlow
from bot.texts import esc
from bot.usecases import accounts as account_cases


async def remember(
    query: CallbackQuery, callback_data: RememberPatient, session: AsyncSession, clock: Clock
) -> None:
    try:
        patient = await account_cases.remember_from_booking(
            session,
            user_id=query.from_user.id,
            booking_id=callback_data.b,
            now=clock.now(),
        )
    except BookingError:
        await query.answer(t("refusal-not-found"), show_alert=True)
        return
    await query.answer(t("remembered", name=patient.full_name), show_alert=True)
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await query.message.edit_reply_markup(reply_markup=None)


async def _patients_screen(
    session: AsyncSession, *, telegram_user_id: int, settings: Settings
) -> screens.Screen:
    """Remembered patients, and which operators hold the account's consent."""
    patients = await accounts.remembered_patients(session, telegram_user_id=telegram_user_id)
    held = await held_consents(
        session, telegram_user_id=telegram_user_id, version=settings.consent.version
    )
    if patients:
        names = "\n".join(f"• {esc(p.full_name)}" for p in patients)
        head = t("my-patients", names=names)
    else:
        head = t("no-patients")
    lines = "\n".join(
        t(
            "consent-line",
            name=esc(c.organization_name or t("consent-account-name")),
            date=f"{c.accepted_at.astimezone(ZoneInfo(c.timezone)):%d.%m.%Y}",
        )
        for c in held
    )
    consents = t("consents-held", lines=lines) if held else t("consents-none")
    organizations = [
        (c.organization_id, c.short_name or "") for c in held if c.organization_id is not None
    ]
    return screens.Screen(f"{head}\n\n{consents}", kb.my_patients(patients, organizations))


async def list_patients(query: CallbackQuery, session: AsyncSession, settings: Settings) -> None:
    await query.answer()
    await screens.show(
        query,
        await _patients_screen(session, telegram_user_id=query.from_user.id, settings=settings),
    )


async def forget(
    query: CallbackQuery, callback_data: ForgetPatient, session: AsyncSession, settings: Settings
) -> None:
    await account_cases.forget(session, user_id=query.from_user.id, patient_id=callback_data.p)
    await query.answer(t("forgotten-short"))
    await screens.show(
        query,
        await _patients_screen(session, telegram_user_id=query.from_user.id, settings=settings),
    )


async def add_patient(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    """The three prompts without a booking: the patient is remembered once identified."""
    await query.answer()
    current = Dialogue.start(Mode.ADD_PATIENT)
    await write_dialogue(state, current)
    # No organization yet: the consent covers the account's own list of patients.
    if await has_consent(
        session,
        telegram_user_id=query.from_user.id,
        organization_id=None,
        version=settings.consent.version,
    ):
        await ask_identity(query, state=state, session=session, current=current, step=1)
        return
    await state.set_state(BookingFlow.consent)
    await screens.show(
        query,
        screens.consent(
            sid=current.sid, settings=settings, back=MyPatients().pack(), operator=None
        ),
    )


async def cmd_forget(message: Message) -> None:
    await message.answer(t("ask-withdraw"), reply_markup=kb.confirm_withdraw())


async def withdraw(
    query: CallbackQuery,
    callback_data: Withdraw,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
) -> None:
    """Ask, then withdraw one organization's consent (o) or every consent (o=0)."""
    await query.answer()
    organization = (
        await catalog.get_organization(session, callback_data.o) if callback_data.o else None
    )
    if callback_data.o and organization is None:
        await screens.show(query, screens.Screen(t("not-available"), booking_kb.start_only()))
        return
    name = esc(organization.name) if organization else ""
    if not callback_data.ok:
        ask = t("ask-withdraw-org", name=name) if organization else t("ask-withdraw")
        await screens.show(query, screens.Screen(ask, kb.confirm_withdraw(callback_data.o)))
        return
    await account_cases.withdraw(
        session,
        user_id=query.from_user.id,
        now=clock.now(),
        organization_id=organization.id if organization else None,
    )
    await state.clear()
    done = t("withdrawn-org", name=name) if organization else t("withdrawn")
    await screens.show(query, screens.Screen(done, booking_kb.start_only()))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_forget, Command("forget"))
    router.callback_query.register(remember, RememberPatient.filter(), F.message)
    router.callback_query.register(list_patients, MyPatients.filter(), F.message)
    router.callback_query.register(forget, ForgetPatient.filter(), F.message)
    router.callback_query.register(withdraw, Withdraw.filter(), F.message)
    router.callback_query.register(add_patient, AddPatient.filter(), F.message)
    return router
