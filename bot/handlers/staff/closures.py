"""/close a doctor's time (its bookings cancelled, the patients offered other times) after a
confirmation, and /reopen it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.config import Settings
from bot.delivery.outbox import Outbox
from bot.handlers import screens
from bot.handlers.staff import render
from bot.i18n import Count, t
from bot.keyboards import staff as kb
from bot.keyboards.callbacks import StaffClose
from bot.services.clock import Clock
from bot.services.slots import local_day_bounds
from bot.services.staff.access import StaffAccess
from bot.services.staff.args import (
    REASON_LIMIT,
    BadDate,
    BadTimeRange,
    parse_day_argument,
    parse_time_range,
    period_window,
)
from bot.services.staff.search import doctor_day, find_doctors
from bot.states import StaffFlow
from bot.usecases import registry
from db.models import Doctor


@dataclass(frozen=True, slots=True)
class _Period:
    doctor: Doctor
    since: datetime  # UTC
    until: datetime
    rest: list[str]  # the words after the date and hours


async def _period(
    session: AsyncSession, words: list[str], *, access: StaffAccess, clock: Clock
) -> _Period | str:
    """`<doctor> <date> [HH:MM-HH:MM] rest…` → doctor, UTC bounds, the rest; or an error text."""
    if len(words) < 2:
        return ""
    doctors = await find_doctors(session, query=words[0], access=access)
    if len(doctors) != 1:
        return render.ambiguous([d.code for d in doctors]) if doctors else t("staff-nothing-found")
    doctor = doctors[0]
    tz = ZoneInfo(doctor.organization.timezone)
    today = clock.now().astimezone(tz).date()
    window = period_window(today)
    day = parse_day_argument(words[1], today=today, window=window)
    if isinstance(day, BadDate):
        return render.date_refusal(day, window)
    since, until = local_day_bounds(day, tz)
    rest = words[2:]
    hours = parse_time_range(rest[0], day=day, tz=tz) if rest else None
    if isinstance(hours, BadTimeRange):
        return t("staff-bad-time-range")
    if hours is not None:
        (since, until), rest = hours, rest[1:]
    return _Period(doctor, since, until, rest)


async def cmd_close(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    access: StaffAccess,
    clock: Clock,
) -> None:
    parsed = await _period(session, (command.args or "").split(), access=access, clock=clock)
    if isinstance(parsed, str) or not parsed.rest:
        await message.answer(
            parsed if isinstance(parsed, str) and parsed else t("staff-usage-close")
        )
        return
    reason = " ".join(parsed.rest)[:REASON_LIMIT]
    count = await _bookings_to_cancel(session, parsed, clock=clock)
    nonce = secrets.token_hex(4)
    await state.set_state(StaffFlow.close_confirm)
    await state.set_data(
        {
            "close": {
                "nonce": nonce,
                "doctor": parsed.doctor.id,
                "since": parsed.since.isoformat(),
                "until": parsed.until.isoformat(),
                "reason": reason,
            }
        }
    )
    await message.answer(
        render.close_question(
            parsed.doctor, since=parsed.since, until=parsed.until, reason=reason, count=count
        ),
        reply_markup=kb.staff_close_confirm(nonce),
    )


async def _bookings_to_cancel(session: AsyncSession, period: _Period, *, clock: Clock) -> int:
    """The future bookings the closed time overlaps."""
    tz = ZoneInfo(period.doctor.organization.timezone)
    rows = await doctor_day(session, doctor=period.doctor, day=period.since.astimezone(tz).date())
    return sum(
        1
        for r in rows
        if r.booking
        and r.slot.starts_at < period.until
        and r.slot.ends_at > period.since
        and r.slot.starts_at > clock.now()
    )


async def on_close(
    query: CallbackQuery,
    callback_data: StaffClose,
    state: FSMContext,
    session: AsyncSession,
    access: StaffAccess,
    clock: Clock,
    outbox: Outbox,
) -> None:
    data = (await state.get_data()).get("close")
    # Only the confirmation of the closure on record: not an older /close's buttons.
    if not data or data.get("nonce") != callback_data.n:
        await query.answer(t("session-ended-alert"), show_alert=True)
        return
    await state.clear()
    await query.answer()
    if not callback_data.ok:
        await screens.show(query, screens.Screen(t("staff-kept")))
        return
    doctor = await session.get(Doctor, data["doctor"], options=[selectinload(Doctor.organization)])
    if doctor is None or not access.may_see(doctor.organization.code):
        await screens.show(query, screens.Screen(t("staff-nothing-found")))
        return
    answer = await _close(
        query, session, doctor=doctor, closure=data, access=access, clock=clock, outbox=outbox
    )
    await screens.show(query, screens.Screen(answer))


async def _close(
    query: CallbackQuery,
    session: AsyncSession,
    *,
    doctor: Doctor,
    closure: dict[str, Any],
    access: StaffAccess,
    clock: Clock,
    outbox: Outbox,
) -> str:
    """Close the time on record and tell its patients; the answer for the staff member."""
    now = clock.now()
    closed = await registry.close(
        session,
        doctor=doctor,
        since=datetime.fromisoformat(closure["since"]),
        until=datetime.fromisoformat(closure["until"]),
        reason=closure["reason"],
        access=access,
        now=now,
    )
    assert query.bot is not None
    # Sent now, so that the answer counts the patients told; a 429 leaves the rest queued.
    told = await outbox.send(query.bot, closed.queued)
    answer = t("staff-closed", count=closed.cancelled, notified=len(told.sent))
    if told.queued:
        answer += "\n" + t("staff-notices-queued", count=Count(len(told.queued)))
    return answer


async def cmd_reopen(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    access: StaffAccess,
    clock: Clock,
    settings: Settings,
) -> None:
    parsed = await _period(session, (command.args or "").split(), access=access, clock=clock)
    if isinstance(parsed, str):
        await message.answer(parsed or t("staff-usage-reopen"))
        return
    reopened = await registry.reopen(
        session,
        doctor=parsed.doctor,
        since=parsed.since,
        until=parsed.until,
        now=clock.now(),
        horizon_days=settings.booking.horizon_days,
        hold=settings.waitlist.hold,
    )
    count = reopened.touched
    await message.answer(
        t("staff-reopened", count=count) if count else t("staff-nothing-to-reopen")
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_close, Command("close"))
    router.message.register(cmd_reopen, Command("reopen"))
    router.callback_query.register(on_close, StaffClose.filter(), F.message)
    return router
