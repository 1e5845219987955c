"""Registry staff commands. To anyone else they do not exist: the access filter sits on the
router, so their updates fall through to the ordinary handlers like any unknown command."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import Message, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.services import audit, staff
from bot.services.clock import Clock
from bot.services.dates import local_when, long_day
from bot.services.identity import mask
from bot.texts import esc
from db.models import Booking


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
        await message.answer(_card(booking))


def _parse_day(raw: str, *, today: datetime) -> datetime | None:
    for pattern in ("%d.%m.%Y", "%d.%m"):
        try:
            parsed = datetime.strptime(raw, pattern)
        except ValueError:
            continue
        return parsed.replace(year=today.year) if pattern == "%d.%m" else parsed
    return None


async def cmd_day(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    access: staff.StaffAccess,
    clock: Clock,
) -> None:
    words = (command.args or "").split()
    if not words:
        await message.answer(texts.STAFF_USAGE_DAY)
        return
    doctors = await staff.find_doctors(session, query=words[0], access=access)
    if not doctors:
        await message.answer(texts.STAFF_NOTHING_FOUND)
        return
    if len(doctors) > 1:
        codes = ", ".join(f"{d.code} ({d.short_name})" for d in doctors)
        await message.answer(texts.STAFF_DOCTOR_AMBIGUOUS.format(codes=esc(codes)))
        return
    doctor = doctors[0]
    today = clock.now().astimezone(ZoneInfo(doctor.organization.timezone))
    day = _parse_day(words[1], today=today) if len(words) > 1 else today
    if day is None:
        await message.answer(texts.STAFF_BAD_DATE)
        return
    rows = await staff.doctor_day(session, doctor=doctor, day=day.date())
    tz = ZoneInfo(doctor.organization.timezone)
    if not rows:
        await message.answer(
            texts.STAFF_DAY_EMPTY.format(doctor=esc(doctor.full_name), day=long_day(day.date()))
        )
        return
    lines = "\n".join(
        f"{row.slot.starts_at.astimezone(tz):%H:%M} — "
        + (
            f"{esc(row.booking.patient.full_name)}, талон {esc(row.booking.ticket_number)}"
            if row.booking
            else ("свободно" if row.slot.is_open else "закрыто")
        )
        for row in rows
    )
    await message.answer(
        texts.STAFF_DAY.format(
            doctor=esc(doctor.full_name),
            position=esc(doctor.position),
            day=long_day(day.date()),
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
        if entry.after and "starts_at" in entry.after:
            moment = datetime.fromisoformat(entry.after["starts_at"]).astimezone(tz)
            change = f" → {moment:%d.%m.%Y %H:%M}"
        who = texts.ACTOR_NAMES.get(entry.actor, entry.actor)
        if entry.actor_telegram_id:
            who = f"{who} {entry.actor_telegram_id}"
        reason = f" ({esc(entry.reason)})" if entry.reason else ""
        action = texts.ACTION_NAMES.get(entry.action, entry.action)
        lines.append(f"{when:%d.%m.%Y %H:%M} — {action}{change}, {who}{reason}")
    await message.answer(
        texts.STAFF_HISTORY.format(ticket=esc(booking.ticket_number), lines="\n".join(lines))
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
        members = "\n".join(
            f"• {m.telegram_user_id}"
            + (f" ({', '.join(m.organization_codes)})" if m.organization_codes else "")
            for m in listed
        )
        admins = ", ".join(str(a) for a in settings.staff.admins) or "—"
        await message.answer(texts.STAFF_LIST.format(admins=admins, members=members or "—"))
        return
    if words[0] not in ("add", "remove") or len(words) < 2 or not words[1].isdigit():
        await message.answer(texts.STAFF_USAGE_STAFF)
        return
    member_id = int(words[1])
    if words[0] == "remove":
        removed = await staff.remove_member(session, telegram_user_id=member_id)
        template = texts.STAFF_REMOVED if removed else texts.STAFF_NOT_MEMBER
        await message.answer(template.format(id=member_id))
        return
    try:
        await staff.add_member(
            session,
            telegram_user_id=member_id,
            organization_codes=words[2:],
            added_by=access.telegram_user_id,
            now=clock.now(),
        )
    except staff.StaffError as error:
        await message.answer(esc(str(error)))
        return
    scope = f" (организации: {esc(', '.join(words[2:]))})" if words[2:] else ""
    await message.answer(texts.STAFF_ADDED.format(id=member_id, scope=scope))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsStaff())
    router.callback_query.filter(IsStaff())
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_find, Command("find"))
    router.message.register(cmd_day, Command("day"))
    router.message.register(cmd_history, Command("history"))
    router.message.register(cmd_staff, Command("staff"))
    return router
