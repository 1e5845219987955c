"""Screens of the booking dialogue: text and keyboard built from the domain, shown in place."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.keyboards import booking as kb
from bot.keyboards.callbacks import DayPick
from bot.services import catalog, slots
from bot.services.consent import agreement_text
from bot.texts import esc


class Screen(NamedTuple):
    text: str
    markup: InlineKeyboardMarkup | None = None


def new_session_id() -> str:
    return secrets.token_hex(4)


async def show(target: CallbackQuery | Message, screen: Screen) -> Message | None:
    """Edit the pressed message in place, or send a new one after typed input."""
    if isinstance(target, Message):
        return await target.answer(screen.text, reply_markup=screen.markup)
    message = target.message
    # A document (the ticket) is never replaced: the patient keeps it in the chat.
    if isinstance(message, Message) and message.text is not None:
        if message.html_text == screen.text and _same_markup(message.reply_markup, screen.markup):
            return message
        try:
            edited = await message.edit_text(screen.text, reply_markup=screen.markup)
        except TelegramBadRequest as error:
            # Two quick taps race past the check above; the second edit changes nothing.
            if "message is not modified" not in error.message:
                raise
            return message
        return edited if isinstance(edited, Message) else message
    if target.from_user is None:
        return None
    return await target.bot.send_message(  # type: ignore[union-attr]
        target.from_user.id, screen.text, reply_markup=screen.markup
    )


def _markup_data(markup: InlineKeyboardMarkup | None) -> dict[str, object] | None:
    # Compared as data: objects that came in an update also carry the bot instance.
    return markup.model_dump(exclude_none=True) if markup is not None else None


def _same_markup(a: InlineKeyboardMarkup | None, b: InlineKeyboardMarkup | None) -> bool:
    return _markup_data(a) == _markup_data(b)


async def organizations(session: AsyncSession, *, sid: str, page: int = 0) -> Screen:
    orgs = await catalog.list_organizations(session)
    if not orgs:
        return Screen(texts.NO_ORGANIZATIONS)
    return Screen(texts.CHOOSE_ORGANIZATION, kb.organizations(sid, orgs, page=page))


async def services(
    session: AsyncSession, *, sid: str, organization_id: int, page: int = 0
) -> Screen | None:
    org = await catalog.get_organization(session, organization_id)
    if org is None:
        return None
    items = await catalog.list_services(session, organization_id=org.id)
    template = texts.CHOOSE_SERVICE if items else texts.NO_SERVICES
    return Screen(
        template.format(org=esc(org.name)),
        kb.services(sid, organization_id=org.id, items=items, page=page),
    )


async def doctors(
    session: AsyncSession, *, sid: str, service_id: int, page: int = 0
) -> Screen | None:
    service = await catalog.get_service(session, service_id)
    if service is None:
        return None
    items = await catalog.list_doctors(session, service_id=service.id)
    template = texts.CHOOSE_DOCTOR if items else texts.NO_DOCTORS
    markup = kb.doctors(
        sid,
        organization_id=service.organization_id,
        service_id=service.id,
        items=items,
        page=page,
    )
    return Screen(
        template.format(org=esc(service.organization.name), service=esc(service.name)), markup
    )


async def days(
    session: AsyncSession,
    *,
    sid: str,
    service_id: int,
    doctor_id: int,
    now: datetime,
    settings: Settings,
) -> Screen | None:
    doctor = await catalog.get_doctor_for_service(
        session, doctor_id=doctor_id, service_id=service_id
    )
    service = await catalog.get_service(session, service_id)
    if doctor is None or service is None:
        return None
    views = await slots.doctor_days(
        session,
        doctor_id=doctor.id,
        tz=ZoneInfo(doctor.organization.timezone),
        now=now,
        horizon_days=settings.booking.horizon_days,
    )
    text = texts.CHOOSE_DAY.format(
        doctor=esc(doctor.full_name), position=esc(doctor.position), service=esc(service.name)
    )
    return Screen(text, kb.days(sid, service_id=service_id, doctor_id=doctor.id, items=views))


def parse_day(raw: str) -> date | None:
    try:
        return datetime.strptime(raw, "%Y%m%d").date()
    except ValueError:
        return None


async def times(
    session: AsyncSession,
    *,
    sid: str,
    pick: DayPick,
    now: datetime,
    settings: Settings,
    notice: str | None = None,
) -> Screen | None:
    """The day's times, or None when the day is not one of the bookable ones."""
    day = parse_day(pick.day)
    doctor = await catalog.get_doctor_for_service(session, doctor_id=pick.doc, service_id=pick.svc)
    service = await catalog.get_service(session, pick.svc)
    if day is None or doctor is None or service is None:
        return None
    tz = ZoneInfo(doctor.organization.timezone)
    today = now.astimezone(tz).date()
    if not 0 <= (day - today).days < settings.booking.horizon_days:
        return None
    items = await slots.day_slots(session, doctor_id=doctor.id, day=day, tz=tz, now=now)
    template = texts.CHOOSE_TIME if items else texts.NO_TIMES
    text = template.format(
        doctor=esc(doctor.full_name), service=esc(service.name), day=texts.long_day(day)
    )
    if notice:
        text = f"{notice}\n\n{text}"
    markup = kb.times(
        sid,
        service_id=service.id,
        doctor_id=doctor.id,
        day=day,
        items=items,
        tz=tz,
        page=pick.page,
        per_page=settings.booking.slots_per_page,
    )
    return Screen(text, markup)


def consent(*, sid: str, settings: Settings, back: str) -> Screen:
    intro = texts.CONSENT_INTRO.format(version=esc(settings.consent.version))
    return Screen(intro + esc(agreement_text(settings.consent.file)), kb.consent(sid, back=back))
