"""Registry staff commands. To anyone else they do not exist: the access filter sits on the
router, so their updates fall through to the ordinary handlers like any unknown command."""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot import texts
from bot.config import Settings
from bot.delivery.limiter import RateLimiter
from bot.delivery.notify import notify_chat
from bot.handlers import screens
from bot.handlers.documents import send_ticket
from bot.handlers.moves import start_move
from bot.keyboards.alternatives import alternatives as alternatives_kb
from bot.keyboards.callbacks import StaffCancel, StaffClose, StaffMove
from bot.services import audit, staff
from bot.services.booking import (
    NotChangeableError,
    SlotUnavailableError,
    cancel_booking_by_staff,
    load_ticket,
    move_booking_by_staff,
)
from bot.services.clock import Clock
from bot.services.dates import local_when, long_day
from bot.services.identity import mask
from bot.services.slots import local_day_bounds
from bot.states import StaffFlow
from bot.texts import esc
from db.models import Booking, BookingStatus, Doctor


class IsStaff(Filter):
    """Passes staff and hands their access to the handler."""

    async def __call__(
        self, event: TelegramObject, session: AsyncSession, settings: Settings
    ) -> bool | dict[str, Any]:
        user = getattr(event, "from_user", None)
        if user is None:
            return False
        access = await staff.access_of(
            session, telegram_user_id=user.id, admins=settings.staff.admins
        )
        return {"access": access} if access is not None else False


async def cmd_help(message: Message, access: staff.StaffAccess) -> None:
    admin = texts.STAFF_ADMIN_HELP if access.is_admin else ""
    await message.answer(texts.STAFF_HELP.format(admin=admin))


def _card(booking: Booking) -> str:
    org = booking.service.organization
    return texts.STAFF_CARD.format(
        ticket=esc(booking.ticket_number),
        status=texts.STATUS_NAMES.get(booking.status.value, booking.status.value),
        confirmed=", подтверждена" if booking.confirmed_at else "",
        when=local_when(booking.slot.starts_at, org.timezone),
        org=esc(org.short_name),
        doctor=esc(booking.slot.doctor.full_name),
        position=esc(booking.slot.doctor.position),
        service=esc(booking.service.name),
        patient=esc(booking.patient.full_name),
        oms=mask(booking.patient.oms_number, visible=4),
    )


async def cmd_find(
    message: Message, command: CommandObject, session: AsyncSession, access: staff.StaffAccess
) -> None:
    if not command.args:
        await message.answer(texts.STAFF_USAGE_FIND)
        return
    found = await staff.find_bookings(session, query=command.args, access=access)
    if not found:
        await message.answer(texts.STAFF_NOTHING_FOUND)
        return
    for booking in found:
        await message.answer(_card(booking), reply_markup=_card_keyboard(booking))


def _card_keyboard(booking: Booking) -> InlineKeyboardMarkup | None:
    if booking.status is not BookingStatus.ACTIVE:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts.BTN_STAFF_CANCEL, callback_data=StaffCancel(b=booking.id).pack()
                ),
                InlineKeyboardButton(
                    text=texts.BTN_STAFF_MOVE, callback_data=StaffMove(b=booking.id).pack()
                ),
            ]
        ]
    )


