"""«Мои записи»: the account's upcoming bookings, each with its ticket, calendar file, move
and cancel."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.delivery.documents import send_calendar, send_ticket
from bot.handlers import screens
from bot.handlers.booked import account_of
from bot.handlers.moves import start_move
from bot.i18n import t
from bot.keyboards import account as kb
from bot.keyboards import booking as booking_kb
from bot.keyboards import waitlist as wait_kb
from bot.keyboards.callbacks import MyBooking, MyBookings
from bot.services import accounts, waitlist
from bot.services.booking import within_cutoff
from bot.services.clock import Clock
from bot.services.dates import local_when
from bot.services.visits import VisitRecord
from bot.services.waitlist import EntryView
from bot.texts import esc
from bot.usecases import patient, queries
from bot.usecases.outcomes import Account, Changed, Outcome, Rules

BOOKINGS_PER_PAGE = 5
# Names in the list are cut to keep a page far below Telegram's 4096 characters; the card
# of a booking shows them whole.
LIST_FIELD_CHARS = 80
# The action that stops at the cut-off before the visit: a move. A cancel (`x`, `xy`) stays
# possible until the visit starts.
MOVES = ("mv",)


def _short(value: str) -> str:
    return value if len(value) <= LIST_FIELD_CHARS else value[: LIST_FIELD_CHARS - 1] + "…"


def _item(n: int, visit: VisitRecord) -> str:
    return t(
        "my-bookings-item",
        n=n,
        when=local_when(visit.starts_at, visit.timezone),
        org=esc(_short(visit.organization_short_name)),
        doctor=esc(_short(f"{visit.doctor_position} {visit.doctor_short_name}")),
        service=esc(_short(visit.service_name)),
        patient=esc(_short(visit.patient_full_name)),
        ticket=esc(visit.ticket_number),
    )


async def _bookings_screen(
    session: AsyncSession, *, telegram_user_id: int, clock: Clock, page: int = 0
) -> screens.Screen:
    now = clock.now()
    visits = await accounts.upcoming_bookings(session, telegram_user_id=telegram_user_id, now=now)
    waits = await waitlist.entries_of(session, user_id=telegram_user_id, now=now)
    if not visits:
        screen = screens.Screen(t("no-bookings"), kb.my_bookings([], page=0, pages=1))
    else:
        pages = -(-len(visits) // BOOKINGS_PER_PAGE)
        page = min(max(page, 0), pages - 1)
        first = page * BOOKINGS_PER_PAGE
        shown = visits[first : first + BOOKINGS_PER_PAGE]
        items = "\n\n".join(_item(n, v) for n, v in enumerate(shown, start=first + 1))
        screen = screens.Screen(
            t("my-bookings", items=items), kb.my_bookings(shown, page=page, pages=pages)
        )
    return _with_waitlist(screen, waits) if waits else screen


def _with_waitlist(screen: screens.Screen, waits: list[EntryView]) -> screens.Screen:
    """The account's waitlist entries under its bookings, each with «Отказаться»."""
    lines = [t("my-waitlist-title")]
    buttons = []
    for entry in waits:
        what = t("my-waitlist-any") if entry.any_doctor else entry.doctor_name
        if entry.day is not None:
            what = f"{what}, {texts.day_label(entry.day)}"
        line = t("my-waitlist-entry", service=esc(_short(entry.service_name)), what=esc(what))
        if entry.held_starts_at is not None:
            line += " " + t(
                "my-waitlist-held", when=local_when(entry.held_starts_at, entry.timezone)
            )
        lines.append(line)
        buttons.append(wait_kb.leave_button(entry.entry_id, _short(what)))
    markup = screen.markup or InlineKeyboardMarkup(inline_keyboard=[])
    rows = [*buttons, *markup.inline_keyboard]
    text = f"{screen.text}\n\n" + "\n".join(lines)
    return screens.Screen(text, InlineKeyboardMarkup(inline_keyboard=rows))


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
    now, account, action = clock.now(), account_of(query), callback_data.a
    rules = settings.rules
    outcome = await _cancel_or_check(
        session, pressed=callback_data, account=account, now=now, rules=rules
    )
    if not isinstance(outcome, Changed):
        await query.answer(texts.refusal(outcome), show_alert=True)
        return
    await query.answer()
    visit, bot = outcome.visit, query.bot
    assert bot is not None
    match action:
        case "show" | "x":
            movable = not within_cutoff(visit.starts_at, now=now, cutoff=rules.cutoff)
            await screens.show(query, _screen(action, visit, movable=movable))
        case "pdf":
            await send_ticket(bot, account.chat_id, visit, issued_at=now)
        case "ics":
            await send_calendar(bot, account.chat_id, visit, now=now)
        case "xy":
            # The calendar's cancellation (and any notice) follows from the outbox.
            await screens.show(query, _screen(action, visit))
        case "mv":
            await start_move(
                query, state=state, session=session, visit=visit, clock=clock, settings=settings
            )


async def _cancel_or_check(
    session: AsyncSession, *, pressed: MyBooking, account: Account, now: datetime, rules: Rules
) -> Outcome:
    """The confirmed cancel (`xy`) cancels; any other button only checks that the booking is
    still the account's, and for a move (MOVES) that it is not past the cut-off."""
    if pressed.a == "xy":
        return await patient.cancel(
            session,
            booking_id=pressed.b,
            slot_id=pressed.sl,
            account=account,
            now=now,
            hold=rules.hold,
        )
    return await queries.changeable(
        session,
        booking_id=pressed.b,
        slot_id=pressed.sl,
        account=account,
        now=now,
        rules=rules,
        changing=pressed.a in MOVES,
    )


def _screen(action: str, visit: VisitRecord, *, movable: bool = False) -> screens.Screen:
    """The booking's message after `show` (its card, with «Перенести» only if `movable`: not
    yet within the cut-off), `x` (the question) or `xy` (cancelled)."""
    details = texts.ticket_details(visit)
    if action == "show":
        card = kb.booking_card(visit, movable=movable)
        return screens.Screen(t("booking-card", details=details), card)
    if action == "x":
        return screens.Screen(t("ask-cancel", details=details), kb.confirm_cancel(visit))
    return screens.Screen(t("cancelled", details=details), booking_kb.start_only())


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_my, Command("my"))
    router.callback_query.register(list_bookings, MyBookings.filter(), F.message)
    router.callback_query.register(on_booking, MyBooking.filter(), F.message)
    return router
