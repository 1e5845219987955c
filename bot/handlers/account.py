"""«Мои записи», remembered patients and withdrawing consent."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot import texts
from bot.config import Settings
from bot.delivery.notify import notify_chat
from bot.handlers import screens
from bot.handlers.documents import send_calendar, send_ticket
from bot.handlers.identify import ask_identity
from bot.handlers.moves import start_move
from bot.keyboards import account as kb
from bot.keyboards import booking as booking_kb
from bot.keyboards.alternatives import alternatives as alternatives_kb
from bot.keyboards.callbacks import (
    AddPatient,
    AltBook,
    ForgetPatient,
    MyBooking,
    MyBookings,
    MyPatients,
    RememberPatient,
    Withdraw,
)
from bot.services import accounts, catalog
from bot.services.booking import (
    BookingError,
    LimitReachedError,
    NotChangeableError,
    SlotUnavailableError,
    book_alternative,
    booking_calendar,
    cancel_booking,
    changeable_booking,
    load_ticket,
)
from bot.services.clock import Clock
from bot.services.consent import has_consent, held_consents
from bot.services.dates import local_when
from bot.services.staff import closures as staff_services
from bot.states import BookingFlow
from bot.texts import esc
from db.models import Booking

BOOKINGS_PER_PAGE = 5
# Names in the list are cut to keep a page far below Telegram's 4096 characters; the card
# of a booking shows them whole.
LIST_FIELD_CHARS = 80


def _short(value: str) -> str:
    return value if len(value) <= LIST_FIELD_CHARS else value[: LIST_FIELD_CHARS - 1] + "…"


async def _bookings_screen(
    session: AsyncSession, *, telegram_user_id: int, clock: Clock, page: int = 0
) -> screens.Screen:
    bookings = await accounts.upcoming_bookings(
        session, telegram_user_id=telegram_user_id, now=clock.now()
    )
    if not bookings:
        return screens.Screen(texts.NO_BOOKINGS, kb.my_bookings([], page=0, pages=1))
    pages = -(-len(bookings) // BOOKINGS_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    first = page * BOOKINGS_PER_PAGE
    shown = bookings[first : first + BOOKINGS_PER_PAGE]
    items = "\n\n".join(
        texts.MY_BOOKINGS_ITEM.format(
            n=n,
            when=local_when(b.slot.starts_at, b.service.organization.timezone),
            org=esc(_short(b.service.organization.short_name)),
            doctor=esc(_short(f"{b.slot.doctor.position} {b.slot.doctor.short_name}")),
            service=esc(_short(b.service.name)),
            patient=esc(_short(b.patient.full_name)),
            ticket=esc(b.ticket_number),
        )
        for n, b in enumerate(shown, start=first + 1)
    )
    return screens.Screen(
        texts.MY_BOOKINGS.format(items=items), kb.my_bookings(shown, page=page, pages=pages)
    )


async def cmd_my(message: Message, session: AsyncSession, clock: Clock) -> None:
    assert message.from_user is not None
    await screens.show(
        message,
        await _bookings_screen(session, telegram_user_id=message.from_user.id, clock=clock),
    )


async def list_bookings(
    query: CallbackQuery, callback_data: MyBookings, session: AsyncSession, clock: Clock
) -> None:
    await query.answer()
    screen = await _bookings_screen(
        session, telegram_user_id=query.from_user.id, clock=clock, page=callback_data.page
    )
    await screens.show(query, screen)


async def on_booking(
    query: CallbackQuery,
    callback_data: MyBooking,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
) -> None:
    now, user_id, action = clock.now(), query.from_user.id, callback_data.a
    bot = query.bot
    assert bot is not None
    # Changes stop at the cut-off; looking at the ticket or the calendar file does not.
    changing = action in ("mv", "x", "xy")
    try:
        booking = await changeable_booking(
            session,
            booking_id=callback_data.b,
            slot_id=callback_data.sl,
            telegram_user_id=user_id,
            now=now,
            cutoff=settings.booking.change_cutoff if changing else timedelta(0),
        )
        ticket = await load_ticket(session, booking_id=booking.id, now=now)
        card = texts.BOOKING_CARD.format(details=texts.ticket_details(ticket))
        match action:
            case "show":
                await query.answer()
                await screens.show(query, screens.Screen(card, kb.booking_card(booking)))
            case "pdf":
                await query.answer()
                await send_ticket(bot, user_id, ticket)
            case "ics":
                await query.answer()
                ics = await booking_calendar(session, booking_id=booking.id, now=now)
                await send_calendar(bot, user_id, ics, ticket_number=ticket.ticket_number)
            case "x":
                await query.answer()
                await screens.show(
                    query,
                    screens.Screen(
                        texts.ASK_CANCEL.format(details=texts.ticket_details(ticket)),
                        kb.confirm_cancel(booking),
                    ),
                )
            case "xy":
                booking = await cancel_booking(
                    session,
                    booking_id=booking.id,
                    slot_id=booking.slot_id,
                    telegram_user_id=user_id,
                    now=now,
                    cutoff=settings.booking.change_cutoff,
                )
                await query.answer()
                await screens.show(
                    query,
                    screens.Screen(
                        texts.CANCELLED.format(details=texts.ticket_details(ticket)),
                        booking_kb.start_only(),
                    ),
                )
                ics = await booking_calendar(
                    session, booking_id=booking.id, now=now, cancelled=True
                )
                await send_calendar(
                    bot, user_id, ics, ticket_number=ticket.ticket_number, cancelled=True
                )
                if booking.telegram_chat_id and booking.telegram_chat_id != user_id:
                    await notify_chat(
                        bot,
                        session,
                        chat_id=booking.telegram_chat_id,
                        text=texts.CANCELLED_BY_OTHER.format(details=texts.ticket_details(ticket)),
                        clock=clock,
                    )
            case "mv":
                await query.answer()
                await start_move(
                    query,
                    state=state,
                    session=session,
                    booking=booking,
                    clock=clock,
                    settings=settings,
                )
    except NotChangeableError as refusal:
        await session.rollback()
        await query.answer(texts.refusal(refusal), show_alert=True)


async def remember(
    query: CallbackQuery, callback_data: RememberPatient, session: AsyncSession, clock: Clock
) -> None:
    try:
        patient = await accounts.remember_from_booking(
            session,
            telegram_user_id=query.from_user.id,
            booking_id=callback_data.b,
            now=clock.now(),
        )
    except BookingError:
        await query.answer(texts.REFUSALS["not_found"], show_alert=True)
        return
    await query.answer(texts.REMEMBERED.format(name=patient.full_name), show_alert=True)
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
        head = texts.MY_PATIENTS.format(names=names)
    else:
        head = texts.NO_PATIENTS
    lines = "\n".join(
        texts.CONSENT_LINE.format(
            name=esc(c.organization_name or texts.CONSENT_ACCOUNT_NAME),
            date=f"{c.accepted_at.astimezone(ZoneInfo(c.timezone)):%d.%m.%Y}",
        )
        for c in held
    )
    consents = texts.CONSENTS_HELD.format(lines=lines) if held else texts.CONSENTS_NONE
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
    await accounts.forget_patient(
        session, telegram_user_id=query.from_user.id, patient_id=callback_data.p
    )
    await query.answer(texts.FORGOTTEN_SHORT)
    await screens.show(
        query,
        await _patients_screen(session, telegram_user_id=query.from_user.id, settings=settings),
    )


async def add_patient(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    """The three prompts without a booking: the patient is remembered once identified."""
    await query.answer()
    sid = screens.new_session_id()
    draft: dict[str, object] = {"sid": sid, "add_patient": True}
    await state.set_data(draft)
    # No organization yet: the consent covers the account's own list of patients.
    if await has_consent(
        session,
        telegram_user_id=query.from_user.id,
        organization_id=None,
        version=settings.consent.version,
    ):
        await ask_identity(query, state=state, session=session, draft=draft, step=1)
        return
    await state.set_state(BookingFlow.consent)
    await screens.show(
        query,
        screens.consent(sid=sid, settings=settings, back=MyPatients().pack(), operator=None),
    )


async def book_offered(
    query: CallbackQuery,
    callback_data: AltBook,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
) -> None:
    """One press on an alternative the registry offered with a cancellation."""
    now = clock.now()
    bot = query.bot
    assert bot is not None
    try:
        booking = await book_alternative(
            session,
            cancelled_booking_id=callback_data.b,
            slot_id=callback_data.sl,
            telegram_user_id=query.from_user.id,
            now=now,
            reminders=settings.reminders.policy,
            limits=settings.booking.limits,
            horizon_days=settings.booking.horizon_days,
        )
    except SlotUnavailableError:
        await query.answer(texts.ALTERNATIVE_TAKEN, show_alert=True)
        old = await session.get(
            Booking,
            callback_data.b,
            options=[selectinload(Booking.slot)],
            populate_existing=True,
        )
        if old is not None:
            offer = await staff_services.alternatives(session, booking=old, now=now)
            await screens.show(
                query,
                screens.Screen(texts.ALTERNATIVE_TAKEN, alternatives_kb(old.id, offer)),
            )
        return
    except NotChangeableError as refusal:
        await query.answer(texts.refusal(refusal), show_alert=True)
        return
    except LimitReachedError as error:
        await query.answer(texts.limit_reached(error), show_alert=True)
        return
    await query.answer()
    ticket = await load_ticket(session, booking_id=booking.id, now=now)
    await bot.send_message(
        query.from_user.id, texts.BOOKED.format(details=texts.ticket_details(ticket))
    )
    await send_ticket(bot, query.from_user.id, ticket, markup=booking_kb.start_only())


async def cmd_forget(message: Message) -> None:
    await message.answer(texts.ASK_WITHDRAW, reply_markup=kb.confirm_withdraw())


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
        await screens.show(query, screens.Screen(texts.NOT_AVAILABLE, booking_kb.start_only()))
        return
    name = esc(organization.name) if organization else ""
    if not callback_data.ok:
        ask = texts.ASK_WITHDRAW_ORG.format(name=name) if organization else texts.ASK_WITHDRAW
        await screens.show(query, screens.Screen(ask, kb.confirm_withdraw(callback_data.o)))
        return
    await accounts.withdraw_consent(
        session,
        telegram_user_id=query.from_user.id,
        now=clock.now(),
        organization_id=organization.id if organization else None,
    )
    await state.clear()
    done = texts.WITHDRAWN_ORG.format(name=name) if organization else texts.WITHDRAWN
    await screens.show(query, screens.Screen(done, booking_kb.start_only()))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_my, Command("my"))
    router.message.register(cmd_forget, Command("forget"))
    router.callback_query.register(list_bookings, MyBookings.filter(), F.message)
    router.callback_query.register(on_booking, MyBooking.filter(), F.message)
    router.callback_query.register(remember, RememberPatient.filter(), F.message)
    router.callback_query.register(list_patients, MyPatients.filter(), F.message)
    router.callback_query.register(forget, ForgetPatient.filter(), F.message)
    router.callback_query.register(withdraw, Withdraw.filter(), F.message)
    router.callback_query.register(add_patient, AddPatient.filter(), F.message)
    router.callback_query.register(book_offered, AltBook.filter(), F.message)
    return router