async def on_move(
    query: CallbackQuery,
    callback_data: StaffMove,
    state: FSMContext,
    session: AsyncSession,
    access: staff.StaffAccess,
    clock: Clock,
    settings: Settings,
    limiter: RateLimiter,
) -> None:
    booking = await staff.booking_for(session, booking_id=callback_data.b, access=access)
    if booking is None:
        await query.answer(texts.REFUSALS["not_found"], show_alert=True)
        return
    await query.answer()
    if not callback_data.sl:
        await start_move(
            query,
            state=state,
            session=session,
            booking=booking,
            clock=clock,
            settings=settings,
            by_staff=True,
        )
        return
    if not callback_data.ok:
        await screens.show(query, screens.Screen(texts.STAFF_KEPT))
        return
    now = clock.now()
    try:
        moved = await move_booking_by_staff(
            session,
            booking_id=booking.id,
            new_slot_id=callback_data.sl,
            staff_telegram_id=access.telegram_user_id,
            organization_codes=access.organization_codes,
            now=now,
            reminders=settings.reminders.policy,
        )
    except NotChangeableError as refusal:
        await screens.show(query, screens.Screen(texts.refusal(refusal)))
        return
    except SlotUnavailableError:
        await screens.show(query, screens.Screen(texts.TIME_TAKEN))
        return
    ticket = await load_ticket(session, booking_id=moved.id, now=now)
    notified = False
    assert query.bot is not None
    if moved.telegram_chat_id:
        notified = await notify_chat(
            query.bot,
            session,
            chat_id=moved.telegram_chat_id,
            text=texts.MOVED_BY_REGISTRY.format(
                details=texts.ticket_details(ticket), phone=esc(ticket.organization_phone)
            ),
            clock=clock,
            limiter=limiter,
        )
        if notified:
            with contextlib.suppress(TelegramAPIError):
                await send_ticket(query.bot, moved.telegram_chat_id, ticket)
    await screens.show(
        query,
        screens.Screen(
            texts.STAFF_MOVED.format(
                ticket=esc(moved.ticket_number),
                when=local_when(ticket.starts_at, ticket.timezone),
                notified=texts.STAFF_NOTIFIED if notified else texts.STAFF_NOT_NOTIFIED,
            )
        ),
    )


REASON_LIMIT = 300


async def on_cancel(
    query: CallbackQuery,
    callback_data: StaffCancel,
    state: FSMContext,
    session: AsyncSession,
    access: staff.StaffAccess,
    clock: Clock,
    limiter: RateLimiter,
) -> None:
    booking = await staff.booking_for(session, booking_id=callback_data.b, access=access)
    if booking is None:
        await query.answer(texts.REFUSALS["not_found"], show_alert=True)
        return
    await query.answer()
    assert query.bot is not None
    if callback_data.step == 0:
        await state.set_state(StaffFlow.cancel_reason)
        await state.set_data({"staff_cancel": booking.id})
        await query.bot.send_message(
            query.from_user.id, texts.STAFF_ASK_REASON.format(ticket=esc(booking.ticket_number))
        )
        return
    data = await state.get_data()
    reason = data.get("reason")
    await state.clear()
    if callback_data.step == 2 or data.get("staff_cancel") != booking.id or not reason:
        await screens.show(query, screens.Screen(texts.STAFF_KEPT))
        return
    try:
        cancelled = await cancel_booking_by_staff(
            session,
            booking_id=booking.id,
            staff_telegram_id=access.telegram_user_id,
            organization_codes=access.organization_codes,
            reason=reason,
            now=clock.now(),
        )
    except NotChangeableError as refusal:
        await screens.show(query, screens.Screen(texts.refusal(refusal)))
        return
    notified = False
    if cancelled.telegram_chat_id:
        ticket = await load_ticket(session, booking_id=cancelled.id, now=clock.now())
        notified = await notify_chat(
            query.bot,
            session,
            chat_id=cancelled.telegram_chat_id,
            text=texts.CANCELLED_BY_REGISTRY.format(
                reason=esc(reason),
                details=texts.ticket_details(ticket),
                phone=esc(ticket.organization_phone),
            ),
            clock=clock,
            limiter=limiter,
        )
    await screens.show(
        query,
        screens.Screen(
            texts.STAFF_CANCELLED.format(
                ticket=esc(cancelled.ticket_number),
                notified=texts.STAFF_NOTIFIED if notified else texts.STAFF_NOT_NOTIFIED,
            )
        ),
    )


