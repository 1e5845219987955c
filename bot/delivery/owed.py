"""Sending what a use case owes: tickets, calendar files and notices, each to its chat.

The acting chat just wrote to the bot, so its messages go straight out. Any other chat (the
account that booked, a patient the registry changed) hears from the bot unprompted: those
messages go through the shared limiter, wait out 429 and mark a blocked chat unreachable.
Files are rendered from the booking as it is at sending time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot import texts
from bot.delivery.documents import send_calendar, send_ticket
from bot.delivery.limiter import RateLimiter
from bot.delivery.notify import send_paced
from bot.i18n import current_locale, t, use_locale
from bot.keyboards import booking as kb
from bot.keyboards.alternatives import alternatives as alternatives_kb
from bot.services.languages import language_of
from bot.services.visits import VisitRecord, load_visit
from bot.usecases.outcomes import CalendarOwed, NoticeKind, NoticeOwed, Owed, TicketOwed
from db.models import Doctor, Slot


async def deliver(
    bot: Bot,
    session: AsyncSession,
    owed: Sequence[Owed],
    *,
    acting_chat: int,
    now: datetime,
    limiter: RateLimiter,
) -> bool:
    """Send everything owed, in order. True if every message to another chat was taken."""
    told = True
    for item in owed:
        visit = await load_visit(session, booking_id=item.booking_id)
        if visit is None:
            continue
        direct = item.chat_id == acting_chat
        # Another chat reads its own language, not the acting person's.
        language = current_locale() if direct else await language_of(session, chat_id=item.chat_id)
        with use_locale(language):
            send = await _sender(bot, session, item, visit=visit, now=now, direct=direct)
            if direct:
                await send()
            else:
                told &= await send_paced(
                    session, chat_id=item.chat_id, send=send, now=now, limiter=limiter
                )
    return told


async def _sender(
    bot: Bot,
    session: AsyncSession,
    item: Owed,
    *,
    visit: VisitRecord,
    now: datetime,
    direct: bool,
) -> Callable[[], Awaitable[object]]:
    match item:
        case TicketOwed(chat_id=chat):
            # In the chat that acted, the ticket closes the dialogue: «В начало» under it.
            markup = kb.start_only() if direct else None
            return lambda: send_ticket(bot, chat, visit, issued_at=now, markup=markup)
        case CalendarOwed(chat_id=chat, cancelled=cancelled):
            return lambda: send_calendar(bot, chat, visit, now=now, cancelled=cancelled)
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
    match item.kind:
        case NoticeKind.CANCELLED_BY_OTHER:
            return t("cancelled-by-other", details=details), None
        case NoticeKind.MOVED_BY_OTHER:
            return t("moved-by-other", details=details), None
        case NoticeKind.CANCELLED_BY_REGISTRY:
            text = t("cancelled-by-registry", reason=reason, details=details, phone=phone)
            return text, None
        case NoticeKind.MOVED_BY_REGISTRY:
            return t("moved-by-registry", details=details, phone=phone), None
        case NoticeKind.CLOSED_BY_REGISTRY:
            offer = await _slots(session, item.alternatives)
            text = t(
                "closed-by-registry",
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
