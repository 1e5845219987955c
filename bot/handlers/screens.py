"""Screens of the booking dialogue: text and keyboard built from the domain, shown in place."""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from datetime import date, datetime, timedelta
from html import unescape
from typing import Any, Final, NamedTuple
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Settings
from bot.i18n import current_locale, t
from bot.keyboards import booking as kb
from bot.keyboards.callbacks import DayPick
from bot.services import catalog, guarantee, slots
from bot.services.catalog import DoctorRef, OrganizationRef, ServiceRef
from bot.services.consent import agreement_text
from bot.services.dates import local_when, long_day
from bot.services.payment import payment_text
from bot.texts import esc
from db.models import Slot

# Telegram refuses a longer text (UTF-16 code units of the text once its HTML is parsed).
MESSAGE_CHARS: Final = 4096
# The agreement leaves too little room for a summary of names at the import's limits
# (app.MAX_AGREEMENT_CHARS): then each name is cut to the first of these that fits.
_SUMMARY_FIELD_CHARS: Final = (None, 120, 80, 40)
_TAG: Final = re.compile(r"<[^>]*>")


class Screen(NamedTuple):
    text: str
    markup: InlineKeyboardMarkup | None = None


class Choice(NamedTuple):
    """What the patient chose, before it is booked."""

    service: ServiceRef
    doctor: DoctorRef
    starts_at: datetime


def plain_length(html: str) -> int:
    """The length Telegram counts of a text the bot composed: without its tags, entities
    decoded (values are escaped, so each «<» starts a tag)."""
    return len(unescape(_TAG.sub("", html)).encode("utf-16-le")) // 2