async def typed_reason(
    message: Message, state: FSMContext, session: AsyncSession, access: staff.StaffAccess
) -> None:
    data = await state.get_data()
    reason = (message.text or "").strip()
    if len(reason) > REASON_LIMIT:
        await message.answer(texts.STAFF_REASON_TOO_LONG.format(limit=REASON_LIMIT))
        return
    booking = await staff.booking_for(
        session, booking_id=data.get("staff_cancel", 0), access=access
    )
    if booking is None or not reason:
        await state.clear()
        await message.answer(texts.REFUSALS["not_found"])
        return
    await state.update_data(reason=reason)
    await message.answer(
        texts.STAFF_CONFIRM_CANCEL.format(
            ticket=esc(booking.ticket_number), card=_card(booking), reason=esc(reason)
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=texts.BTN_CANCEL_YES,
                        callback_data=StaffCancel(b=booking.id, step=1).pack(),
                    ),
                    InlineKeyboardButton(
                        text=texts.BTN_CANCEL_NO,
                        callback_data=StaffCancel(b=booking.id, step=2).pack(),
                    ),
                ]
            ]
        ),
    )


# /day looks back as well as ahead; /close and /reopen act on today and later only. A year
# either way covers the registry's work and keeps date arithmetic far from its limits.
def _day_window(today: date) -> staff.DateWindow:
    return staff.DateWindow.around(today, years_back=1, years_ahead=1)


def _period_window(today: date) -> staff.DateWindow:
    return staff.DateWindow.around(today, years_back=0, years_ahead=1)


def _date_refusal(bad: staff.BadDate, window: staff.DateWindow) -> str:
    if bad.problem is staff.DateProblem.NO_SUCH_DATE:
        return texts.STAFF_NO_SUCH_DATE.format(date=esc(bad.typed))
    if bad.problem is staff.DateProblem.OUT_OF_RANGE:
        return texts.STAFF_DATE_OUT_OF_RANGE.format(
            date=esc(bad.typed),
            earliest=f"{window.earliest:%d.%m.%Y}",
            latest=f"{window.latest:%d.%m.%Y}",
        )
    return texts.STAFF_BAD_DATE


# Telegram refuses a text over 4,096 UTF-16 code units. Lists built from the registry (a day of
# five-minute slots, many registrars) are cut to whole lines, since a cut line could split an
# HTML entity; the rest of the template stays well inside the remainder.
_LINES_BUDGET: Final = 3_500
# Doctors named when a query matches several: enough to pick the right code.
_AMBIGUOUS_SHOWN: Final = 10


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fit_lines(lines: Sequence[str]) -> str:
    kept: list[str] = []
    used = 0
    for line in lines:
        used += _utf16_len(line) + 1
        if used > _LINES_BUDGET:
            break
        kept.append(line)
    if len(kept) < len(lines):
        kept.append(texts.STAFF_LINES_LEFT_OUT.format(count=len(lines) - len(kept)))
    return "\n".join(kept)


def _ambiguous(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_AMBIGUOUS_SHOWN])
    more = ", …" if len(names) > _AMBIGUOUS_SHOWN else ""
    return texts.STAFF_DOCTOR_AMBIGUOUS.format(codes=esc(shown) + more)


