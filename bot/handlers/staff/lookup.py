"""Read-only staff commands: /find a booking, a doctor's /day, a booking's /history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.handlers.staff import render
from bot.i18n import t
from bot.keyboards import staff as kb
from bot.services import audit
from bot.services.clock import Clock
from bot.services.staff import search
from bot.services.staff.access import StaffAccess
from bot.services.staff.args import BadDate, day_window, parse_day_argument
from bot.services.visits import load_visits
from db.models import Doctor


async def cmd_find(
    message: Message, command: CommandObject, session: AsyncSession, access: StaffAccess
) -> None:
    if not command.args:
        await message.answer(t("staff-usage-find"))
        return
    found = await search.find_bookings(session, query=command.args, access=access)
    if not found:
        await message.answer(t("staff-nothing-found"))
        return
    visits = await load_visits(session, booking_ids=[booking.id for booking in found])
    for booking in found:
        visit = visits[booking.id]
        await message.answer(render.card(visit), reply_markup=kb.staff_card(visit))


async def cmd_day(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    access: StaffAccess,
    clock: Clock,
    settings: Settings,
) -> None:
    words = (command.args or "").split()
    if not words:
        # No doctor given: the doctors to choose from, with their codes.
        listed = await search.doctors_in_scope(session, access=access)
        await message.answer(render.doctors_to_choose(listed))
        return
    doctor = await _one_doctor(session, query=words[0], access=access)
    if isinstance(doctor, str):
        await message.answer(doctor)
        return
    day = _day_asked(words[1:], doctor=doctor, clock=clock)
    if isinstance(day, str):
        await message.answer(day)
        return
    rows = await search.doctor_day(session, doctor=doctor, day=day)
    if not rows and len(words) == 1:
        # No date asked and no appointments today: the day the registry will want instead.
        horizon = settings.booking.horizon_days
        await message.answer(await _next_working_day(session, doctor, today=day, horizon=horizon))
        return
    await message.answer(render.doctor_day(doctor, day, rows))


async def _next_working_day(
    session: AsyncSession, doctor: Doctor, *, today: date, horizon: int
) -> str:
    """The doctor's nearest working day after today within the booking horizon (the days slots
    are made for), with its schedule; or that there is none."""
    last = today + timedelta(days=horizon)
    day = await search.next_working_day(session, doctor=doctor, after=today, last=last)
    if day is None:
        return render.no_working_day(doctor, today, last)
    rows = await search.doctor_day(session, doctor=doctor, day=day)
    return render.next_working_day(doctor, day, rows)


async def _one_doctor(session: AsyncSession, *, query: str, access: StaffAccess) -> Doctor | str:
    """The doctor meant, or why not one: none found, or several to choose from."""
    doctors = await search.find_doctors(session, query=query, access=access)
    if not doctors:
        return t("staff-nothing-found")
    if len(doctors) > 1:
        return render.ambiguous(
            [f"{d.organization.code}:{d.code} ({d.short_name})" for d in doctors]
        )
    return doctors[0]


def _day_asked(words: Sequence[str], *, doctor: Doctor, clock: Clock) -> date | str:
    """The day typed (today in the doctor's zone if none), or why it is refused."""
    today = clock.now().astimezone(ZoneInfo(doctor.organization.timezone)).date()
    if not words:
        return today
    window = day_window(today)
    day = parse_day_argument(words[0], today=today, window=window)
    return render.date_refusal(day, window) if isinstance(day, BadDate) else day


async def cmd_history(
    message: Message, command: CommandObject, session: AsyncSession, access: StaffAccess
) -> None:
    if not command.args:
        await message.answer(t("staff-usage-history"))
        return
    # The whole argument: a ticket number is dictated in groups («482 917 305»).
    booking = await search.find_ticket(session, query=command.args, access=access)
    if booking is None:
        await message.answer(t("staff-nothing-found"))
        return
    entries = await audit.history(session, booking_id=booking.id)
    await message.answer(render.history(booking, entries))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_find, Command("find"))
    router.message.register(cmd_day, Command("day"))
    router.message.register(cmd_history, Command("history"))
    return router
