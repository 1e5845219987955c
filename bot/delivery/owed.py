"""How each owed message looks and goes out: the confirmation, the ticket, the calendar file
and the notices, rendered from the booking as it is at sending time.

Which rows are sent when, paced and marked, is bot/delivery/outbox.py's business; this
module turns one owed message into the call to Telegram that sends it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot import texts
from bot.delivery.documents import send_calendar, send_ticket
from bot.i18n import t
from bot.keyboards import booking as kb
from bot.keyboards.alternatives import alternatives as alternatives_kb
from bot.services.accounts import is_remembered
from bot.services.installation import installation_uid
from bot.services.outbox import (
    BookedOwed,
    CalendarOwed,
    NoticeKind,
    NoticeOwed,
    Owed,
    TicketOwed,
)
from bot.services.visits import VisitRecord
from db.models import Doctor, Slot

Send = Callable[[], Awaitable[object]]


async def sender(
    bot: Bot,
    session: AsyncSession,
    item: Owed,
    *,
    visit: VisitRecord,
    now: datetime,
    direct: bool,
) -> Send:
    """The call that sends `item` (read in the caller's session, in the current language)."""
    match item:
        case BookedOwed(chat_id=chat, screen=screen):
            remembered = await is_remembered(
                session, telegram_user_id=chat, patient_id=visit.patient_id
            )
            text = t("booked", details=texts.ticket_details(visit))
            markup = None if remembered else kb.remember(visit.booking_id)
            return lambda: _confirm(bot, chat, screen, text, markup)
        case TicketOwed(chat_id=chat):
            # In the chat that acted, the ticket closes the dialogue: «В начало» under it.
            markup = kb.start_only() if direct else None
            return lambda: send_ticket(bot, chat, visit, issued_at=now, markup=markup)
        case CalendarOwed(chat_id=chat, cancelled=cancelled):
            # Read here, in the caller's session: the file's UID names the installation.
            installation = await installation_uid(session)
            return lambda: send_calendar(
                bot, chat, visit, now=now, cancelled=cancelled, installation=installation
            )
        case NoticeOwed():
            text, markup = await _notice(session, item, visit=visit, now=now)
            return lambda: bot.send_message(item.chat_id, text, reply_markup=markup)
    raise AssertionError(item)


async def _notice(
    session: AsyncSession, item: NoticeOwed, *, visit: VisitRecord, now: datetime
) -> tuple[str, InlineKeyboardMarkup | None]:
    details = texts.ticket_details(visit)
    phone = texts.esc(visit.organization_phone)
    reason = texts.esc(item.reason or "")
    # Every notice names the patient (surname and initials) near its top: a parent who
    # remembers several children sees at once whose visit it is.
    patient = texts.esc(visit.patient_short_name)
    match item.kind:
        case NoticeKind.CANCELLED_BY_OTHER:
            return t("cancelled-by-other", patient=patient, details=details), None
        case NoticeKind.MOVED_BY_OTHER:
            return t("moved-by-other", patient=patient, details=details), None
        case NoticeKind.CANCELLED_BY_REGISTRY:
            text = t(
                "cancelled-by-registry",
                patient=patient,
                reason=reason,
                details=details,
                phone=phone,
            )
            return text, None
        case NoticeKind.MOVED_BY_REGISTRY:
            return t("moved-by-registry", patient=patient, details=details, phone=phone), None
        case NoticeKind.CLOSED_BY_REGISTRY:
            offer = await _slots(session, item.alternatives)
            text = t(
                "closed-by-registry",
                patient=patient,
                reason=reason,
                details=details,
                offer=t("alternatives-offer") if offer else t("no-alternatives"),
                phone=phone,
            )
            return text, alternatives_kb(visit.booking_id, offer)
    raise AssertionError(item.kind)


async def _slots(session: AsyncSession, slot_ids: Sequence[int]) -> list[Slot]:
    if not slot_ids:
        return []
    found = await session.scalars(
        select(Slot)
        .where(Slot.id.in_(slot_ids))
        .options(selectinload(Slot.doctor).selectinload(Doctor.organization))
    )
    by_id = {slot.id: slot for slot in found}
    return [by_id[i] for i in slot_ids if i in by_id]


async def _confirm(
    bot: Bot, chat_id: int, screen: int | None, text: str, markup: InlineKeyboardMarkup | None
) -> object:
    """The pressed screen becomes the confirmation; sent anew if it can't be edited. An edit
    is idempotent: sent again after a crash, Telegram answers "not modified"."""
    if screen is not None:
        try:
            return await bot.edit_message_text(
                text=text, chat_id=chat_id, message_id=screen, reply_markup=markup
            )
        except TelegramBadRequest as error:
            if "message is not modified" in error.message:
                return True
    return await bot.send_message(chat_id, text, reply_markup=markup)