async def cmd_day(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    access: staff.StaffAccess,
    clock: Clock,
) -> None:
    words = (command.args or "").split()
    if not words:
        # No doctor given: the doctors to choose from, with their codes.
        listed = await staff.doctors_in_scope(session, access=access)
        lines = _fit_lines(
            [
                f"{esc(d.organization.code)}:{esc(d.code)} — {esc(d.full_name)}, {esc(d.position)}"
                for d in listed
            ]
        )
        await message.answer(f"{texts.STAFF_USAGE_DAY}\n\n{lines}")
        return
    doctors = await staff.find_doctors(session, query=words[0], access=access)
    if not doctors:
        await message.answer(texts.STAFF_NOTHING_FOUND)
        return
    if len(doctors) > 1:
        await message.answer(
            _ambiguous([f"{d.organization.code}:{d.code} ({d.short_name})" for d in doctors])
        )
        return
    doctor = doctors[0]
    tz = ZoneInfo(doctor.organization.timezone)
    today = clock.now().astimezone(tz).date()
    window = _day_window(today)
    day = staff.parse_day_argument(words[1], today=today, window=window) if words[1:] else today
    if isinstance(day, staff.BadDate):
        await message.answer(_date_refusal(day, window))
        return
    rows = await staff.doctor_day(session, doctor=doctor, day=day)
    if not rows:
        await message.answer(
            texts.STAFF_DAY_EMPTY.format(doctor=esc(doctor.full_name), day=long_day(day))
        )
        return
    lines = _fit_lines(
        [
            f"{row.slot.starts_at.astimezone(tz):%H:%M} — "
            + (
                f"{esc(row.booking.patient.full_name)}, талон {esc(row.booking.ticket_number)}"
                if row.booking
                else ("свободно" if row.slot.is_open else "закрыто")
            )
            for row in rows
        ]
    )
    await message.answer(
        texts.STAFF_DAY.format(
            doctor=esc(doctor.full_name),
            position=esc(doctor.position),
            day=long_day(day),
            lines=lines,
        )
    )


async def cmd_history(
    message: Message, command: CommandObject, session: AsyncSession, access: staff.StaffAccess
) -> None:
    if not command.args:
        await message.answer(texts.STAFF_USAGE_HISTORY)
        return
    ticket = command.args.split()[0].upper()
    found = await staff.find_bookings(session, query=ticket, access=access)
    booking = next((b for b in found if b.ticket_number.upper() == ticket), None)
    if booking is None:
        await message.answer(texts.STAFF_NOTHING_FOUND)
        return
    tz = ZoneInfo(booking.service.organization.timezone)
    lines = []
    for entry in await audit.history(session, booking_id=booking.id):
        when = entry.at.astimezone(tz)
        change = ""
        # Where the time changed: before → after (a new booking has only an after).
        if entry.action in ("booked", "moved") and entry.after and "starts_at" in entry.after:
            after = datetime.fromisoformat(entry.after["starts_at"]).astimezone(tz)
            change = f" → {after:%d.%m.%Y %H:%M}"
            if entry.before and "starts_at" in entry.before:
                before = datetime.fromisoformat(entry.before["starts_at"]).astimezone(tz)
                change = f" {before:%d.%m.%Y %H:%M}{change}"
        who = texts.ACTOR_NAMES.get(entry.actor, entry.actor)
        if entry.actor_telegram_id:
            who = f"{who} {entry.actor_telegram_id}"
        reason = f" ({esc(entry.reason)})" if entry.reason else ""
        action = texts.ACTION_NAMES.get(entry.action, entry.action)
        lines.append(f"{when:%d.%m.%Y %H:%M} — {action}{change}, {who}{reason}")
    await message.answer(
        texts.STAFF_HISTORY.format(ticket=esc(booking.ticket_number), lines=_fit_lines(lines))
    )


async def cmd_staff(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    access: staff.StaffAccess,
    settings: Settings,
    clock: Clock,
) -> None:
    if not access.is_admin:
        await message.answer(texts.STAFF_HELP.format(admin=""))
        return
    words = (command.args or "").split()
    if not words:
        listed = await staff.members(session)
        members = _fit_lines(
            [
                f"• {m.telegram_user_id}"
                + (f" ({esc(', '.join(m.organization_codes))})" if m.organization_codes else "")
                for m in listed
            ]
        )
        admins = ", ".join(str(a) for a in settings.staff.admins) or "—"
        await message.answer(texts.STAFF_LIST.format(admins=admins, members=members or "—"))
        return
    if words[0] not in ("add", "remove") or len(words) < 2:
        await message.answer(texts.STAFF_USAGE_STAFF)
        return
    member_id = staff.parse_user_id(words[1])
    if member_id is None:
        await message.answer(texts.STAFF_BAD_USER_ID.format(limit=staff.USER_ID_LIMIT - 1))
        return
    codes = list(dict.fromkeys(words[2:]))  # a code typed twice counts once
    if words[0] == "remove":
        removed = await staff.remove_member(session, telegram_user_id=member_id)
        template = texts.STAFF_REMOVED if removed else texts.STAFF_NOT_MEMBER
        await message.answer(template.format(id=member_id))
        return
    if len(codes) > staff.MAX_ORGANIZATION_CODES:
        await message.answer(texts.STAFF_TOO_MANY_CODES.format(limit=staff.MAX_ORGANIZATION_CODES))
        return
    try:
        await staff.add_member(
            session,
            telegram_user_id=member_id,
            organization_codes=codes,
            added_by=access.telegram_user_id,
            now=clock.now(),
        )
    except staff.StaffError as error:
        await message.answer(esc(str(error)))
        return
    scope = f" (организации: {esc(', '.join(codes))})" if codes else ""
    await message.answer(texts.STAFF_ADDED.format(id=member_id, scope=scope))


TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$", re.ASCII)


async def _period(
    session: AsyncSession, words: list[str], *, access: staff.StaffAccess, clock: Clock
) -> tuple[Doctor, datetime, datetime, list[str]] | str:
    """`<doctor> <date> [HH:MM-HH:MM] rest…` → doctor, UTC bounds, the rest; or an error text."""
    if len(words) < 2:
        return ""
    doctors = await staff.find_doctors(session, query=words[0], access=access)
    if len(doctors) != 1:
        return _ambiguous([d.code for d in doctors]) if doctors else texts.STAFF_NOTHING_FOUND
    doctor = doctors[0]
    tz = ZoneInfo(doctor.organization.timezone)
    today = clock.now().astimezone(tz).date()
    window = _period_window(today)
    day = staff.parse_day_argument(words[1], today=today, window=window)
    if isinstance(day, staff.BadDate):
        return _date_refusal(day, window)
    since, until = local_day_bounds(day, tz)
    rest = words[2:]
    if rest and (match := TIME_RANGE.match(rest[0])):
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start = datetime.combine(day, time(h1, m1), tzinfo=tz)
            end = datetime.combine(day, time(h2, m2), tzinfo=tz)
        except ValueError:
            return texts.STAFF_BAD_TIME_RANGE
        if end <= start:
            return texts.STAFF_BAD_TIME_RANGE
        since, until, rest = start.astimezone(UTC), end.astimezone(UTC), rest[1:]
    return doctor, since, until, rest


async def cmd_close(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    access: staff.StaffAccess,
    clock: Clock,
) -> None:
    parsed = await _period(session, (command.args or "").split(), access=access, clock=clock)
    if isinstance(parsed, str) or not parsed[3]:
        await message.answer(
            parsed if isinstance(parsed, str) and parsed else texts.STAFF_USAGE_CLOSE
        )
        return
    doctor, since, until, rest = parsed
    reason = " ".join(rest)[:REASON_LIMIT]
    rows = await staff.doctor_day(
        session, doctor=doctor, day=since.astimezone(ZoneInfo(doctor.organization.timezone)).date()
    )
    count = sum(
        1
        for r in rows
        if r.booking
        and r.slot.starts_at < until
        and r.slot.ends_at > since
        and r.slot.starts_at > clock.now()
    )
    nonce = secrets.token_hex(4)
    await state.set_state(StaffFlow.close_confirm)
    await state.set_data(
        {
            "close": {
                "nonce": nonce,
                "doctor": doctor.id,
                "since": since.isoformat(),
                "until": until.isoformat(),
                "reason": reason,
            }
        }
    )
    tz = ZoneInfo(doctor.organization.timezone)
    start, end = since.astimezone(tz), until.astimezone(tz)
    whole_day = (since, until) == local_day_bounds(start.date(), tz)
    hours = "весь день" if whole_day else f"{start:%H:%M}–{end:%H:%M}"
    when = f"{long_day(start.date())}, {hours}"
    await message.answer(
        texts.STAFF_CONFIRM_CLOSE.format(
            doctor=esc(doctor.full_name), when=when, reason=esc(reason), count=count
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=texts.BTN_CLOSE_YES,
                        callback_data=StaffClose(ok=True, n=nonce).pack(),
                    ),
                    InlineKeyboardButton(
                        text=texts.BTN_CANCEL_NO,
                        callback_data=StaffClose(ok=False, n=nonce).pack(),
                    ),
                ]
            ]
        ),
    )