class _ShownScreens:
    """What the bot last put into each message, per Bot instance.

    A double tap delivers two callbacks that both carry the message as it was before the
    first edit; this memory lets the second one see that the screen is already there, so the
    bot never asks Telegram to edit a message into its current content.
    """

    LIMIT = 4096

    def __init__(self) -> None:
        self._by_bot: WeakKeyDictionary[Bot, OrderedDict[tuple[int, int], str]] = (
            WeakKeyDictionary()
        )

    @staticmethod
    def digest(screen: Screen) -> str:
        markup = json.dumps(_markup_data(screen.markup), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(f"{screen.text}\x00{markup}".encode()).hexdigest()

    def is_shown(self, bot: Bot, message: Message, screen: Screen) -> bool:
        if message.html_text == screen.text and _markup_data(message.reply_markup) == (
            _markup_data(screen.markup)
        ):
            return True
        shown = self._by_bot.get(bot, OrderedDict())
        return shown.get((message.chat.id, message.message_id)) == self.digest(screen)

    def remember(self, bot: Bot, message: Message, screen: Screen) -> None:
        shown = self._by_bot.setdefault(bot, OrderedDict())
        key = (message.chat.id, message.message_id)
        shown[key] = self.digest(screen)
        shown.move_to_end(key)
        while len(shown) > self.LIMIT:
            shown.popitem(last=False)


_shown = _ShownScreens()


async def show_if(target: CallbackQuery | Message, screen: Screen | None) -> None:
    if screen is not None:
        await show(target, screen)


async def show(target: CallbackQuery | Message, screen: Screen) -> Message | None:
    """Edit the pressed message in place, or send a new one after typed input."""
    if isinstance(target, Message):
        return await target.answer(screen.text, reply_markup=screen.markup)
    message, bot = target.message, target.bot
    assert bot is not None
    # A document (the ticket) is never replaced: the patient keeps it in the chat.
    if isinstance(message, Message) and message.text is not None:
        if _shown.is_shown(bot, message, screen):
            return message
        try:
            edited = await message.edit_text(screen.text, reply_markup=screen.markup)
        except TelegramBadRequest as error:
            if "message is not modified" not in error.message:
                raise
            return message
        _shown.remember(bot, message, screen)
        return edited if isinstance(edited, Message) else message
    return await bot.send_message(target.from_user.id, screen.text, reply_markup=screen.markup)


def _markup_data(markup: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    # Compared as data: objects that came in an update also carry the bot instance.
    return markup.model_dump(exclude_none=True) if markup is not None else None


async def organizations(session: AsyncSession, *, sid: str, page: int = 0) -> Screen:
    orgs = await catalog.list_organizations(session)
    if not orgs:
        return Screen(t("no-organizations"))
    return Screen(t("choose-organization"), kb.organizations(sid, orgs, page=page))


async def services(
    session: AsyncSession, *, sid: str, organization_id: int, page: int = 0
) -> Screen | None:
    org = await catalog.get_organization(session, organization_id)
    if org is None:
        return None
    items = await catalog.list_services(session, organization_id=org.id)
    template = "choose-service" if items else "no-services"
    text = t(template, org=esc(org.name))
    if any(service.paid for service in items):
        # Only paid buttons carry a price: say once what the others are.
        text += "\n\n" + t("services-paid-note")
    return Screen(text, kb.services(sid, organization_id=org.id, items=items, page=page))


async def doctors(
    session: AsyncSession, *, sid: str, service_id: int, page: int = 0
) -> Screen | None:
    service = await catalog.get_service(session, service_id)
    if service is None:
        return None
    items = await catalog.list_doctors(session, service_id=service.id)
    template = "choose-doctor" if items else "no-doctors"
    markup = kb.doctors(
        sid,
        organization_id=service.organization_id,
        service_id=service.id,
        items=items,
        page=page,
        by_district=service.by_district,
    )
    text = t(template, org=esc(service.organization.name), service=esc(service.name))
    if service.by_district and items:
        text += "\n\n" + t("doctors-by-district-note")
    return Screen(text, markup)


async def days(
    session: AsyncSession,
    *,
    sid: str,
    service_id: int,
    doctor_id: int,
    now: datetime,
    settings: Settings,
    user_id: int | None = None,
) -> Screen | None:
    """The doctor's days; above them, when the service's first free OMS time is beyond the
    state's guarantee, the plain words and the phone (the case is recorded for `user_id`)."""
    doctor = await catalog.get_doctor_for_service(
        session, doctor_id=doctor_id, service_id=service_id
    )
    service = await catalog.get_service(session, service_id)
    if doctor is None or service is None:
        return None
    tz = ZoneInfo(doctor.organization.timezone)
    horizon = settings.booking.horizon_days
    views = await slots.doctor_days(
        session, doctor_id=doctor.id, tz=tz, now=now, horizon_days=horizon
    )
    text = t(
        "choose-day",
        doctor=esc(doctor.full_name),
        position=esc(doctor.position),
        service=esc(service.name),
    )
    if user_id is not None:
        missed = await _missed_guarantee(
            session, service, tz=tz, now=now, horizon=horizon, user_id=user_id
        )
        if missed:
            text = f"{missed}\n\n{text}"
    return Screen(text, kb.days(sid, service_id=service_id, doctor_id=doctor.id, items=views))


def guarantee_text(service: ServiceRef) -> str | None:
    """The guarantee in words («24 ч», «14 рабочих дней»), None without one."""
    if service.max_wait_hours is not None:
        return t("guarantee-hours", hours=service.max_wait_hours)
    if service.max_wait_working_days is not None:
        return t("guarantee-working-days", days=service.max_wait_working_days)
    return None


async def _missed_guarantee(
    session: AsyncSession,
    service: ServiceRef,
    *,
    tz: ZoneInfo,
    now: datetime,
    horizon: int,
    user_id: int,
) -> str | None:
    limit = guarantee_text(service)
    if limit is None or service.paid:
        return None
    _, until = slots.local_day_bounds(now.astimezone(tz).date() + timedelta(days=horizon - 1), tz)
    missed = await guarantee.missed_guarantee(
        session,
        service_id=service.id,
        paid=service.paid,
        hours=service.max_wait_hours,
        working_days=service.max_wait_working_days,
        tz=tz,
        now=now,
        horizon_until=until,
        user_id=user_id,
        limit_text=limit,
    )
    if missed is None:
        return None
    first = (
        local_when(missed.first_free, service.organization.timezone)
        if missed.first_free is not None
        else t("guarantee-none")
    )
    return t(
        "guarantee-missed",
        service=esc(service.name),
        limit=limit,
        first=first,
        phone=esc(service.organization.phone),
    )


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
    template = "choose-time" if items else "no-times"
    text = t(template, doctor=esc(doctor.full_name), service=esc(service.name), day=long_day(day))
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


def consent(
    *,
    sid: str,
    settings: Settings,
    back: str,
    operator: OrganizationRef | None,
    choice: Choice | None = None,
) -> Screen:
    """The agreement, naming its operator: the organization booked with, or for the account's
    own list of patients none (then the bot's operator keeps the data). Above it the choice
    it is asked for, the summary every later step shows; its names are cut when the whole
    would not fit in one message (never the date and time)."""
    intro = t("consent-intro", version=esc(settings.consent.version))
    if operator is None:
        who = t("consent-operator-account")
    else:
        who = t("consent-operator", name=esc(operator.name), address=esc(operator.address))
    agreement = settings.consent.file_for(current_locale())
    text = f"{intro}\n{who}\n\n{esc(agreement_text(agreement))}"
    if choice is not None:
        for field_chars in _SUMMARY_FIELD_CHARS:
            summary = summary_text(choice, field_chars=field_chars)
            with_choice = f"{t('chosen', summary=summary)}\n\n{text}"
            if plain_length(with_choice) <= MESSAGE_CHARS:
                text = with_choice
                break
    return Screen(text, kb.consent(sid, back=back))


async def load_choice(session: AsyncSession, *, slot_id: int, service_id: int) -> Choice | None:
    """The chosen slot's doctor and time with the chosen service; None if one is gone."""
    slot = (
        await session.execute(select(Slot.starts_at, Slot.doctor_id).where(Slot.id == slot_id))
    ).one_or_none()
    service = await catalog.get_service(session, service_id)
    doctor = await catalog.get_doctor(session, slot.doctor_id) if slot is not None else None
    if slot is None or service is None or doctor is None:
        return None
    return Choice(service=service, doctor=doctor, starts_at=slot.starts_at)


def _cut(value: str, chars: int | None) -> str:
    return value if chars is None or len(value) <= chars else value[: chars - 1] + "…"


def summary_text(choice: Choice, *, field_chars: int | None = None) -> str:
    """What the patient chose: organization, doctor, service, local date and time; each name
    cut to `field_chars` characters when given."""
    service, doctor = choice.service, choice.doctor
    zone = service.organization.timezone
    summary = t(
        "choice-summary",
        org=texts.esc(_cut(service.organization.name, field_chars)),
        doctor=texts.esc(_cut(doctor.full_name, field_chars)),
        position=texts.esc(_cut(doctor.position, field_chars)),
        service=texts.esc(_cut(service.name, field_chars)),
        when=local_when(choice.starts_at, zone),
    )
    # Where to go and what it costs, before anything is booked.
    room = doctor.room_on(choice.starts_at.astimezone(ZoneInfo(zone)).weekday())
    lines = [summary]
    if room:
        lines.append(t("summary-room", room=texts.esc(_cut(room, field_chars))))
    lines.append(t("summary-payment", payment=payment_text(paid=service.paid, price=service.price)))
    return "\n".join(lines)


async def choice_summary(session: AsyncSession, *, slot_id: int, service_id: int) -> str | None:
    """What the patient chose, before it is booked: doctor, service, local date and time."""
    choice = await load_choice(session, slot_id=slot_id, service_id=service_id)
    return summary_text(choice) if choice is not None else None