async def on_close(
    query: CallbackQuery,
    callback_data: StaffClose,
    state: FSMContext,
    session: AsyncSession,
    access: staff.StaffAccess,
    clock: Clock,
    settings: Settings,
    limiter: RateLimiter,
) -> None:
    data = (await state.get_data()).get("close")
    # Only the confirmation of the closure on record: not an older /close's buttons.
    if not data or data.get("nonce") != callback_data.n:
        await query.answer(texts.SESSION_ENDED_ALERT, show_alert=True)
        return
    await state.clear()
    await query.answer()
    if not callback_data.ok:
        await screens.show(query, screens.Screen(texts.STAFF_KEPT))
        return
    doctor = await session.get(Doctor, data["doctor"], options=[selectinload(Doctor.organization)])
    if doctor is None or not access.may_see(doctor.organization.code):
        await screens.show(query, screens.Screen(texts.STAFF_NOTHING_FOUND))
        return
    now = clock.now()
    cancelled = await staff.close_time(
        session,
        doctor=doctor,
        since=datetime.fromisoformat(data["since"]),
        until=datetime.fromisoformat(data["until"]),
        reason=data["reason"],
        staff_telegram_id=access.telegram_user_id,
        now=now,
    )
    notified = 0
    assert query.bot is not None
    for booking in cancelled:
        if not booking.telegram_chat_id:
            continue
        offer = await staff.alternatives(session, booking=booking, now=now)
        ticket = await load_ticket(session, booking_id=booking.id, now=now)
        sent = await notify_chat(
            query.bot,
            session,
            chat_id=booking.telegram_chat_id,
            text=texts.CLOSED_BY_REGISTRY.format(
                reason=esc(data["reason"]),
                details=texts.ticket_details(ticket),
                offer=texts.ALTERNATIVES_OFFER if offer else texts.NO_ALTERNATIVES,
                phone=esc(ticket.organization_phone),
            ),
            markup=alternatives_kb(booking.id, offer),
            clock=clock,
            limiter=limiter,
        )
        notified += int(sent)
    await screens.show(
        query,
        screens.Screen(texts.STAFF_CLOSED.format(count=len(cancelled), notified=notified)),
    )


async def cmd_reopen(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    access: staff.StaffAccess,
    clock: Clock,
    settings: Settings,
) -> None:
    parsed = await _period(session, (command.args or "").split(), access=access, clock=clock)
    if isinstance(parsed, str):
        await message.answer(parsed or texts.STAFF_USAGE_REOPEN)
        return
    doctor, since, until, _ = parsed
    count = await staff.reopen_time(
        session,
        doctor=doctor,
        since=since,
        until=until,
        now=clock.now(),
        horizon_days=settings.booking.horizon_days,
    )
    await message.answer(
        texts.STAFF_REOPENED.format(count=count) if count else texts.STAFF_NOTHING_TO_REOPEN
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsStaff())
    router.callback_query.filter(IsStaff())
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_find, Command("find"))
    router.message.register(cmd_day, Command("day"))
    router.message.register(cmd_history, Command("history"))
    router.message.register(cmd_staff, Command("staff"))
    # A command is never taken for the reason: it leaves the cancellation instead.
    router.message.register(typed_reason, StaffFlow.cancel_reason, F.text, ~F.text.startswith("/"))
    router.callback_query.register(on_cancel, StaffCancel.filter(), F.message)
    router.callback_query.register(on_move, StaffMove.filter(), F.message)
    router.message.register(cmd_close, Command("close"))
    router.message.register(cmd_reopen, Command("reopen"))
    router.callback_query.register(on_close, StaffClose.filter(), F.message)
    return router
